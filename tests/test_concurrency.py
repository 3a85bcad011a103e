"""Two people complete the same step at the same moment: exactly one wins, nothing is lost."""
from __future__ import annotations

import threading

from engine.errors import Conflict
from engine.work import casepages, cases, runtime
from tests.conftest import DATA, deploy_file


def complete_at_once(db, actor, task_id: int, decisions: tuple[str, ...]) -> list[str]:
    """Complete the step once per decision, each in its own thread released at the same moment;
    each outcome is "ok" or "conflict:<message>"."""
    barrier = threading.Barrier(len(decisions))
    outcomes: list[str] = []

    def complete(decision: str) -> None:
        barrier.wait()
        try:
            cases.complete_task(db, actor, task_id, {"decision": decision, "reason": "并发"})
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append("conflict:" + exc.message)

    threads = [threading.Thread(target=complete, args=(d,)) for d in decisions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_two_people_completing_one_task_exactly_one_succeeds(db, staff):
    deploy_file(db, DATA / "approval.bpmn")
    leader2 = staff["leader"]
    for attempt in range(5):
        started = cases.start_case(db, staff["clerk"], "approval", {"title": f"并发 {attempt}"})
        runtime.forget_all()  # each thread loads the workflow from the database
        outcomes = complete_at_once(db, leader2, started.new_tasks[0].id, ("同意", "不同意"))
        assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
        assert any("不能重复办理" in o for o in outcomes)
        view = casepages.get_case(db, staff["leader"], started.case_number)
        completions = [e for e in view.history if e.kind == "task_completed"]
        assert len(completions) == 1 and view.status == "completed"


def test_parallel_work_on_different_cases_loses_no_update(db, staff):
    deploy_file(db, DATA / "approval.bpmn")
    started = [cases.start_case(db, staff["clerk"], "approval", {"title": f"事项{i}"}) for i in range(6)]
    errors: list[Exception] = []

    def work(result) -> None:
        try:
            cases.complete_task(db, staff["leader"], result.new_tasks[0].id, {"decision": "同意"})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(r,)) for r in started]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    for result in started:
        assert casepages.get_case(db, staff["leader"], result.case_number).status == "completed"
