"""转办/改派 (issue #18): a case moves to another unit with a reason; its open steps are routed again from
there, a claim its holder cannot keep there is dropped, the trace says from where to where and why,
and the people of the new unit are told. Who may: 社区负责人, 管理员 or 上级部门 holding their role at
or above both the case's unit and the target."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

from engine.actor import SYSTEM
from engine.audit import statistics
from engine.audit.search import CaseQuery
from engine.bpmn import deployments
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.people import notifications
from engine.store.models import Case, HumanTask, HumanTaskRole, Unit, WorkTally
from engine.work import casepages, cases, tasklist, transfer
from tests.conftest import PROCESSES
from tests.minqing import INTAKE, PROCESS
from tests.units_tree import District, build


@pytest.fixture
def district(db, frozen_clock) -> District:
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return build(db)


def register(db, district: District, unit: str = "guangming") -> str:
    """A matter the community's clerk registers, waiting at 分类交办 for a 社区负责人."""
    clerk = district.people["gm_clerk" if unit.startswith("guangming") else "xf_clerk"]
    return cases.start_case(db, clerk, PROCESS, INTAKE, unit_id=getattr(district, unit)).case_number


def queue(db, actor) -> list[str]:
    return [t.case_number for t in tasklist.tasks(db, actor, "queue").items]


def step_units(db, number: str) -> set[tuple[str, int]]:
    with db.read() as session:
        return set(session.execute(
            select(HumanTaskRole.role, HumanTaskRole.unit_id).join(HumanTask)
            .join(Case, Case.id == HumanTask.case_id)
            .where(Case.number == number, HumanTask.status == "READY")).all())


def unit_of(db, number: str) -> int:
    with db.read() as session:
        return session.scalar(select(Case.unit_id).where(Case.number == number))


def test_the_street_moves_a_case_to_another_community_and_its_open_step_goes_there(db, district):
    number = register(db, district)
    p = district.people
    assert queue(db, p["gm_leader"]) == [number] and queue(db, p["xf_leader"]) == []
    moved = transfer.move_case(db, p["street_office"], number, district.xingfu, "地址在幸福社区辖区")
    assert (moved.from_unit, moved.to_unit) == ("光明社区", "幸福社区")
    assert unit_of(db, number) == district.xingfu
    assert step_units(db, number) == {("社区负责人", district.xingfu)}
    assert queue(db, p["xf_leader"]) == [number] and queue(db, p["gm_leader"]) == []


def test_the_trace_records_the_move_with_unit_names_and_the_reason(db, district):
    number = register(db, district)
    transfer.move_case(db, district.people["street_office"], number, district.xingfu, "地址在幸福社区辖区")
    [event] = [e for e in casepages.get_case(db, district.people["street_auditor"], number).history
               if e.kind == "case_moved"]
    assert event.actor == "street_office"
    assert event.data["from"] == "光明社区" and event.data["to"] == "幸福社区"
    assert event.data["reason"] == "地址在幸福社区辖区"
    assert event.data["steps"] == {"分类交办": {"社区负责人": "幸福社区"}}


def test_the_people_the_open_steps_now_go_to_are_told(db, district):
    number = register(db, district)
    p = district.people
    transfer.move_case(db, p["street_office"], number, district.xingfu, "地址在幸福社区辖区")
    [told] = notifications.notifications_for(db, p["xf_leader"])
    assert told.kind_name == "转办" and told.case_number == number
    assert "街道办" in told.text and "光明社区" in told.text and "幸福社区" in told.text
    assert "地址在幸福社区辖区" in told.text
    assert notifications.notifications_for(db, p["gm_leader"]) == ()
    assert notifications.notifications_for(db, p["street_office"]) == ()


def test_a_community_leader_moves_a_case_to_a_grid_of_their_community(db, district):
    number = register(db, district)
    leader = district.people["gm_leader"]
    with db.read() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        offered = {c.name for c in transfer.targets(session, leader, case)}
    assert offered == {"第一网格"}  # the 网格 of 光明社区; nothing of 幸福社区, never the case's own unit
    transfer.move_case(db, leader, number, district.guangming_grid, "属第一网格")
    assert unit_of(db, number) == district.guangming_grid
    # nobody holds 社区负责人 in the 网格: the step is wanted from the nearest unit above that has one
    assert step_units(db, number) == {("社区负责人", district.guangming)}


def test_a_community_leader_cannot_move_a_case_into_another_community(db, district):
    number = register(db, district)
    with pytest.raises(InvalidInput) as err:
        transfer.move_case(db, district.people["gm_leader"], number, district.xingfu, "地址不对")
    assert err.value.fields == {"unit_id": "您不能把事项转办到所选单位"}
    assert unit_of(db, number) == district.guangming


def test_a_community_leader_cannot_move_another_communitys_case(db, district):
    number = register(db, district, "xingfu")
    with pytest.raises(Forbidden):
        transfer.move_case(db, district.people["gm_leader"], number, district.guangming, "应由光明办理")
    assert unit_of(db, number) == district.xingfu


@pytest.mark.parametrize("who", ["gm_clerk", "gm_handler", "street_auditor"])
def test_only_leaders_administrators_and_the_superior_may_move_a_case(db, district, who):
    number = register(db, district)
    with pytest.raises(Forbidden) as err:
        transfer.move_case(db, district.people[who], number, district.guangming_grid, "试试")
    assert "社区负责人" in err.value.message
    assert unit_of(db, number) == district.guangming


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(db, district, reason):
    number = register(db, district)
    with pytest.raises(InvalidInput) as err:
        transfer.move_case(db, district.people["street_office"], number, district.xingfu, reason)
    assert err.value.fields == {"reason": "请填写转办原因"}
    assert unit_of(db, number) == district.guangming


@pytest.mark.parametrize(("target", "message"), [
    (None, "请选择转办到的单位"),
    ("guangming", "事项已在所选单位,请选择另一个单位"),
    ("department", "“区住建局”是职能部门,不承办事项,请选择社区或网格"),
    ("missing", "所选单位不存在"),
    ("beyond", "所选单位不存在"),
    ("closed", "所选单位已撤销"),
])
def test_the_target_must_be_another_open_unit_of_the_tree(db, district, frozen_clock, target, message):
    number = register(db, district)
    if target == "closed":
        with db.write() as session:
            session.execute(update(Unit).where(Unit.id == district.xingfu).values(closed_at=frozen_clock()))
    unit_id = ({"missing": 9999, "beyond": 2**40, "closed": district.xingfu}.get(target)
               or (target and getattr(district, target)))
    with pytest.raises(InvalidInput) as err:
        transfer.move_case(db, district.people["street_office"], number, unit_id, "转到别处")
    assert err.value.fields == {"unit_id": message}
    assert unit_of(db, number) == district.guangming


def test_a_claim_its_holder_cannot_keep_in_the_new_unit_is_dropped(db, district):
    number = register(db, district)
    p = district.people
    [row] = tasklist.tasks(db, p["gm_leader"], "queue").items
    cases.claim(db, p["gm_leader"], row.id)
    moved = transfer.move_case(db, p["street_office"], number, district.xingfu, "地址在幸福社区辖区")
    assert moved.released == ("分类交办",)
    assert casepages.get_case(db, p["street_auditor"], number).open_steps[0].assignee is None
    assert queue(db, p["xf_leader"]) == [number]
    with pytest.raises(Forbidden):
        cases.complete_task(db, p["gm_leader"], row.id, {"kind": "即办件"})
    unclaimed = [e for e in casepages.get_case(db, p["street_auditor"], number).history if e.kind == "task_unclaimed"]
    assert [e.step_name for e in unclaimed] == ["分类交办"]


def test_a_claim_its_holder_can_still_do_stays(db, district):
    number = register(db, district)
    p = district.people
    [row] = tasklist.tasks(db, p["gm_leader"], "queue").items
    cases.claim(db, p["gm_leader"], row.id)
    moved = transfer.move_case(db, p["gm_leader"], number, district.guangming_grid, "属第一网格")
    assert moved.released == ()
    assert casepages.get_case(db, p["street_auditor"], number).open_steps[0].assignee == "光明主任"


def test_a_finished_case_does_not_move(db, district):
    number = register(db, district)
    with db.write() as session:
        session.execute(update(Case).where(Case.number == number).values(status="completed"))
    with pytest.raises(Conflict):
        transfer.move_case(db, district.people["street_office"], number, district.xingfu, "地址不对")


def test_the_moved_case_then_runs_on_in_its_new_unit(db, district):
    number = register(db, district)
    p = district.people
    transfer.move_case(db, p["street_office"], number, district.xingfu, "地址在幸福社区辖区")
    [row] = tasklist.tasks(db, p["xf_leader"], "queue").items
    cases.complete_task(db, p["xf_leader"], row.id, {"kind": "即办件"})
    assert step_units(db, number) == {("承办人", district.xingfu)}


def work_by_unit(db) -> dict[str, int]:
    """Completed steps in the work tallies, per unit name."""
    with db.read() as session:
        rows = session.execute(select(Unit.name, func.sum(WorkTally.steps)).join(Unit, Unit.id == WorkTally.unit_id)
                               .group_by(Unit.name)).all()
    return {name: n for name, n in rows if n}


def test_a_moved_cases_finished_steps_count_as_the_new_units_work(db, district):
    """The 统计 page of a unit reads its work tallies; 转办 takes the case's finished steps with it, and the
    tallies of each unit say what a pass over the steps of its cases says."""
    number = register(db, district)
    p = district.people
    cases.complete_task(db, p["gm_leader"], tasklist.tasks(db, p["gm_leader"], "queue").items[0].id,
                        {"kind": "即办件"})
    assert work_by_unit(db) == {"光明社区": 1}
    transfer.move_case(db, p["street_office"], number, district.xingfu, "地址在幸福社区辖区")
    assert work_by_unit(db) == {"幸福社区": 1}
    auditor = p["street_auditor"]
    kept = statistics.statistics(db, auditor, CaseQuery())                       # the tallies
    counted = statistics.statistics(db, auditor, CaseQuery(date_from=date(2026, 1, 1)))  # the steps
    assert kept.by_person == counted.by_person == ((p["gm_leader"].display_name, 1),)
    assert kept.by_role == counted.by_role and kept.on_time == counted.on_time
