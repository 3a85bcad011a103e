"""The case page names people as staff know them: display names for staff, 系统 for the timer
worker, 居民 for a resident — while the audit log keeps the usernames it was sealed with."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.public import residents
from engine.work import casepages, cases, timers
from tests.conftest import PROCESSES

MATTER = {"topic": "贫困救助", "title": "申请临时救助", "description": "家中老人住院,生活困难。"}


@pytest.fixture
def line(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def do(db, staff, number: str, step_id: str, who: str, **values) -> None:
    step = next(s for s in casepages.get_case(db, staff["auditor"], number).open_steps if s.step_id == step_id)
    cases.complete_task(db, staff[who], step.task_id, values)


def test_history_and_comments_carry_display_names(line, staff, frozen_clock, tmp_path):
    number = residents.submit(line, MATTER, []).number
    do(line, staff, number, "UserTask_verify_online", "clerk", verified="受理")
    do(line, staff, number, "UserTask_classify", "leader", kind="补办件")
    do(line, staff, number, "UserTask_notify_missing", "handler", missing_documents="住院证明")
    frozen_clock.set(frozen_clock.value + timedelta(days=16))
    assert timers.fire_due(line) == 1
    cases.add_comment(line, staff["leader"], number, "请核实是否已联系居民")
    view = casepages.get_case(line, staff["auditor"], number)
    assert [(e.actor, e.actor_name) for e in view.history
            if e.kind in ("case_started", "task_completed", "timer_fired")] == [
        ("resident", "居民"), ("clerk", "王受理"), ("leader", "李主任"), ("handler", "张承办"),
        ("system", "系统")]
    assert [(c.author, c.author_name) for c in view.comments] == [("leader", "李主任")]
    assert view.started_by_name == "居民"
