"""用户管理 with units: roles are held in units (社区负责人 of 光明社区). The administrator edits (role, unit)
pairs, only in units of their own scope and never in a closed unit; the record names the units; a person
who loses a role in one unit gives back the steps routed there and keeps those of another unit."""
from __future__ import annotations

import pytest

from engine.errors import Forbidden, InvalidInput
from engine.people import accounts, unitadmin, users
from engine.work import casepages, cases
from tests.conftest import DATA, PASSWORD, deploy_file


@pytest.fixture
def admin(db):
    return users.create_user(db, "admin", PASSWORD, "管理员甲", ["管理员"])


@pytest.fixture
def tree(db, admin) -> dict[str, int]:
    unitadmin.rename(db, admin, 1, "龙山街道", "街道")
    made = {"龙山街道": 1}
    for name in ("光明社区", "红星社区"):
        made[name] = unitadmin.add_unit(db, admin, {"name": name, "level": "社区", "parent_id": "1"}).id
    return made


def values(grants, **more) -> dict:
    return {"display_name": "刘主任", "grants": grants, "active": "1", **more}


def test_roles_are_given_in_units_and_shown_with_the_units_name(db, admin, tree):
    created = accounts.create_account(db, admin, {
        "username": "liu", "password": "first-password", **values([("社区负责人", tree["光明社区"]),
                                                                   ("受理员", tree["红星社区"]), ("", "1")])})
    assert created.roles == ("受理员(红星社区)", "社区负责人(光明社区)")
    actor = users.authenticate(db, "liu", "first-password")
    assert actor.grants == frozenset({("社区负责人", tree["光明社区"]), ("受理员", tree["红星社区"])})
    record = accounts.account_changes(db, admin, "liu")[0]
    assert record.data["roles"] == ["受理员(红星社区)", "社区负责人(光明社区)"]
    changed = accounts.update_account(db, admin, created.id, values([("社区负责人", tree["光明社区"]),
                                                                     ("社区负责人", tree["红星社区"])]))
    assert changed.roles == ("社区负责人(光明社区)", "社区负责人(红星社区)")
    assert accounts.account_changes(db, admin, "liu")[0].data["roles"] == [
        ["受理员(红星社区)", "社区负责人(光明社区)"], ["社区负责人(光明社区)", "社区负责人(红星社区)"]]


def test_typed_roles_go_into_the_unit_chosen_beside_them(db, admin, tree):
    typed = values([], other_roles="网格员、楼栋长", other_unit=tree["红星社区"])
    created = accounts.create_account(db, admin, {"username": "liu", "password": "first-password", **typed})
    assert created.roles == ("楼栋长(红星社区)", "网格员(红星社区)")


def test_a_closed_unit_takes_no_new_roles_but_keeps_those_it_had(db, admin, tree):
    created = accounts.create_account(db, admin, {"username": "liu", "password": "first-password",
                                                  **values([("受理员", tree["红星社区"])])})
    unitadmin.close(db, admin, tree["红星社区"])
    with pytest.raises(InvalidInput) as err:
        accounts.update_account(db, admin, created.id, values([("受理员", tree["红星社区"]),
                                                               ("承办人", tree["红星社区"])]))
    assert err.value.fields == {"grants": "承办人:“红星社区”已撤销,不能再授予角色"}
    kept = accounts.update_account(db, admin, created.id, values([("受理员", tree["红星社区"])], display_name="刘"))
    assert kept.roles == ("受理员(红星社区)",)
    with pytest.raises(InvalidInput) as err:
        accounts.update_account(db, admin, created.id, values([("受理员", "999")]))
    assert err.value.fields == {"grants": "受理员:所选单位不存在"}
    assert accounts.get_account(db, admin, created.id).display_name == "刘"


def test_a_new_account_with_a_role_in_a_unit_that_does_not_exist_is_not_created(db, admin, tree):
    with pytest.raises(InvalidInput) as err:
        accounts.create_account(db, admin, {"username": "liu", "password": "first-password",
                                            **values([("社区负责人", tree["光明社区"]), ("受理员", "999")])})
    assert err.value.fields == {"grants": "受理员:所选单位不存在"}
    assert [a.username for a in accounts.list_accounts(db, admin)] == ["admin"]


def test_an_administrator_of_one_community_gives_roles_only_there_and_leaves_the_rest(db, admin, tree):
    local = users.create_user(db, "gmadmin", PASSWORD, "光明管理员", ["管理员"], unit_id=tree["光明社区"])
    assert [u.name for u in accounts.unit_choices(db, local)] == ["光明社区"]
    both = [("受理员", tree["红星社区"]), ("承办人", tree["光明社区"])]
    created = accounts.create_account(db, admin, {"username": "liu", "password": "first-password", **values(both)})
    with pytest.raises(InvalidInput) as err:
        accounts.update_account(db, local, created.id, values([("承办人", tree["红星社区"])]))
    assert err.value.fields == {"grants": "承办人:只能在您所辖范围内的单位授予角色"}
    changed = accounts.update_account(db, local, created.id, values([("社区负责人", tree["光明社区"])]))
    assert changed.roles == ("受理员(红星社区)", "社区负责人(光明社区)")  # 红星社区's role is not theirs to take
    changed = accounts.update_account(db, admin, created.id, values([("受理员", tree["红星社区"])]))
    assert changed.roles == ("受理员(红星社区)",)


def test_an_administrator_of_one_community_manages_only_the_accounts_of_people_there(db, admin, staff, tree):
    """Someone who holds no role in the community is not theirs to see, change, deactivate or reset."""
    local = users.create_user(db, "gmadmin", PASSWORD, "光明管理员", ["管理员"], unit_id=tree["光明社区"])
    there = accounts.create_account(db, admin, {"username": "liu", "password": "first-password",
                                                **values([("受理员", tree["光明社区"])])})
    elsewhere = accounts.create_account(db, admin, {"username": "zhao", "password": "first-password",
                                                    **values([("受理员", tree["红星社区"])])})
    assert {a.username for a in accounts.list_accounts(db, local)} == {"gmadmin", "liu"}
    assert len(accounts.list_accounts(db, admin)) == len(staff) + 4  # the administrator of everything: all
    for attempt in (lambda: accounts.get_account(db, local, elsewhere.id),
                    lambda: accounts.update_account(db, local, elsewhere.id, values([], active="")),
                    lambda: accounts.reset_password(db, local, elsewhere.id, "taken-over-pw")):
        with pytest.raises(Forbidden, match="^只能管理在您所辖单位担任角色的人员的账户$"):
            attempt()
    assert accounts.get_account(db, local, there.id).username == "liu"
    assert users.authenticate(db, "zhao", "first-password").username == "zhao"


def test_an_administrator_keeps_their_own_administrator_role(db, admin, tree):
    with pytest.raises(InvalidInput) as err:
        accounts.update_account(db, admin, admin.id, values([("受理员", "1")], display_name="管理员甲"))
    assert err.value.fields == {"roles": "不能取消自己的“管理员”角色"}
    moved = accounts.update_account(db, admin, admin.id, values([("管理员", "1"), ("受理员", tree["光明社区"])]))
    assert moved.roles == ("受理员(光明社区)", "管理员(龙山街道)")


def test_losing_a_role_in_one_unit_gives_back_only_the_steps_routed_there(db, admin, staff, tree):
    """刘主任 leads both communities and has claimed a step of each; no longer 社区负责人 of 红星社区, its
    step goes back to 待认领 there, recorded in the case's trace, and 光明社区's stays with her."""
    deploy_file(db, DATA / "approval.bpmn")
    both = [("社区负责人", tree["光明社区"]), ("社区负责人", tree["红星社区"])]
    liu = accounts.create_account(db, admin, {"username": "liu", "password": "first-password", **values(both)})
    actor = users.authenticate(db, "liu", "first-password")
    numbers = {}
    for name in ("光明社区", "红星社区"):
        started = cases.start_case(db, staff["clerk"], "approval", {"title": f"{name}路灯"}, unit_id=tree[name])
        cases.claim(db, actor, started.new_tasks[0].id)
        numbers[name] = started.case_number
    accounts.update_account(db, admin, liu.id, values(both[:1]))
    kept = casepages.get_case(db, staff["leader"], numbers["光明社区"])
    released = casepages.get_case(db, staff["leader"], numbers["红星社区"])
    assert kept.open_steps[0].assignee == "刘主任"
    assert released.open_steps[0].assignee is None
    assert (released.history[-1].kind, released.history[-1].data["released"]) == ("task_unclaimed", "liu")


def test_a_role_given_while_its_unit_is_being_closed_waits_and_is_refused(db, admin, tree):
    """The administrator closing 红星社区 and another giving a role there at the same moment: the grant waits
    for the close and is refused; it never lands in the closed unit."""
    import threading

    from engine.people import units
    from engine.store.models import Unit

    created = accounts.create_account(db, admin, {"username": "liu", "password": "first-password",
                                                  **values([("受理员", tree["光明社区"])])})
    outcome: list[object] = []

    def grant() -> None:
        try:
            outcome.append(accounts.update_account(db, admin, created.id, values(
                [("受理员", tree["光明社区"]), ("承办人", tree["红星社区"])])).roles)
        except InvalidInput as err:
            outcome.append(err.fields)

    with db.write() as session:  # the close, not committed yet
        units.lock_tree(session)
        units.close_unit(session, "admin", session.get(Unit, tree["红星社区"]))
        other = threading.Thread(target=grant)
        other.start()
        other.join(1.0)
        assert outcome == []  # waiting for the close
    other.join(30)
    assert outcome == [{"grants": "承办人:“红星社区”已撤销,不能再授予角色"}]
    assert accounts.get_account(db, admin, created.id).roles == ("受理员(光明社区)",)
