"""Organisational units, the core rules (#18): roles are held in units, every case belongs to one, and a step
goes to the holders of its role in the case's unit or the nearest unit above it where the role is held — or
where the diagram says: the case's ancestor at a level (`unitLevel`) or the unit chosen in a field
(`unitField`). People see the cases of their units and the units below, and what was sent to them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import Forbidden, InvalidInput
from engine.people import units, users
from engine.store.models import Case, HumanTask
from engine.work import casepages, cases, tasklist
from tests.conftest import PASSWORD

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


LINE = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="D" targetNamespace="http://minyi.test">
  <bpmn:process id="line" name="层级派单" isExecutable="true" camunda:candidateStarterGroups="受理员">
    <bpmn:startEvent id="S"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="dept" label="职能部门" type="long"/></camunda:formData></bpmn:extensionElements>
      <bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Handle" name="办理" camunda:candidateGroups="承办人">
      <bpmn:extensionElements><camunda:formData><camunda:formField id="helper" label="协办人" type="user">
        <camunda:properties><camunda:property id="role" value="承办人"/></camunda:properties></camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Report" name="上报" camunda:candidateGroups="上级部门">
      <bpmn:extensionElements><camunda:properties><camunda:property name="unitLevel" value="街道"/>
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Refer" name="部门办理" camunda:candidateGroups="联络员">
      <bpmn:extensionElements><camunda:properties><camunda:property name="unitField" value="dept"/>
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Handle"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Handle" targetRef="Report"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Report" targetRef="Refer"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Refer" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def district(db):
    """区 → 龙山街道 → 光明社区 (→ 一网格), 龙山街道 → 红星社区; 凤凰街道 → 东风社区; 区住建局 beside the 区."""
    with db.write() as session:
        qu = units.create_unit(session, "admin", "新城区", "区")
        longshan = units.create_unit(session, "admin", "龙山街道", "街道", qu.id)
        guangming = units.create_unit(session, "admin", "光明社区", "社区", longshan.id)
        grid = units.create_unit(session, "admin", "光明一网格", "网格", guangming.id)
        hongxing = units.create_unit(session, "admin", "红星社区", "社区", longshan.id)
        fenghuang = units.create_unit(session, "admin", "凤凰街道", "街道", qu.id)
        dongfeng = units.create_unit(session, "admin", "东风社区", "社区", fenghuang.id)
        housing = units.create_unit(session, "admin", "区住建局", "职能部门", qu.id, beside=True)
        made = {u.name: u.id for u in (qu, longshan, guangming, grid, hongxing, fenghuang, dongfeng, housing)}
    deployments.deploy(db, LINE.encode(), "line.bpmn", SYSTEM)
    return made


def person(db, username: str, grants: list[tuple[str, int]]):
    return users.create_user(db, username, PASSWORD, username, [], grants=grants)


def open_step(db, number: str, step_id: str):
    with db.read() as session:
        return session.execute(select(HumanTask.id).join(Case, Case.id == HumanTask.case_id)
                               .where(HumanTask.step_id == step_id, HumanTask.status == "READY",
                                      Case.number == number)).one()


def queue_numbers(db, actor) -> list[str]:
    return [row.case_number for row in tasklist.tasks(db, actor, "queue").items]


def test_a_case_belongs_to_the_clerks_unit_and_its_steps_go_to_that_unit_first(db, district):
    clerk = person(db, "clerk", [("受理员", district["光明一网格"])])
    handler_here = person(db, "handler_here", [("承办人", district["光明社区"])])
    handler_there = person(db, "handler_there", [("承办人", district["东风社区"])])
    number = cases.start_case(db, clerk, "line", {"dept": district["区住建局"]}).case_number
    # nobody holds 承办人 in the 网格: the step goes up to 光明社区, where someone does — not to 东风社区
    assert queue_numbers(db, handler_here) == [number]
    assert queue_numbers(db, handler_there) == []
    step = open_step(db, number, "Handle")
    with pytest.raises(Forbidden, match="光明社区"):
        cases.complete_task(db, handler_there, step.id, {})
    cases.complete_task(db, handler_here, step.id, {})


def test_unit_level_sends_a_step_to_the_cases_street_and_unit_field_to_the_chosen_department(db, district):
    clerk = person(db, "clerk", [("受理员", district["光明社区"])])
    handler = person(db, "handler", [("承办人", district["光明社区"])])
    street_here = person(db, "street_here", [("上级部门", district["龙山街道"])])
    street_there = person(db, "street_there", [("上级部门", district["凤凰街道"])])
    contact = person(db, "contact", [("联络员", district["区住建局"])])
    number = cases.start_case(db, clerk, "line", {"dept": district["区住建局"]}).case_number
    cases.complete_task(db, handler, open_step(db, number, "Handle").id, {})
    assert queue_numbers(db, street_here) == [number] and queue_numbers(db, street_there) == []
    cases.complete_task(db, street_here, open_step(db, number, "Report").id, {})
    assert queue_numbers(db, contact) == [number]
    # the department sees the case it was sent, and nothing else of the district
    casepages.get_case(db, contact, number)
    other = cases.start_case(db, clerk, "line", {"dept": district["区住建局"]}).case_number
    with pytest.raises(Forbidden):
        casepages.get_case(db, contact, other)


def test_people_see_the_cases_of_their_units_and_below_and_nothing_across(db, district):
    clerk_gm = person(db, "clerk_gm", [("受理员", district["光明社区"])])
    clerk_df = person(db, "clerk_df", [("受理员", district["东风社区"])])
    leader_gm = person(db, "leader_gm", [("社区负责人", district["光明社区"])])
    auditor_street = person(db, "auditor_street", [("审计", district["龙山街道"])])
    auditor_district = person(db, "auditor_district", [("审计", district["新城区"])])
    in_gm = cases.start_case(db, clerk_gm, "line", {}).case_number
    in_df = cases.start_case(db, clerk_df, "line", {}).case_number
    casepages.get_case(db, auditor_street, in_gm)
    with pytest.raises(Forbidden):
        casepages.get_case(db, auditor_street, in_df)
    assert auditor_district.scope == frozenset({units_path(db, district["新城区"])})  # 本社区 is a root of its own
    casepages.get_case(db, auditor_district, in_df)
    with pytest.raises(Forbidden):
        casepages.get_case(db, clerk_gm, in_df)
    with db.read() as session:
        seen = casepages.visible(session, users.get_actor(db, auditor_street.id))
        numbers = set(session.scalars(select(Case.number).where(seen)))
    assert numbers == {in_gm}
    assert leader_gm.scope == frozenset({f"{units_path(db, district['光明社区'])}"})


def units_path(db, unit_id: int) -> str:
    with db.read() as session:
        return units.get(session, unit_id).path


def test_a_case_is_registered_only_in_an_open_unit_of_the_tree_the_clerk_sees(db, district):
    clerk = person(db, "clerk", [("受理员", district["光明社区"])])
    assert cases.start_case(db, clerk, "line", {}, unit_id=district["光明一网格"]).case_status == "running"
    for unit, message in ((district["东风社区"], "您不能在所选单位登记事项"),
                          (district["区住建局"], "不受理事项"), (999_999, "所选单位不存在")):
        with pytest.raises(InvalidInput, match=message) as refused:
            cases.start_case(db, clerk, "line", {}, unit_id=unit)
        assert "unit_id" in refused.value.fields


def test_a_single_community_keeps_working_in_the_default_unit(db):
    """What an upgraded database looks like: one unit, “本社区”, holding every role and case."""
    clerk = users.create_user(db, "clerk", PASSWORD, "小王", ["受理员", "承办人"])
    assert clerk.grants == frozenset({("受理员", 1), ("承办人", 1)}) and clerk.scope is None
    deployments.deploy(db, LINE.encode(), "line.bpmn", SYSTEM)
    number = cases.start_case(db, clerk, "line", {}).case_number
    assert queue_numbers(db, clerk) == [number]


def test_a_person_field_offers_the_holders_of_its_role_where_the_cases_steps_of_that_role_go(db, district):
    clerk = person(db, "clerk", [("受理员", district["光明社区"])])
    here = person(db, "here", [("承办人", district["光明社区"])])
    person(db, "there", [("承办人", district["东风社区"])])
    number = cases.start_case(db, clerk, "line", {}).case_number
    page = tasklist.get_task(db, here, open_step(db, number, "Handle").id)
    (helper,) = [f for f in page.form if f.id == "helper"]
    assert [c.id for c in helper.choices] == ["here"]
    with pytest.raises(InvalidInput, match="协办人"):
        cases.complete_task(db, here, open_step(db, number, "Handle").id, {"helper": "there"})


def test_only_a_leader_of_the_cases_unit_or_above_may_assign_its_steps(db, district):
    clerk = person(db, "clerk", [("受理员", district["光明社区"])])
    handler = person(db, "handler", [("承办人", district["光明社区"])])
    # a 社区负责人 elsewhere who is only a clerk here does not lead here
    mixed = person(db, "mixed", [("社区负责人", district["东风社区"]), ("受理员", district["光明社区"])])
    street = person(db, "street", [("社区负责人", district["龙山街道"])])
    number = cases.start_case(db, clerk, "line", {}).case_number
    step = open_step(db, number, "Handle").id
    with pytest.raises(Forbidden, match="指派"):
        cases.assign(db, mixed, step, "handler")
    assert cases.assign(db, street, step, "handler") == handler.display_name


def test_an_auditor_reads_the_account_and_unit_changes_of_their_units_only(db, district):
    from engine.people import accounts, unitadmin

    person(db, "clerk_gm", [("受理员", district["光明社区"])])
    person(db, "clerk_df", [("受理员", district["东风社区"])])
    street_auditor = person(db, "auditor_ls", [("审计", district["龙山街道"])])
    district_auditor = person(db, "auditor_qu", [("审计", district["新城区"])])
    seen = {c.username for c in accounts.account_changes(db, street_auditor)}
    assert {"clerk_gm", "auditor_ls"} <= seen and "clerk_df" not in seen
    assert {"clerk_gm", "clerk_df"} <= {c.username for c in accounts.account_changes(db, district_auditor)}
    # 审计 of 龙山街道 and 受理员 of 东风社区: audits the first only
    mixed = person(db, "auditor_mixed", [("审计", district["龙山街道"]), ("受理员", district["东风社区"])])
    seen = {c.username for c in accounts.account_changes(db, mixed)}
    assert {"clerk_gm", "auditor_ls"} <= seen and "clerk_df" not in seen
    named = {c.unit_name for c in unitadmin.unit_changes(db, street_auditor)}
    assert named == {"龙山街道", "光明社区", "光明一网格", "红星社区"}
    assert "东风社区" in {c.unit_name for c in unitadmin.unit_changes(db, district_auditor)}


def test_a_leaders_team_work_is_the_open_steps_of_their_units_and_follows_a_case_moved_by_转办(db, district):
    """本组待办 of a 管理员 (who leads every procedure, in their units; a diagram without a 社区负责人 lane)."""
    from engine.work import transfer

    clerk = person(db, "clerk", [("受理员", district["光明社区"])])
    leader_gm = person(db, "leader_gm", [("管理员", district["光明社区"])])
    leader_hx = person(db, "leader_hx", [("管理员", district["红星社区"])])
    street = person(db, "street", [("管理员", district["龙山街道"])])
    person(db, "handler_hx", [("承办人", district["红星社区"])])
    number = cases.start_case(db, clerk, "line", {}).case_number

    def team(actor) -> list[str]:
        return [row.case_number for row in tasklist.tasks(db, actor, "team").items]

    assert (team(leader_gm), team(leader_hx), team(street)) == ([number], [], [number])
    transfer.move_case(db, street, number, district["红星社区"], "地址在红星社区")
    assert (team(leader_gm), team(leader_hx), team(street)) == ([], [number], [number])
    with db.read() as session:
        assert set(session.scalars(select(HumanTask.unit_id).join(Case, Case.id == HumanTask.case_id)
                                   .where(Case.number == number))) == {district["红星社区"]}


@pytest.mark.parametrize("value", ["区住建局", "99999999999999999999", "-3", "0", "1.5"])
def test_a_unit_field_value_that_names_no_open_unit_leaves_the_step_with_the_cases_unit(db, district, value):
    """`unitField` reads any field: a value that is not a unit id — a name, a number beyond any id — does not
    break the step (PostgreSQL would refuse a look-up beyond its integer range); the role routes as usual."""
    with db.write() as session:
        assert units.route(session, district["光明社区"], "联络员", chosen=value) == district["光明社区"]


def test_a_queue_row_is_open_exactly_while_its_step_is_ready(db, district):
    """The 待认领 query relies on it and does not ask the step's status again (tasklist._queue)."""
    from sqlalchemy import func

    from engine.store.models import HumanTaskRole

    clerk = person(db, "clerk", [("受理员", district["光明社区"])])
    handler = person(db, "handler", [("承办人", district["光明社区"])])
    street = person(db, "street", [("上级部门", district["龙山街道"])])
    contact = person(db, "contact", [("联络员", district["区住建局"])])

    def mismatched() -> int:
        with db.read() as session:
            return session.scalar(select(func.count()).select_from(HumanTaskRole)
                                  .join(HumanTask, HumanTask.id == HumanTaskRole.human_task_id)
                                  .where(HumanTaskRole.open != (HumanTask.status == "READY")))

    number = cases.start_case(db, clerk, "line", {"dept": district["区住建局"]}).case_number
    for step, who in (("Handle", handler), ("Report", street), ("Refer", contact)):
        assert mismatched() == 0
        cases.complete_task(db, who, open_step(db, number, step).id, {})
    assert mismatched() == 0
