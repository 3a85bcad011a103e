"""吹哨 in a browser, on a phone: the 街道 ticks the 职能部门 by name (a field of several units), the page
passes axe-core's WCAG 2.1 AA rules with and without an error, and each department's 联络员 then finds
their own 部门报到 showing their department's name."""
from __future__ import annotations

import re

import pytest

from engine.people import units, users
from engine.store.db import Database
from engine.work import cases, runtime, tasklist
from tests.browser.axe import assert_accessible
from tests.browser.test_minqing_flow import sign_in
from tests.conftest import PASSWORD
from tests.minqing import INTAKE, PROCESS

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def summoning(live_server, tmp_path):
    """A 上报件 of 示范社区 waiting for 吹哨 at 东岗街道 (whose 上级部门 is `jd`), with two departments."""
    database = Database(f"sqlite:///{tmp_path / 'minyi.db'}")
    with database.write() as session:
        qu = units.create_unit(session, "test", "城关区", "区")
        street = units.create_unit(session, "test", "东岗街道", "街道", qu.id)
        community = units.create_unit(session, "test", "示范社区", "社区", street.id)
        ids = {name: units.create_unit(session, "test", name, "职能部门", qu.id, beside=True).id
               for name in ("区住建局", "区城管局")}
    grants = {"s_clerk": ("受理员", community.id), "s_leader": ("社区负责人", community.id),
              "s_handler": ("承办人", community.id), "jd": ("上级部门", street.id),
              "zj": ("联络员", ids["区住建局"]), "cg": ("联络员", ids["区城管局"])}
    people = {name: users.create_user(database, name, PASSWORD, name, [], grants=[grant])
              for name, grant in grants.items()}

    def do(who: str, which: str, **values) -> int:
        runtime.forget_all()
        [task] = tasklist.tasks(database, people[who], which).items
        cases.complete_task(database, people[who], task.id, values)
        return task.id

    cases.start_case(database, people["s_clerk"], PROCESS, INTAKE)
    do("s_leader", "queue", kind="上报件", handler="s_handler")
    do("s_handler", "inbox", report_department="东岗街道", report_content="主管道老化")
    do("jd", "queue", superior_decision="吹哨报到")
    [whistle] = tasklist.tasks(database, people["jd"], "inbox").items
    database.dispose()
    return whistle.id


def test_the_街道_ticks_the_departments_by_name_and_each_联络员_gets_their_own(live_server, new_page, summoning):
    page = new_page(viewport=PHONE)
    sign_in(page, live_server, "jd")
    page.goto(f"{live_server}/tasks/{summoning}")
    group = page.get_by_role("group", name="召集的职能部门")
    assert group.get_by_role("checkbox").count() == 2
    assert_accessible(page)
    page.get_by_role("button", name="提交办理").click()  # nothing ticked, nothing asked
    page.wait_for_load_state("load")
    assert page.locator("#err-whistle_departments").inner_text() == "此项为必填项"
    assert_accessible(page)
    group = page.get_by_role("group", name="召集的职能部门")
    group.get_by_label("区住建局").check()
    group.get_by_label("区城管局").check()
    page.get_by_label("吹哨事项(请各部门办理的内容)").fill("请到场更换主管道")
    page.get_by_role("button", name="提交办理").click()
    page.wait_for_url(f"{live_server}/tasks/inbox")
    for liaison, department in (("zj", "区住建局"), ("cg", "区城管局")):
        other = new_page(viewport=PHONE)
        sign_in(other, live_server, liaison)
        other.goto(f"{live_server}/tasks/queue")
        links = other.get_by_role("link", name=re.compile(r"^办理 MQ.* 部门报到$"))
        assert links.count() == 1
        links.first.click()
        other.wait_for_load_state("load")
        assert other.get_by_label("报到部门").input_value() == department
        assert_accessible(other)
