"""People read names, never usernames, internal ids or English status words (issue #17: “已指派给 handler”,
部署人 designer, 状态 running, `due_at 2026-11-30T15:59:59+00:00`, `notified ['clerk']`). One 民情 case is
worked through routing, a reminder and an overdue notice; every page that shows it is scanned."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from lxml import html as lxml_html

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.people import users
from engine.work import deadlines
from tests.conftest import PASSWORD, PROCESSES, STAFF
from tests.minqing import Matter
from tests.web.conftest import login

ENGLISH = re.compile(r"\b(running|completed|READY|COMPLETED|due_at|notified|assignee|sameAssigneeAs|"
                     r"minqing_liushuixian)\b")
USERNAMES = re.compile(r"\b(" + "|".join(sorted(STAFF, key=len, reverse=True)) + r")\b")


def visible_text(page: str) -> str:
    """What a person reads: the text of the page, without scripts, styles and attribute values."""
    tree = lxml_html.fromstring(page)
    for hidden in tree.xpath("//script|//style"):
        hidden.drop_tree()
    return tree.text_content()


@pytest.fixture
def worked(minyi_db, staff_actors, frozen_clock):
    """A 承诺件 picked for 赵承办 and left to run past its reminder and its deadline."""
    deployments.deploy_directory(minyi_db, PROCESSES, SYSTEM)
    m = Matter(minyi_db, staff_actors)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-24", handler="handler2")
    for moment in (datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc),
                   datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)):
        frozen_clock.set(moment)
        deadlines.check_tasks(minyi_db, deadlines.due_checks(minyi_db, moment))
    users.create_user(minyi_db, "sheji", PASSWORD, "何设计", ["流程设计人员"])
    return m


@pytest.mark.parametrize("who, path", [
    ("leader", "/cases/{number}"),
    ("handler2", "/cases/{number}"),
    ("auditor", "/audit/cases/{number}"),
    ("auditor", "/audit/?process=minqing_liushuixian"),
    ("sheji", "/designer/"),
    ("handler2", "/tasks/inbox"),
])
def test_pages_of_a_worked_case_show_names_and_chinese_words_only(client, worked, who, path):
    login(client, who)
    response = client.get(path.format(number=worked.number))
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    text = visible_text(response.get_data(as_text=True))
    assert not USERNAMES.findall(text), USERNAMES.findall(text)
    assert not ENGLISH.findall(text), ENGLISH.findall(text)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", text), "a moment is shown as China time, not ISO"


def test_the_trace_words_reminders_and_assignments_for_people(client, worked):
    login(client, "auditor")
    text = re.sub(r"\s+", "", visible_text(client.get(f"/audit/cases/{worked.number}").get_data(as_text=True)))
    assert "指派给赵承办" in text and "已通知赵承办" in text
    assert "期限2026-11-2423:59" in text, "the deadline in China time"
