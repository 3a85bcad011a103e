"""Claims follow roles: only someone who holds a step's role today may work it.

A claim (认领) or an assignment (指派) is made while the person holds the step's role; when an
administrator takes that role away or deactivates the account, the step goes back to the 待认领
list of its roles at once, recorded in the case's trace, and nothing the person still holds
(an open page, an API token) lets them act on it.
"""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from engine.audit import verify
from engine.errors import Forbidden, InvalidInput, Unauthorized
from engine.people import accounts, claims, units, users
from engine.public.residents import RESIDENT
from engine.store.models import HumanTask, HumanTaskRole, UserRole
from engine.work import casepages, cases, tasklist
from tests.conftest import DATA, PASSWORD, deploy_file, refresh_kept


@pytest.fixture
def admin(db):
    return users.create_user(db, "admin", PASSWORD, "管理员甲", ["管理员"])


@pytest.fixture
def leader2(db, staff):
    deploy_file(db, DATA / "approval.bpmn")
    return users.create_user(db, "leader2", PASSWORD, "刘主任", ["社区负责人", "受理员"])


def review(db, staff, title: str = "路灯不亮") -> tuple[str, int]:
    started = cases.start_case(db, staff["clerk"], "approval", {"title": title})
    return started.case_number, started.new_tasks[0].id


def two_communities(db) -> dict:
    """Under the default unit, a 街道 over 东社区 and 西社区, with a 社区负责人 of the 街道 and a 受理员, a
    社区负责人 and an 审计 in each 社区 (`staff` hold their roles in the default unit, above them all):
    each person as `east_leader`, `street_leader`…, and the units' ids as `street`, `east`, `west`."""
    deploy_file(db, DATA / "approval.bpmn")
    with db.write() as session:
        street = units.create_unit(session, "admin", "中心街道", "街道", units.default_unit(session)).id
        east = units.create_unit(session, "admin", "东社区", "社区", street).id
        west = units.create_unit(session, "admin", "西社区", "社区", street).id
    found: dict = {"street": street, "east": east, "west": west, "street_leader": users.create_user(
        db, "street_leader", PASSWORD, "街道主任", ["社区负责人"], unit_id=street)}
    for side, name, unit in (("east", "东", east), ("west", "西", west)):
        for who, title, role in (("clerk", "受理", "受理员"), ("leader", "主任", "社区负责人"),
                                 ("auditor", "审计", "审计")):
            found[f"{side}_{who}"] = users.create_user(db, f"{side}_{who}", PASSWORD, f"{name}{title}", [role],
                                                       unit_id=unit)
    return found


def change(db, admin, person, roles: list[str], active: bool = True) -> None:
    accounts.update_account(db, admin, person.id, {"display_name": person.display_name, "roles": roles,
                                                   "active": "1" if active else ""})


def holder(db, staff, number: str) -> str | None:
    return casepages.get_case(db, staff["leader"], number).open_steps[0].assignee


def test_a_claimed_step_cannot_be_completed_once_its_role_is_gone(db, staff, leader2):
    """The role is checked at every action: a claim that outlived the role (here the role is removed
    straight in the database, past 用户管理) does not let the person complete the step."""
    number, task_id = review(db, staff)
    cases.claim(db, leader2, task_id)
    with db.write() as session:
        session.execute(delete(UserRole).where(UserRole.user_id == leader2.id, UserRole.role == "社区负责人"))
    now = users.get_actor(db, leader2.id)
    with pytest.raises(Forbidden) as err:
        cases.complete_task(db, now, task_id, {"decision": "同意"})
    assert "社区负责人" in err.value.message and "无权" in err.value.message
    with pytest.raises(Forbidden):
        cases.unclaim(db, now, task_id)
    assert casepages.get_case(db, staff["leader"], number).status == "running"


def test_taking_a_role_away_sends_the_persons_steps_of_that_role_back_to_the_queue(db, staff, admin, leader2):
    claimed_number, claimed = review(db, staff, "认领的")
    assigned_number, assigned = review(db, staff, "指派的")
    cases.claim(db, leader2, claimed)
    cases.assign(db, staff["leader"], assigned, "leader2")
    change(db, admin, leader2, ["受理员"])
    assert holder(db, staff, claimed_number) is None and holder(db, staff, assigned_number) is None
    queue = {row.id for row in tasklist.tasks(db, staff["leader"], "queue").items}
    assert {claimed, assigned} <= queue
    for number in (claimed_number, assigned_number):
        released = casepages.get_case(db, staff["leader"], number).history[-1]
        assert (released.kind, released.actor) == ("task_unclaimed", "admin")
        assert released.data["reason"] == "leader2 已不再担任该步骤的角色,任务退回待认领"
    assert verify.verify_database(db).broken is None


def test_a_claim_stays_while_the_person_keeps_one_of_the_steps_roles(db, staff, admin, leader2):
    number, task_id = review(db, staff)
    cases.claim(db, leader2, task_id)
    change(db, admin, leader2, ["社区负责人"])  # 受理员 goes; the step is 社区负责人's
    assert holder(db, staff, number) == "刘主任"
    cases.complete_task(db, users.get_actor(db, leader2.id), task_id, {"decision": "同意"})


def test_deactivating_an_account_sends_its_steps_back_and_its_api_token_stops_working(db, staff, admin, leader2):
    number, task_id = review(db, staff)
    token = users.create_token(db, "leader2")
    cases.claim(db, users.actor_for_token(db, token), task_id)
    change(db, admin, leader2, ["社区负责人", "受理员"], active=False)
    assert holder(db, staff, number) is None
    assert "账户已停用" in casepages.get_case(db, staff["leader"], number).history[-1].data["reason"]
    with pytest.raises(Unauthorized):
        users.actor_for_token(db, token)
    cases.claim(db, staff["leader"], task_id)  # a colleague takes it over
    assert holder(db, staff, number) == "李主任"


def test_losing_one_role_releases_only_the_steps_of_that_role(db, staff, admin, leader2):
    """A person who holds steps of two roles and loses one keeps the other role's steps: only what they
    may no longer do goes back to the queue."""
    deploy_file(db, DATA / "workday_deadline.bpmn")
    change(db, admin, leader2, ["社区负责人", "受理员", "承办人"])
    kept_number, kept = review(db, staff)
    started = cases.start_case(db, staff["clerk"], "workday_deadline", {"reply_date": "2026-11-27"})
    lost_number, lost = started.case_number, started.new_tasks[0].id
    actor = users.get_actor(db, leader2.id)
    cases.claim(db, actor, kept)
    cases.claim(db, actor, lost)
    change(db, admin, leader2, ["社区负责人", "受理员"])  # 承办人 goes
    assert holder(db, staff, kept_number) == "刘主任"
    assert casepages.get_case(db, staff["handler"], lost_number).open_steps[0].assignee is None
    assert [e.kind for e in casepages.get_case(db, staff["leader"], kept_number).history].count("task_unclaimed") == 0
    released = casepages.get_case(db, staff["handler"], lost_number).history[-1]  # the trace names step and person
    assert (released.kind, released.actor, released.step_id, released.step_name, released.lane) == (
        "task_unclaimed", "admin", "Answer", "答复群众", "承办人")
    assert released.data["released"] == "leader2"


def test_release_says_how_many_steps_went_back(db, staff, leader2):
    """`claims.release` returns how many steps it sent back: none while the person may still do them all
    (or holds none), each one they may no longer do once a role or the account is gone."""
    _, first = review(db, staff, "第一件")
    _, second = review(db, staff, "第二件")
    with db.write() as session:
        assert claims.release(session, leader2.id, "leader2", [("社区负责人", 1)], True, "admin") == 0  # holds none
    cases.claim(db, leader2, first)
    cases.claim(db, leader2, second)
    with db.write() as session:
        assert claims.release(session, leader2.id, "leader2", [("社区负责人", 1)], True, "admin") == 0
    with db.write() as session:
        assert claims.release(session, leader2.id, "leader2", [("社区负责人", 1)], False, "admin") == 2
    with db.write() as session:
        assert claims.release(session, leader2.id, "leader2", [], False, "admin") == 0  # nothing left to release


def test_release_locks_the_cases_of_the_steps_it_sends_back_and_reads_them_again_under_the_locks(
        db, staff, admin, leader2, monkeypatch):
    """Between `release`'s first read and its locks, another writer may complete a step the person held or
    give it to someone else; once the locks are held each step is read again, and only a step still open
    and still theirs goes back (and is recorded). It locks exactly the cases of the steps it would send
    back, in one call — not those of a step they keep, completed earlier or never held — so it waits for no
    one else."""
    deploy_file(db, DATA / "workday_deadline.bpmn")
    change(db, admin, leader2, ["社区负责人", "受理员", "承办人"])
    leader2 = users.get_actor(db, leader2.id)
    steps = {title: review(db, staff, title) for title in ("已办完", "已转交", "仍持有")}
    kept = cases.start_case(db, staff["clerk"], "workday_deadline", {"reply_date": "2026-11-27"}).new_tasks[0].id
    _, done_before = review(db, staff, "早已办完")
    review(db, staff, "无人认领")
    for task_id in [task_id for _, task_id in steps.values()] + [kept, done_before]:
        cases.claim(db, leader2, task_id)
    cases.complete_task(db, leader2, done_before, {"decision": "同意"})
    with db.read() as session:
        case_of = dict(session.execute(select(HumanTask.id, HumanTask.case_id)).all())
        keeps = session.execute(select(HumanTaskRole.role, HumanTaskRole.unit_id)
                                .where(HumanTaskRole.human_task_id == kept)).all()
    locked: list[list[int]] = []
    real_lock = claims.locks.lock_cases

    def meanwhile(session, case_ids):  # noqa: ANN001, ANN202 — what other writers did before the locks
        locked.append(sorted(case_ids))
        session.execute(update(HumanTask).where(HumanTask.id == steps["已办完"][1]).values(status="COMPLETED"))
        session.execute(update(HumanTask).where(HumanTask.id == steps["已转交"][1])
                        .values(assignee_id=staff["leader"].id))
        real_lock(session, case_ids)

    monkeypatch.setattr(claims.locks, "lock_cases", meanwhile)
    with db.write() as session:
        assert claims.release(session, leader2.id, "leader2", [tuple(k) for k in keeps], True, "admin") == 1
    assert locked == [sorted(case_of[task_id] for _, task_id in steps.values())]
    unclaimed = {number: [e.kind for e in casepages.get_case(db, staff["leader"], number).history].count(
        "task_unclaimed") for number, _ in steps.values()}
    assert unclaimed == {steps["已办完"][0]: 0, steps["已转交"][0]: 0, steps["仍持有"][0]: 1}
    with db.read() as session:
        assert session.get(HumanTask, steps["已转交"][1]).assignee_id == staff["leader"].id
        assert session.get(HumanTask, steps["仍持有"][1]).assignee_id is None
        assert session.get(HumanTask, kept).assignee_id == leader2.id
    with db.write() as session:
        refresh_kept(session.connection())  # the step completed behind the engine's back


def test_a_step_given_to_someone_personally_keeps_only_its_own_case_visible_to_them(db, staff, leader2):
    """One sees a case whose step one holds or completed, though the role is gone (here removed straight in
    the database, past 用户管理): that case only, not another of the role's cases, and not because someone
    else holds or completed a step of it."""
    held, held_task = review(db, staff, "认领着的")
    done, done_task = review(db, staff, "办完的")
    others_claim, others_task = review(db, staff, "别人认领的")
    others_done, others_done_task = review(db, staff, "别人办完的")
    cases.claim(db, leader2, held_task)
    cases.complete_task(db, leader2, done_task, {"decision": "同意"})
    cases.claim(db, staff["leader"], others_task)
    cases.complete_task(db, staff["leader"], others_done_task, {"decision": "同意"})
    with db.write() as session:
        session.execute(delete(UserRole).where(UserRole.user_id == leader2.id, UserRole.role == "社区负责人"))
    now = users.get_actor(db, leader2.id)
    assert casepages.get_case(db, now, held).title == "认领着的"  # the step is theirs (认领/指派)
    assert casepages.get_case(db, now, done).title == "办完的"  # they completed a step of it
    for number in (others_claim, others_done):
        with pytest.raises(Forbidden) as err:
            casepages.get_case(db, now, number)
        assert err.value.message == "您无权查看该事项"
    with pytest.raises(Forbidden):  # who has no account (a resident) holds and completed no step
        casepages.get_case(db, RESIDENT, held)


def test_a_role_opens_the_cases_of_its_own_unit_and_those_below_it_only(db, staff):
    """Each role counts in the unit where it is held and below: a 社区's 社区负责人 sees its own 社区's case (its
    step is routed to them), not the neighbouring 社区's; the 街道's sees both, as the procedure's leader, though
    no step of either is theirs; an 审计 reads its own 社区's case only; a 受理员 above them, who neither
    started nor leads nor audits, reads neither."""
    c = two_communities(db)
    east = cases.start_case(db, c["east_clerk"], "approval", {"title": "东边的"}).case_number
    west = cases.start_case(db, c["west_clerk"], "approval", {"title": "西边的"}).case_number
    assert [r.case_number for r in tasklist.tasks(db, c["east_leader"], "queue").items] == [east]
    for who, own, other in (("east_leader", east, west), ("west_leader", west, east),
                            ("east_auditor", east, west), ("west_auditor", west, east)):
        assert casepages.get_case(db, c[who], own).number == own
        with pytest.raises(Forbidden) as err:
            casepages.get_case(db, c[who], other)
        assert err.value.message == "您无权查看该事项"
    for number in (east, west):
        assert casepages.get_case(db, c["street_leader"], number).number == number
        with pytest.raises(Forbidden):
            casepages.get_case(db, staff["clerk"], number)


def test_a_step_is_worked_only_in_the_unit_it_was_routed_to_and_assigned_from_there_or_above(db, staff):
    """认领 and 办理 need the step's role in the very unit the step was routed to: the 社区负责人 of the 街道
    above may not claim a 社区's step, nor the neighbouring 社区's; 指派 is for a 社区负责人 of that unit or
    one above it, and only to someone holding the step's role in that unit."""
    c = two_communities(db)
    started = cases.start_case(db, c["east_clerk"], "approval", {"title": "东边的"})
    number, task_id = started.case_number, started.new_tasks[0].id
    for who in ("street_leader", "west_leader"):
        with pytest.raises(Forbidden) as err:
            cases.claim(db, c[who], task_id)
        assert err.value.message == "该任务属于东社区的“社区负责人”,您无权查看或办理"
    with pytest.raises(Forbidden, match="只有本单位"):
        cases.assign(db, c["west_leader"], task_id, "east_leader")
    with pytest.raises(InvalidInput, match="不能指派"):
        cases.assign(db, c["street_leader"], task_id, "west_leader")
    assert cases.assign(db, c["street_leader"], task_id, "east_leader") == "东主任"
    cases.unclaim(db, c["east_leader"], task_id)
    put_back = casepages.get_case(db, c["east_leader"], number).history[-1]
    assert (put_back.kind, put_back.actor, put_back.step_id, put_back.step_name, put_back.lane) == (
        "task_unclaimed", "east_leader", "Review", "审核", "社区负责人")
    cases.claim(db, c["east_leader"], task_id)
    assert cases.complete_task(db, c["east_leader"], task_id, {"decision": "同意"}).case_status == "completed"
