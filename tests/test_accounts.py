"""用户管理: the 管理员 keeps staff accounts; everyone keeps their own name, e-mail and password.
Every change is all or nothing: a form with one bad field changes nothing."""
from __future__ import annotations

import pytest

from engine.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from engine.people import accounts, users
from tests.conftest import PASSWORD


@pytest.fixture
def admin(db):
    return users.create_user(db, "admin", PASSWORD, "管理员甲", ["管理员"])


def new_values(**changes) -> dict:
    return {"username": "wangge1", "display_name": "网格员一", "email": "Wangge1@Example.org",
            "password": "first-password", "roles": ["受理员"], "other_roles": "", **changes}


def test_an_administrator_creates_an_account_that_can_sign_in(db, admin):
    created = accounts.create_account(db, admin, new_values(other_roles="网格员、 楼栋长"))
    assert created.roles == ("受理员(本社区)", "楼栋长(本社区)", "网格员(本社区)")  # each role in its unit
    assert created.role_names == ("受理员", "楼栋长", "网格员")
    assert created.email == "Wangge1@example.org"  # the domain in its normal form
    assert created.active
    signed_in = users.authenticate(db, "wangge1", "first-password")
    assert signed_in.roles == frozenset(created.role_names)


def test_a_bad_form_names_each_field_and_creates_nothing(db, admin):
    with pytest.raises(InvalidInput) as err:
        accounts.create_account(db, admin, new_values(username="王 五", email="not-an-address", password="short",
                                                      other_roles="长" * 65))
    assert err.value.message == "请检查标出的字段"
    assert set(err.value.fields) == {"username", "email", "password", "other_roles"}
    assert "电子邮箱地址不正确" in err.value.fields["email"]
    assert [a.username for a in accounts.list_accounts(db, admin)] == ["admin"]


def test_a_username_is_taken_once(db, admin):
    accounts.create_account(db, admin, new_values())
    with pytest.raises(InvalidInput) as err:
        accounts.create_account(db, admin, new_values(display_name="另一个人"))
    assert (err.value.message, err.value.fields) == ("用户名 “wangge1” 已存在", {"username": "该用户名已被使用"})


def test_changing_roles_email_and_deactivating_takes_effect_at_once(db, admin):
    created = accounts.create_account(db, admin, new_values())
    changed = accounts.update_account(db, admin, created.id, {"display_name": "网格员一", "email": "",
                                                              "roles": ["承办人"], "active": ""})
    assert changed.roles == ("承办人(本社区)",) and changed.email is None and not changed.active
    with pytest.raises(Unauthorized):
        users.authenticate(db, "wangge1", "first-password")
    assert users.get_actor(db, created.id) is None  # an open session ends at its next request
    accounts.update_account(db, admin, created.id, {"display_name": "网格员一", "roles": ["承办人"], "active": "1"})
    assert users.authenticate(db, "wangge1", "first-password").roles == frozenset({"承办人"})


def test_a_deactivated_account_is_told_to_ask_the_administrator_only_with_the_right_password(db, admin):
    """停用: with the right password the person learns the account is deactivated and whom to ask;
    with a wrong one the message is the same as for a name that does not exist (no probing)."""
    created = accounts.create_account(db, admin, new_values())
    accounts.update_account(db, admin, created.id, {"display_name": "网格员", "roles": ["承办人"], "active": ""})
    with pytest.raises(Unauthorized) as right:
        users.authenticate(db, "wangge1", "first-password")
    assert "已停用" in right.value.message and "联系管理员" in right.value.message
    with pytest.raises(Unauthorized) as wrong:
        users.authenticate(db, "wangge1", "not-the-password")
    with pytest.raises(Unauthorized) as unknown:
        users.authenticate(db, "nobody-here", "first-password")
    assert wrong.value.message == unknown.value.message == "用户名或密码错误"


def test_a_deactivated_accounts_api_token_stops_working_until_it_is_reactivated(db, admin):
    """停用 ends the API too: the account's token is refused while it is deactivated, and works again
    (with the account's roles) once an administrator reactivates it."""
    created = accounts.create_account(db, admin, new_values())
    token = users.create_token(db, "wangge1")
    assert users.actor_for_token(db, token).username == "wangge1"
    accounts.update_account(db, admin, created.id, {"display_name": "网格员一", "roles": ["受理员"], "active": ""})
    with pytest.raises(Unauthorized, match="API 令牌无效"):
        users.actor_for_token(db, token)
    accounts.update_account(db, admin, created.id, {"display_name": "网格员一", "roles": ["受理员"], "active": "1"})
    assert users.actor_for_token(db, token).roles == frozenset({"受理员"})


def test_every_request_reads_its_actor_in_one_statement(db, admin, monkeypatch):
    """A signed-in page and an API call read the account and all its roles in one statement (they run
    before every request); an account without roles still has an actor, one with several has them all."""
    from engine.store import driver

    several = users.create_user(db, "several", PASSWORD, "多角色", ["受理员", "承办人", "网格员"])
    none = users.create_user(db, "none", PASSWORD, "无角色", [])
    token = users.create_token(db, "several")
    statements: list[str] = []
    real_run = driver.run
    monkeypatch.setattr(driver, "run", lambda conn, statement, *rest: statements.append(statement.sqlite)
                        or real_run(conn, statement, *rest))
    assert users.get_actor(db, several.id, session_version=0) == several
    assert users.actor_for_token(db, token) == several
    assert users.get_actor(db, none.id).roles == frozenset()
    assert users.get_actor(db, several.id, session_version=1) is None  # the password changed since
    assert users.get_actor(db, 999_999) is None
    with pytest.raises(Unauthorized, match="API 令牌无效"):
        users.actor_for_token(db, "not-a-token")
    assert len(statements) == 6


def test_a_signed_in_page_reads_the_account_and_its_unread_notifications_in_one_statement(db, admin, monkeypatch):
    """The page header's unread count comes with the session's account, in the same statement: only that
    account's notifications, only unread ones; gone, deactivated or re-passworded accounts have no session."""
    from engine.people import notifications
    from engine.store import driver

    reader = users.create_user(db, "reader", PASSWORD, "读者", ["受理员"])
    other = users.create_user(db, "other", PASSWORD, "旁人", ["受理员"])
    with db.write() as session:
        notifications.notify(session, [reader.id, other.id], "urge", "请处理")
        notifications.notify(session, [reader.id], "urge", "请再处理")
    notifications.mark_read(db, reader, notifications.notifications_for(db, reader)[0].id)
    statements: list[str] = []
    real_run = driver.run
    monkeypatch.setattr(driver, "run", lambda conn, statement, *rest: statements.append(statement.sqlite)
                        or real_run(conn, statement, *rest))
    signed = users.signed_in(db, reader.id, 0)
    assert signed == users.SignedIn(reader, 1) and len(statements) == 1
    assert users.signed_in(db, other.id, 0).unread_notifications == 1
    assert users.signed_in(db, admin.id, 0).unread_notifications == 0
    assert users.signed_in(db, reader.id, 1) is None  # the password changed since that session signed in
    assert users.signed_in(db, 999_999, 0) is None
    accounts.update_account(db, admin, reader.id, {"display_name": "读者", "roles": ["受理员"], "active": ""})
    assert users.signed_in(db, reader.id, 0) is None


def test_an_administrator_cannot_lock_themself_out(db, admin):
    with pytest.raises(InvalidInput) as err:
        accounts.update_account(db, admin, admin.id, {"display_name": "管理员甲", "roles": ["受理员"], "active": ""})
    assert err.value.fields == {"roles": "不能取消自己的“管理员”角色", "active": "不能停用自己的账户"}
    assert users.get_actor(db, admin.id).roles == frozenset({"管理员"})


def test_a_failed_change_keeps_the_account_as_it_was(db, admin):
    created = accounts.create_account(db, admin, new_values())
    with pytest.raises(InvalidInput):
        accounts.update_account(db, admin, created.id, {"display_name": "新名字", "email": "bad@", "roles": [],
                                                        "active": "1"})
    assert accounts.get_account(db, admin, created.id) == created


def test_a_password_reset_replaces_the_old_password(db, admin):
    created = accounts.create_account(db, admin, new_values())
    with pytest.raises(InvalidInput):
        accounts.reset_password(db, admin, created.id, "short")
    accounts.reset_password(db, admin, created.id, "second-password")
    with pytest.raises(Unauthorized):
        users.authenticate(db, "wangge1", "first-password")
    assert users.authenticate(db, "wangge1", "second-password").username == "wangge1"


def test_the_role_choices_are_the_lanes_and_the_applications_roles(db, admin, staff):
    from engine.actor import SYSTEM
    from engine.bpmn import deployments
    from tests.conftest import PROCESSES

    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    choices = accounts.role_choices(db, admin)
    assert choices[:3] == users.APP_ROLES
    assert {"受理员", "社区负责人", "承办人", "上级部门", "民情监督员", "居务监督委员会"} <= set(choices)
    assert len(choices) == len(set(choices))


def test_the_role_choices_are_grouped_by_procedure_each_role_once(db, admin, staff):
    """用户管理 groups the roles: the application's, then each deployed procedure's lanes in the
    diagram's order (by procedure name), then roles held that no diagram uses. A role two procedures
    share is offered once, under the first, which names the other."""
    from engine.actor import SYSTEM
    from engine.bpmn import deployments
    from tests.conftest import PROCESSES

    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    accounts.create_account(db, admin, new_values(roles=[], other_roles="网格长"))
    groups = {g.title: g for g in accounts.role_groups(db, admin)}
    titles = list(groups)
    assert titles[0] == "系统角色" and titles[-1] == "其他角色(流程图中未使用)"
    assert groups["系统角色"].roles == users.APP_ROLES
    assert "网格长" in groups["其他角色(流程图中未使用)"].roles
    minqing = next(g for g in groups.values() if g.title.startswith("民情流水线"))
    assert {"上级部门", "民情监督员"} <= set(minqing.roles)
    first = next(g for g in groups.values() if "受理员" in g.roles)
    assert first is minqing or minqing.title in first.also["受理员"]
    offered = [r for g in groups.values() for r in g.roles]
    assert len(offered) == len(set(offered))
    shared = [(g.title, r, also) for g in groups.values() for r, also in g.also.items()]
    assert shared and all(r not in groups[t].roles and r in groups[t].elsewhere
                          for _, r, others in shared for t in others)


@pytest.mark.parametrize("call", [
    lambda db, who: accounts.list_accounts(db, who),
    lambda db, who: accounts.get_account(db, who, who.id),
    lambda db, who: accounts.role_choices(db, who),
    lambda db, who: accounts.create_account(db, who, new_values()),
    lambda db, who: accounts.update_account(db, who, who.id, {"roles": ["管理员"], "active": "1"}),
    lambda db, who: accounts.reset_password(db, who, who.id, "another-password"),
])
def test_only_an_administrator_manages_accounts(db, staff, call):
    with pytest.raises(Forbidden, match="^只有管理员可以管理用户$"):
        call(db, staff["leader"])
    assert users.authenticate(db, "leader", PASSWORD).roles == frozenset({"社区负责人"})


def test_everyone_keeps_their_own_name_email_and_password(db, staff):
    me = staff["clerk"]
    mine = accounts.update_my_account(db, me, {"display_name": "王受理员", "email": "clerk@example.org",
                                               "roles": ["管理员"]})  # roles are not one's own to give
    assert (mine.display_name, mine.email, mine.roles) == ("王受理员", "clerk@example.org", ("受理员(本社区)",))
    with pytest.raises(InvalidInput) as err:
        accounts.change_my_password(db, me, "wrong-password", "new-password", "new-passwrod")
    assert err.value.fields == {"current_password": "当前密码不正确", "new_password_again": "两次输入的新密码不一致"}
    users.authenticate(db, "clerk", PASSWORD)  # unchanged
    accounts.change_my_password(db, me, PASSWORD, "new-password", "new-password")
    assert users.authenticate(db, "clerk", "new-password").username == "clerk"


def test_an_unknown_account_is_not_found(db, admin):
    with pytest.raises(NotFound, match="^用户 999999 不存在$"):
        accounts.get_account(db, admin, 999_999)


def test_every_change_to_an_account_is_recorded_for_the_auditors(db, admin, staff):
    created = accounts.create_account(db, admin, new_values())
    accounts.update_account(db, admin, created.id, {"display_name": "网格员一", "email": "Wangge1@Example.org",
                                                    "roles": ["受理员", "社区负责人"], "active": ""})
    accounts.update_account(db, admin, created.id, {"display_name": "网格员一", "email": "Wangge1@Example.org",
                                                    "roles": ["受理员", "社区负责人"], "active": ""})  # no change
    accounts.reset_password(db, admin, created.id, "second-password")
    accounts.change_my_password(db, staff["clerk"], PASSWORD, "new-password", "new-password")
    with pytest.raises(InvalidInput):  # refused: nothing recorded
        accounts.update_account(db, admin, created.id, {"email": "bad@", "roles": []})
    changes = accounts.account_changes(db, staff["auditor"])
    assert [(c.actor, c.username, c.kind_name) for c in changes[:4]] == [
        ("clerk", "clerk", "本人修改密码"), ("admin", "wangge1", "管理员重设密码"),
        ("admin", "wangge1", "修改账户"), ("admin", "wangge1", "创建账户")]
    # accounts made on the command line (here: the test's staff) are recorded too
    assert {(c.actor, c.kind, c.data["via"]) for c in changes[4:]} == {("system", "account_created", "命令行")}
    assert {c.username for c in changes[4:]} == {"admin", *staff}
    assert changes[2].data == {"roles": [["受理员(本社区)"], ["受理员(本社区)", "社区负责人(本社区)"]],
                               "active": [True, False]}  # roles recorded with their units' names
    assert changes[3].data == {"display_name": "网格员一", "email": "Wangge1@example.org", "roles": ["受理员(本社区)"],
                               "active": True}
    assert "password" not in str([c.data for c in changes])
    assert [c.kind for c in accounts.account_changes(db, admin, "clerk")] == ["password_changed", "account_created"]
    with pytest.raises(Forbidden):
        accounts.account_changes(db, staff["leader"])


def test_the_record_of_account_changes_cannot_be_edited(db, admin):
    from sqlalchemy import select

    from engine.store import audit_chain
    from engine.store.models import AccountEvent

    accounts.create_account(db, admin, new_values())
    with pytest.raises(audit_chain.AuditTampering):
        with db.write() as session:
            session.scalars(select(AccountEvent)).first().username = "someone-else"
    with pytest.raises(audit_chain.AuditTampering):
        with db.write() as session:
            session.delete(session.scalars(select(AccountEvent)).first())
    assert [c.username for c in accounts.account_changes(db, admin)] == ["wangge1", "admin"]


def test_a_password_set_by_an_administrator_must_be_replaced_and_a_new_one_ends_other_sessions(db, admin):
    created = accounts.create_account(db, admin, new_values())
    first = users.authenticate(db, "wangge1", "first-password")
    assert first.must_change_password and first.session_version == 0
    with pytest.raises(InvalidInput) as err:
        accounts.change_my_password(db, first, "first-password", "first-password", "first-password")
    assert err.value.fields == {"new_password": "新密码不能与当前密码相同"}
    renewed = accounts.change_my_password(db, first, "first-password", "own-password", "own-password")
    assert not renewed.must_change_password and renewed.session_version == 1
    assert users.get_actor(db, created.id, 0) is None  # a session signed in before the change has ended
    assert users.get_actor(db, created.id, 1) == renewed
    accounts.reset_password(db, admin, created.id, "forgotten-reset")
    after_reset = users.authenticate(db, "wangge1", "forgotten-reset")
    assert after_reset.must_change_password and after_reset.session_version == 2
    assert users.get_actor(db, created.id, 1) is None
    with pytest.raises(InvalidInput, match="我的账户"):
        accounts.reset_password(db, admin, admin.id, "my-own-reset")


def test_the_list_shows_each_account_as_its_own_page_does(db, admin, staff):
    accounts.create_account(db, admin, new_values(roles=["社区负责人", "受理员"], other_roles="网格员"))
    listed = {a.username: a for a in accounts.list_accounts(db, admin)}
    for account in listed.values():
        assert account == accounts.get_account(db, admin, account.id)
    assert listed["wangge1"].roles == ("受理员(本社区)", "社区负责人(本社区)", "网格员(本社区)")


def test_the_person_hears_of_new_roles_and_of_a_password_reset(db, admin, staff):
    from engine.people import notifications

    clerk = staff["clerk"]
    accounts.update_account(db, admin, clerk.id, {"display_name": "王受理", "roles": ["受理员"], "active": "1"})
    assert notifications.notifications_for(db, clerk) == ()  # nothing changed that the clerk must know
    accounts.update_account(db, admin, clerk.id, {"display_name": "王受理", "roles": ["受理员", "承办人"],
                                                  "active": "1"})
    accounts.reset_password(db, admin, clerk.id, "reset-by-admin")
    accounts.update_account(db, admin, clerk.id, {"display_name": "王受理", "roles": [], "active": "1"})
    heard = [(n.kind, n.kind_name, n.text) for n in notifications.notifications_for(db, clerk)]
    assert heard == [  # newest first; the kind 账户 is how the person tells them from the notices of cases
        ("account", "账户", "管理员甲把您的角色改为:无。"),
        ("account", "账户", "管理员甲重设了您的密码。如果不是您本人请求的,请立即联系管理员。"),
        ("account", "账户", "管理员甲把您的角色改为:受理员(本社区)、承办人(本社区)。")]


def test_a_username_taken_at_the_same_moment_is_refused_as_a_taken_one(db, admin):
    """Two administrators creating the same username at once: the check before the insert sees nothing yet,
    the database's unique username refuses the later insert, and its administrator reads the same words as
    for a name taken earlier; nothing of theirs is created. (SQLite lets one writer in at a time, so the test
    writes the rival's row itself, between the check and the insert.)"""
    from sqlalchemy import event, insert
    from sqlalchemy.orm import Session

    from engine import clock
    from engine.store.models import User

    def rival(session, _context, _instances) -> None:
        if any(isinstance(row, User) and row.username == "wangge1" for row in session.new):
            session.execute(insert(User).values(username="wangge1", display_name="另一个人", password_hash="-",
                                                active=True, created_at=clock.now(), session_version=0,
                                                must_change_password=True))

    event.listen(Session, "before_flush", rival)
    try:
        with pytest.raises(InvalidInput) as err:
            accounts.create_account(db, admin, new_values())
    finally:
        event.remove(Session, "before_flush", rival)
    assert (err.value.message, err.value.fields) == ("用户名 “wangge1” 已存在", {"username": "该用户名已被使用"})
    assert [a.username for a in accounts.list_accounts(db, admin)] == ["admin"]


def test_a_form_without_a_username_is_refused_on_that_field(db, admin):
    without = new_values()
    del without["username"]
    with pytest.raises(InvalidInput) as err:
        accounts.create_account(db, admin, without)
    assert err.value.fields == {"username": "用户名只能包含字母、数字、下划线和点"}
    assert [a.username for a in accounts.list_accounts(db, admin)] == ["admin"]


def test_an_account_without_a_name_goes_by_its_username(db, admin, staff):
    nameless = new_values()
    del nameless["display_name"]
    assert accounts.create_account(db, admin, nameless).display_name == "wangge1"
    assert accounts.update_my_account(db, staff["clerk"], {"display_name": "", "email": ""}).display_name == "clerk"
    assert accounts.update_my_account(db, staff["clerk"], {"display_name": "王受理"}).display_name == "王受理"


def test_a_name_longer_than_64_characters_is_refused_on_the_name_field_wherever_it_is_entered(db, admin, staff):
    clerk = staff["clerk"]
    too_long = "名" * 65
    for attempt in (lambda: accounts.create_account(db, admin, new_values(display_name=too_long)),
                    lambda: accounts.update_account(db, admin, clerk.id, {"display_name": too_long,
                                                                          "roles": ["受理员"], "active": "1"}),
                    lambda: accounts.update_my_account(db, clerk, {"display_name": too_long})):
        with pytest.raises(InvalidInput) as err:
            attempt()
        assert (err.value.message, err.value.fields) == ("请检查标出的字段",
                                                         {"display_name": "姓名不能超过 64 个字(现有 65 个)"})
    assert users.get_actor(db, clerk.id).display_name == clerk.display_name
    assert accounts.update_my_account(db, clerk, {"display_name": "名" * 64}).display_name == "名" * 64


def test_a_bad_role_name_is_refused_on_the_field_it_was_entered_in_with_its_first_20_characters(db, admin):
    """A role name too long or with a control character, typed into 其他角色, ticked, or in a role row: the
    message names the first bad role's problem and its first 20 characters."""
    too_long, hidden = "长" * 65, "坏\x00名"
    said = f"角色名不能超过 64 个字(现有 65 个):{'长' * 20}…"
    for form, field in ((new_values(roles=[], other_roles=f"{too_long}、{hidden}"), "other_roles"),
                        (new_values(roles=[too_long, hidden]), "other_roles"),
                        (new_values(roles=[], grants=[(too_long, "1"), (hidden, "1")]), "grants")):
        with pytest.raises(InvalidInput) as err:
            accounts.create_account(db, admin, form)
        assert err.value.fields == {field: said}
    with pytest.raises(InvalidInput) as err:
        accounts.create_account(db, admin, new_values(roles=[], grants=[(hidden, "1")]))
    assert err.value.fields == {"grants": "角色名含有不可见的控制字符(如 NUL),请删除后再提交:坏\x00名…"}
    assert [a.username for a in accounts.list_accounts(db, admin)] == ["admin"]


def test_one_ticked_role_may_come_as_a_single_string(db, admin):
    assert accounts.create_account(db, admin, new_values(roles="承办人")).roles == ("承办人(本社区)",)


def test_an_account_may_hold_no_role_at_all(db, admin):
    created = accounts.create_account(db, admin, new_values(roles=[]))
    assert (created.roles, created.grants) == ((), ())
    assert accounts.get_account(db, admin, created.id) == created
    assert created in accounts.list_accounts(db, admin)
    assert users.authenticate(db, "wangge1", "first-password").roles == frozenset()


def test_the_list_is_by_username_with_deactivated_accounts_last(db, admin):
    made = {name: accounts.create_account(db, admin, new_values(username=name)) for name in ("zhao", "li", "wang")}
    accounts.update_account(db, admin, made["li"].id, {"display_name": "网格员一", "roles": ["受理员"], "active": ""})
    assert [a.username for a in accounts.list_accounts(db, admin)] == ["admin", "wang", "zhao", "li"]


def test_an_accounts_creation_and_each_change_carry_the_time_they_were_made(db, admin, frozen_clock):
    from datetime import timedelta

    first = frozen_clock.value
    created = accounts.create_account(db, admin, new_values())
    frozen_clock.set(first + timedelta(hours=1))
    accounts.update_account(db, admin, created.id, {"display_name": "网格员一", "roles": ["承办人"], "active": "1"})
    assert created.created_at == first
    assert accounts.get_account(db, admin, created.id).created_at == first
    assert [c.at for c in accounts.account_changes(db, admin, "wangge1")] == [first + timedelta(hours=1), first]


def test_the_active_tick_is_on_only_for_the_values_a_form_or_a_caller_sends_for_yes(db, admin, staff):
    """停用/启用: a form's ticked box ("1", "on"), a JSON true or its spellings "true", "yes" keep the account
    active; anything else, an unticked box included, deactivates it."""
    clerk = staff["clerk"]

    def active_after(value) -> bool:
        return accounts.update_account(db, admin, clerk.id, {"display_name": "王受理", "roles": ["受理员"],
                                                             "active": value}).active

    for yes, no in ((True, False), ("1", ""), ("on", None), ("true", "0"), ("yes", "off"), (True, "no"),
                    (True, "false")):
        assert active_after(yes) is True, yes
        assert active_after(no) is False, no


def test_each_change_to_an_account_writes_one_log_line_without_its_details(db, admin, staff, caplog):
    """The log names the account, the kind of change and who made it, at INFO; what changed (an e-mail
    address, say) stays in the record of account changes."""
    import logging

    caplog.set_level(logging.INFO, logger="engine.people.accounts")
    created = accounts.create_account(db, admin, new_values())
    accounts.update_account(db, admin, created.id, {"display_name": "网格员一", "email": "new@example.org",
                                                    "roles": ["受理员"], "active": "1"})
    accounts.reset_password(db, admin, created.id, "second-password")
    accounts.change_my_password(db, staff["clerk"], PASSWORD, "new-password", "new-password")
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "engine.people.accounts"] == [
        ("INFO", "account wangge1: account_created by admin"), ("INFO", "account wangge1: account_changed by admin"),
        ("INFO", "account wangge1: password_reset by admin"), ("INFO", "account clerk: password_changed by clerk")]
    assert "example.org" not in caplog.text


def test_a_password_reset_is_refused_on_the_password_field_for_ones_own_and_for_a_short_one(db, admin):
    created = accounts.create_account(db, admin, new_values())
    with pytest.raises(InvalidInput) as own:
        accounts.reset_password(db, admin, admin.id, "my-own-reset")
    assert (own.value.message, own.value.fields) == ("自己的密码请在“我的账户”中修改",
                                                     {"password": "自己的密码请在“我的账户”中修改"})
    with pytest.raises(InvalidInput) as short:
        accounts.reset_password(db, admin, created.id, "seven77")
    assert (short.value.message, short.value.fields) == ("密码至少 8 位", {"password": "密码至少 8 位"})
    assert users.authenticate(db, "admin", PASSWORD).username == "admin"
    accounts.reset_password(db, admin, created.id, "eight888")  # eight characters are enough
    assert users.authenticate(db, "wangge1", "eight888").username == "wangge1"


def test_a_new_password_too_short_is_refused_on_its_field_before_the_repetition_is_compared(db, staff):
    clerk = staff["clerk"]
    with pytest.raises(InvalidInput) as err:
        accounts.change_my_password(db, clerk, PASSWORD, "short", "other")
    assert err.value.fields == {"new_password": "密码至少 8 位"}
    assert users.authenticate(db, "clerk", PASSWORD).username == "clerk"


def test_a_procedures_roles_are_its_lanes_then_its_other_candidate_groups_alphabetically(db, admin):
    from engine.actor import SYSTEM
    from engine.bpmn import deployments
    from tests.conftest import DATA

    xml = (DATA / "approval.bpmn").read_text()
    xml = xml.replace('candidateStarterGroups="受理员"', 'candidateStarterGroups="受理员,网格员"')
    xml = xml.replace('name="审核" camunda:dueDate', 'name="审核" camunda:candidateGroups="社区负责人,居务监督委员会" '
                      'camunda:dueDate')
    deployments.deploy(db, xml.encode(), "approval.bpmn", SYSTEM)
    group = next(g for g in accounts.role_groups(db, admin) if g.title == "简单审批")
    assert group.roles == ("受理员", "社区负责人", "居务监督委员会", "网格员")


def test_the_record_of_account_changes_reads_the_newest_500(db, admin):
    with db.write() as session:
        for n in range(501):
            users.record(session, "admin", f"user{n}", "password_reset", {})
    changes = accounts.account_changes(db, admin)
    assert len(changes) == 500
    assert (changes[0].username, changes[-1].username) == ("user500", "user1")


def test_a_change_of_a_kind_this_version_does_not_name_is_shown_as_it_was_recorded(db, admin):
    """An event written by another version of Minyi keeps its kind as its name in the record."""
    with db.write() as session:
        users.record(session, "admin", "wangge1", "account_merged", {})
    newest = accounts.account_changes(db, admin)[0]
    assert (newest.kind, newest.kind_name) == ("account_merged", "account_merged")
    assert accounts.account_changes(db, admin)[1].kind_name == "创建账户"
