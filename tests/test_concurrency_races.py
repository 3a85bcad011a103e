"""Two writes to one case at the same moment (run on SQLite and on PostgreSQL).

The rule: each write either succeeds or is refused with a clear 409 (`Conflict`); nothing ends in a
database error, and the audit chain verifies afterwards. Writes that do not contradict each other
(two votes on two parallel items of one case) both succeed. Each race starts its threads behind a
barrier and is repeated a few times, with the workflow cache emptied so every thread reads the case
from the database.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest

from engine.actor import SYSTEM
from engine.audit import verify
from engine.bpmn import deployments
from engine.errors import Conflict
from engine.people import users
from engine.store import audit_chain, locks
from engine.work import casepages, cases, extensions, runtime
from tests.conftest import DATA, PASSWORD, PROCESSES, deploy_file

ROUNDS = 3
VOTE = dict(members="30", present="24", votes_for="20", votes_against="4",  # 会议日期: today, its default
            abstain="0", signed_by="与会代表")


def race(*calls: Callable[[], object]) -> list[str]:
    """Run the calls at once; each outcome is "ok", "409:<message>" or "error:<exception>"."""
    runtime.forget_all()
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
            outcomes[i] = "ok"
        except Conflict as exc:
            outcomes[i] = "409:" + exc.message
        except Exception as exc:  # noqa: BLE001 — the test reports it instead of losing it in a thread
            outcomes[i] = f"error:{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def assert_chain_verifies(db) -> None:
    verdict = verify.verify_database(db)
    assert verdict.broken is None, verdict.broken


def test_two_representatives_voting_on_parallel_items_of_one_case_both_succeed(db, staff):
    """简易程序: the items are voted one by one, in parallel steps; two votes at once are both kept."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    second = users.create_user(db, "daibiao2", PASSWORD, "王记录", ["居民代表会议"])
    for attempt in range(ROUNDS):
        number = cases.start_case(db, staff["liangwei"], "yizheng_jianyi", {
            "title": f"低保复核 {attempt}", "topic": "慰问品发放", "items": "第一户\n第二户",
            "opinion_summary": "无异议", "proposal": "按户发放"}).case_number
        review = [s.task_id for s in casepages.get_case(db, staff["auditor"], number).open_steps]
        cases.complete_task(db, staff["yishihui"], review[0], {"review_decision": "同意提交表决"})
        votes = [s.task_id for s in casepages.get_case(db, staff["auditor"], number).open_steps
                 if s.step_id == "UserTask_item_vote"]
        assert len(votes) == 2
        outcomes = race(partial(cases.complete_task, db, staff["daibiao"], votes[0], VOTE),
                        partial(cases.complete_task, db, second, votes[1], VOTE))
        assert outcomes == ["ok", "ok"]
        view = casepages.get_case(db, staff["auditor"], number)
        assert [s.step_id for s in view.open_steps] == ["UserTask_signoff"]
        assert len([e for e in view.history if e.kind == "task_completed" and e.step_id == "UserTask_item_vote"]) == 2
    assert_chain_verifies(db)


def _review_step(db, staff, title: str) -> tuple[str, int]:
    started = cases.start_case(db, staff["clerk"], "approval", {"title": title})
    return started.case_number, started.new_tasks[0].id


def _completions(db, staff, number: str) -> int:
    view = casepages.get_case(db, staff["leader"], number)
    return len([e for e in view.history if e.kind == "task_completed"])


def test_assigning_a_step_while_it_is_completed_ends_in_success_or_a_clear_conflict(db, staff):
    """指派 and 办理 of the same step at once: whichever comes second sees the first's result."""
    deploy_file(db, DATA / "approval.bpmn")
    users.create_user(db, "leader2", PASSWORD, "刘主任", ["社区负责人"])
    for attempt in range(ROUNDS):
        number, task_id = _review_step(db, staff, f"指派 {attempt}")
        outcomes = race(partial(cases.assign, db, staff["leader"], task_id, "leader2"),
                        partial(cases.complete_task, db, staff["leader"], task_id, {"decision": "同意"}))
        assert all(o == "ok" or o.startswith("409:") for o in outcomes), outcomes
        assert "ok" in outcomes
        assert _completions(db, staff, number) == (1 if outcomes[1] == "ok" else 0)
    assert_chain_verifies(db)


def test_two_people_claiming_one_step_at_once_exactly_one_gets_it(db, staff):
    deploy_file(db, DATA / "approval.bpmn")
    leader2 = users.create_user(db, "leader2", PASSWORD, "刘主任", ["社区负责人"])
    for attempt in range(ROUNDS):
        _, task_id = _review_step(db, staff, f"认领 {attempt}")
        outcomes = race(partial(cases.claim, db, staff["leader"], task_id), partial(cases.claim, db, leader2, task_id))
        assert sorted(o[:3] for o in outcomes) == ["409", "ok"], outcomes
        assert any("已由" in o and "认领" in o for o in outcomes)
    assert_chain_verifies(db)


def test_claiming_a_step_while_a_colleague_completes_it_ends_in_success_or_a_clear_conflict(db, staff):
    deploy_file(db, DATA / "approval.bpmn")
    leader2 = users.create_user(db, "leader2", PASSWORD, "刘主任", ["社区负责人"])
    for attempt in range(ROUNDS):
        number, task_id = _review_step(db, staff, f"认领办理 {attempt}")
        outcomes = race(partial(cases.claim, db, leader2, task_id),
                        partial(cases.complete_task, db, staff["leader"], task_id, {"decision": "同意"}))
        assert all(o == "ok" or o.startswith("409:") for o in outcomes), outcomes
        assert "ok" in outcomes
        assert _completions(db, staff, number) == (1 if outcomes[1] == "ok" else 0)
    assert_chain_verifies(db)


def test_urging_or_asking_for_more_time_while_the_step_is_completed_ends_in_success_or_a_clear_conflict(db, staff):
    """催办 and 延期申请 take the case's lock like a completion; the one that comes second sees the step done."""
    deploy_file(db, DATA / "approval.bpmn")
    for attempt in range(ROUNDS):
        number, task_id = _review_step(db, staff, f"催办 {attempt}")
        outcomes = race(partial(extensions.urge, db, staff["supervisor"], task_id, "请抓紧"),
                        partial(extensions.request_extension, db, staff["leader"], task_id, "材料未齐", "2030-01-01"),
                        partial(cases.complete_task, db, staff["leader"], task_id, {"decision": "同意"}))
        assert all(o == "ok" or o.startswith("409:") for o in outcomes), outcomes
        assert _completions(db, staff, number) == (1 if outcomes[2] == "ok" else 0)
    assert_chain_verifies(db)


def test_commenting_on_a_case_while_its_step_is_completed_keeps_both(db, staff):
    """Every write that takes the case's lock (here 意见) queues behind a completion instead of failing."""
    deploy_file(db, DATA / "approval.bpmn")
    for attempt in range(ROUNDS):
        number, task_id = _review_step(db, staff, f"意见 {attempt}")
        outcomes = race(partial(cases.add_comment, db, staff["clerk"], number, "请尽快处理"),
                        partial(cases.complete_task, db, staff["leader"], task_id, {"decision": "同意"}))
        assert outcomes == ["ok", "ok"]
        assert _completions(db, staff, number) == 1
    assert_chain_verifies(db)


def test_linking_two_cases_both_ways_at_once_never_deadlocks(db, staff):
    """关联 locks both cases, always in the same order, so A↔B and B↔A made at once both succeed."""
    deploy_file(db, DATA / "approval.bpmn")
    for attempt in range(ROUNDS):
        first, _ = _review_step(db, staff, f"关联甲 {attempt}")
        second, _ = _review_step(db, staff, f"关联乙 {attempt}")
        outcomes = race(partial(cases.link_cases, db, staff["leader"], first, second),
                        partial(cases.link_cases, db, staff["leader"], second, first))
        assert outcomes == ["ok", "ok"]
        assert casepages.get_case(db, staff["leader"], first).linked == (second,)
    assert_chain_verifies(db)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_transaction_postgresql_gives_up_on_is_a_clear_conflict_and_saves_nothing(db, staff):
    """Should two writes ever wait for each other (a deadlock), PostgreSQL aborts one: its caller gets a
    409 naming what to do, not a database error, and nothing of it is kept."""
    deploy_file(db, DATA / "approval.bpmn")
    numbers = [_review_step(db, staff, f"互等 {i}")[0] for i in range(2)]
    ids = [casepages.get_case(db, staff["leader"], n).id for n in numbers]
    barrier = threading.Barrier(2)

    def lock_both(order: list[int], note: str) -> Callable[[], None]:
        def call() -> None:
            with db.write() as session:
                locks.lock_case(session, order[0])
                audit_chain.append(session, order[0], "leader", "comment", data={"text": note})
                barrier.wait()
                locks.lock_case(session, order[1])
        return call

    outcomes = race(lock_both(ids, "甲"), lock_both(ids[::-1], "乙"))
    assert sorted(outcomes) == ["409:该事项正被他人同时处理,本次操作未保存,请刷新后重试", "ok"]
    notes = [e.data["text"] for n in numbers for e in casepages.get_case(db, staff["leader"], n).history
             if e.kind == "comment"]
    assert notes == ["甲" if outcomes[0] == "ok" else "乙"]
    assert_chain_verifies(db)
