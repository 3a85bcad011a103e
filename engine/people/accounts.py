"""用户管理: the 管理员 keeps the staff accounts (who holds which roles, e-mail, 停用/启用, password
reset); every staff member keeps their own name, e-mail and password.

Roles are the diagrams' lanes and candidate groups, plus the application's own (管理员, 流程设计人员,
审计); an administrator may also give a role no diagram uses yet (a lane about to be deployed). Roles are
held in units (社区负责人 of 光明社区): the form edits (role, unit) pairs (`grants`). A 管理员 whose scope is
not everything manages only the accounts of people holding a role in it, and gives and takes roles only
there.
A deactivated account cannot sign in, and its open sessions end at their next request. Steps a person
claimed or was assigned go back to 待认领 when they lose the step's role or are deactivated (`claims`).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.bpmn import deployments
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.store import text as free_text
from engine.store.db import Database
from engine.store.models import AccountEvent, User, UserRole

from . import claims, notifications, units, users
from . import grants as held_in
from .grants import Grant
from .oversight import audit_scope, require_auditor

log = logging.getLogger(__name__)
ADMIN_ROLE = "管理员"
_ROLE_SEPARATORS = ("、", ",", ",", ";", ";", "\n")


@dataclass(frozen=True)
class Account:
    """One staff account as the 用户管理 pages show it; `roles` as people read them, "社区负责人(光明社区)"."""

    id: int
    username: str
    display_name: str
    email: str | None
    roles: tuple[str, ...]
    active: bool
    created_at: datetime
    grants: tuple[Grant, ...] = ()

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(sorted({g.role for g in self.grants}))


def list_accounts(db: Database, actor: Actor) -> list[Account]:
    """Every account the administrator manages (see `_manages`), active ones first, by username (管理员 only)."""
    _require_admin(actor)
    with db.read() as session:
        held = held_in.grants_of(session, None)
        found = [_make(u, held.get(u.id, ())) for u in session.scalars(select(User).order_by(User.username))]
    return sorted((a for a in found if _manages(actor, a)), key=lambda a: not a.active)


def unit_choices(db: Database, actor: Actor) -> tuple[units.UnitView, ...]:
    """The units in which the administrator may give roles, in tree order (closed ones flagged)."""
    _require_admin(actor)
    with db.read() as session:
        return tuple(u for u in units.all_units(session) if actor.sees_path(u.path))


def get_account(db: Database, actor: Actor, user_id: int) -> Account:
    _require_admin(actor)
    with db.read() as session:
        return _managed(session, actor, user_id)


def my_account(db: Database, actor: Actor) -> Account:
    with db.read() as session:
        return _account(session, _user(session, actor.id))


@dataclass(frozen=True)
class RoleGroup:
    """The roles of one procedure (its lanes, in the diagram's order, then its candidate groups), of
    the application, or held by someone though no diagram uses them; `also` names the other
    procedures a role appears in (each role is offered once, under the first), `elsewhere` the
    procedure's roles offered under an earlier group."""

    title: str
    roles: tuple[str, ...]
    also: Mapping[str, tuple[str, ...]]
    elsewhere: tuple[str, ...] = ()


def role_groups(db: Database, actor: Actor) -> tuple[RoleGroup, ...]:
    """The roles an administrator picks from, grouped by procedure (newest version of each, by name):
    the application's roles first, then each procedure's, then roles held today that no diagram uses."""
    _require_admin(actor)
    with db.read() as session:
        procedures = _procedure_roles(session)
        held = sorted(session.scalars(select(UserRole.role).distinct()))
    shown = set(users.APP_ROLES)
    groups = [RoleGroup("系统角色", users.APP_ROLES, {})]
    for title, roles in procedures:
        own = tuple(r for r in roles if r not in shown)
        also = {r: tuple(t for t, others in procedures if t != title and r in others) for r in own}
        elsewhere = tuple(r for r in roles if r in shown)
        shown.update(own)
        groups.append(RoleGroup(title, own, {r: a for r, a in also.items() if a}, elsewhere))
    others = tuple(r for r in held if r and r not in shown)
    if others:
        groups.append(RoleGroup("其他角色(流程图中未使用)", others, {}))
    return tuple(groups)


def _procedure_roles(session: Session) -> list[tuple[str, list[str]]]:
    """Each procedure's name (newest version, by name) with its roles: its lanes in the diagram's
    order, then its other candidate groups, alphabetically."""
    procedures: list[tuple[str, list[str]]] = []
    for row in sorted(deployments.latest_versions(session), key=lambda r: (r.name, r.process_id)):
        d = deployments.diagram_of(session, row.id)
        procedures.append((d.name or row.process_id, list(dict.fromkeys(
            [lane for lane in d.lanes if lane] + sorted(r for r in d.roles if r not in d.lanes)))))
    return procedures


def role_choices(db: Database, actor: Actor) -> tuple[str, ...]:
    """Every role an administrator may pick, in the order of `role_groups`."""
    return tuple(r for group in role_groups(db, actor) for r in group.roles)


def create_account(db: Database, actor: Actor, values: Mapping[str, Any]) -> Account:
    """A new active account from the form's `username`, `display_name`, `email`, `password`, `roles`."""
    _require_admin(actor)
    errors: dict[str, str] = {}
    username = str(values.get("username") or "").strip()
    password = str(values.get("password") or "")
    _note(errors, "username", users.username_problem(username))
    display_name, email, wanted = _profile(values, errors)
    _note(errors, "password", users.password_problem(password))
    _raise_if(errors)
    with db.write() as session:
        wanted_grants = held_in.resolve(session, actor, None, wanted, errors)
        _raise_if(errors)
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise InvalidInput(f"用户名 “{username}” 已存在", {"username": "该用户名已被使用"})
        user = User(username=username, display_name=display_name or username, email=email,
                    password_hash=users.hash_password(password), active=True, created_at=clock.now(),
                    session_version=0, must_change_password=True)  # the newcomer chooses their own at sign-in
        session.add(user)
        try:
            session.flush()
        except IntegrityError:  # another administrator took the name a moment ago
            raise InvalidInput(f"用户名 “{username}” 已存在", {"username": "该用户名已被使用"}) from None
        held_in.set_grants(session, user.id, wanted_grants)
        created = _account(session, user)
        _record(session, actor, username, "account_created", _shown(created))
        return created


def update_account(db: Database, actor: Actor, user_id: int, values: Mapping[str, Any]) -> Account:
    """Change an account's `display_name`, `email`, roles in units and `active` (管理员 only). An
    administrator can neither take the 管理员 role from themself nor deactivate themself: someone must
    stay able to manage accounts. Steps the person may no longer do (a role lost in a unit) go back to
    待认领."""
    _require_admin(actor)
    errors: dict[str, str] = {}
    display_name, email, wanted = _profile(values, errors)
    active = _flag(values.get("active"))
    if user_id == actor.id and not active:
        errors["active"] = "不能停用自己的账户"
    with db.write() as session:
        _managed(session, actor, user_id)
        user = _user(session, user_id)
        grants = held_in.resolve(session, actor, user.id, wanted, errors)
        if user_id == actor.id and ADMIN_ROLE not in {role for role, _ in grants}:
            errors["roles"] = "不能取消自己的“管理员”角色"
        _raise_if(errors)
        before = _account(session, user)
        # the steps the person can no longer do go back to their roles' lists (their cases locked first)
        claims.release(session, user.id, user.username, grants, active, actor.username)
        user.display_name = display_name or user.username
        user.email = email
        user.active = active
        held_in.set_grants(session, user.id, grants)
        after = _account(session, user)
        _record_changes(session, actor, before, after)
        if before.roles != after.roles and after.active and user.id != actor.id:
            notifications.notify(session, [user.id], "account",
                                 f"{actor.display_name}把您的角色改为:{'、'.join(after.roles) or '无'}。")
        return after


def reset_password(db: Database, actor: Actor, user_id: int, password: str) -> None:
    """Set a new password for someone who forgot theirs (管理员 only)."""
    _require_admin(actor)
    if user_id == actor.id:
        raise InvalidInput("自己的密码请在“我的账户”中修改", {"password": "自己的密码请在“我的账户”中修改"})
    problem = users.password_problem(password)
    if problem:
        raise InvalidInput(problem, {"password": problem})
    with db.write() as session:
        _managed(session, actor, user_id)
        user = _user(session, user_id)
        users.replace_password(user, password, must_change=True)
        _record(session, actor, user.username, "password_reset", {})
        notifications.notify(session, [user.id], "account",
                             f"{actor.display_name}重设了您的密码。如果不是您本人请求的,请立即联系管理员。")


def update_my_account(db: Database, actor: Actor, values: Mapping[str, Any]) -> Account:
    """One's own `display_name` and `email` (roles are the administrator's to give)."""
    errors: dict[str, str] = {}
    display_name = _display_name(values, errors)
    email = _email(values, errors)
    _raise_if(errors)
    with db.write() as session:
        user = _user(session, actor.id)
        before = _account(session, user)
        user.display_name = display_name or user.username
        user.email = email
        after = _account(session, user)
        _record_changes(session, actor, before, after)
        return after


def change_my_password(db: Database, actor: Actor, current: str, new: str, again: str) -> Actor:
    """A new password for oneself, after proving the current one. Every other session of the account
    ends; the returned actor carries the new session version, for the session that made the change."""
    errors: dict[str, str] = {}
    _note(errors, "new_password", users.password_problem(new))
    if not errors and new != again:
        errors["new_password_again"] = "两次输入的新密码不一致"  # noqa: S105 — a form field's name and its message
    with db.write() as session:
        user = _user(session, actor.id)
        if not users.password_matches(user.password_hash, current or ""):
            errors = {"current_password": "当前密码不正确", **errors}
        if not errors and users.password_matches(user.password_hash, new):
            errors["new_password"] = "新密码不能与当前密码相同"  # noqa: S105 — a form field's name and its message
        _raise_if(errors)
        users.replace_password(user, new, must_change=False)
        _record(session, actor, user.username, "password_changed", {})
        return users.actor_of(session, user)


@dataclass(frozen=True)
class AccountChange:
    """One entry of the record of account changes (账户变更记录)."""

    at: datetime
    actor: str
    username: str
    kind: str
    kind_name: str
    data: dict[str, Any]


KIND_NAMES = {"account_created": "创建账户", "account_changed": "修改账户", "password_reset": "管理员重设密码",
              "password_changed": "本人修改密码"}
_SHOWN = ("display_name", "email", "roles", "active")


def account_changes(db: Database, actor: Actor, username: str = "", limit: int = 500) -> list[AccountChange]:
    """The newest changes to accounts first, optionally of one account (审计 and 管理员): of the accounts that
    hold a role in the units the reader audits (every account, for one who audits every unit)."""
    require_auditor(actor)
    query = select(AccountEvent).order_by(AccountEvent.id.desc()).limit(limit)
    if username:
        query = query.where(AccountEvent.username == username)
    with db.read() as session:
        in_units = units.in_scope(UserRole.unit_id, audit_scope(session, actor))
        if in_units is not None:
            query = query.where(AccountEvent.username.in_(
                select(User.username).join(UserRole, UserRole.user_id == User.id).where(in_units)))
        return [AccountChange(e.at, e.actor, e.username, e.kind, KIND_NAMES.get(e.kind, e.kind), dict(e.data))
                for e in session.scalars(query)]


def _shown(account: Account) -> dict[str, Any]:
    return {"display_name": account.display_name, "email": account.email, "roles": list(account.roles),
            "active": account.active}


def _record_changes(session: Session, actor: Actor, before: Account, after: Account) -> None:
    """One `account_changed` event with each changed field's old and new value (nothing when nothing changed)."""
    old, new = _shown(before), _shown(after)
    changes = {k: [old[k], new[k]] for k in _SHOWN if old[k] != new[k]}
    if changes:
        _record(session, actor, after.username, "account_changed", changes)


def _record(session: Session, actor: Actor, username: str, kind: str, data: dict[str, Any]) -> None:
    users.record(session, actor.username, username, kind, data)
    log.info("account %s: %s by %s", username, kind, actor.username)  # the details (e-mail) stay in the table


def _profile(values: Mapping[str, Any], errors: dict[str, str]) -> tuple[str, str | None, list[tuple[str, Any]]]:
    """The name, e-mail and the wanted (role, unit) pairs of a form: `grants` (pairs as the form's rows
    give them), the roles typed into 其他角色 in `other_unit`, and ticked `roles` (held where they are
    held already, else in the default unit: the command line's and older callers' way). A unit of None
    means that."""
    display_name = _display_name(values, errors)
    email = _email(values, errors)
    other_unit = values.get("other_unit") or None
    wanted = [(str(r).strip(), u) for r, u in values.get("grants") or () if str(r or "").strip()]
    wanted += [(r, other_unit) for r in _roles(None, values.get("other_roles"), errors)]
    wanted += [(r, None) for r in _roles(values.get("roles"), None, errors)]
    bad = [(r, found) for r, _ in wanted if (found := free_text.problem(r, free_text.NAME))]
    if bad and "other_roles" not in errors:
        errors["grants"] = f"角色名{bad[0][1]}:{bad[0][0][:20]}…"
    return display_name, email, wanted


def _display_name(values: Mapping[str, Any], errors: dict[str, str]) -> str:
    name = str(values.get("display_name") or "").strip()
    if found := free_text.problem(name, free_text.NAME):
        errors["display_name"] = f"姓名{found}"
    return name


def _email(values: Mapping[str, Any], errors: dict[str, str]) -> str | None:
    text = str(values.get("email") or "").strip()
    if not text:
        return None
    try:
        return users.normalized_email(text)
    except InvalidInput as exc:
        errors.update(exc.fields)
        return None


def _roles(picked: Any, other: Any, errors: dict[str, str]) -> tuple[str, ...]:
    """The ticked roles plus any typed in 其他角色 (separated by 、 or commas)."""
    names = [str(r) for r in (picked or [])] if not isinstance(picked, str) else [picked]
    text = str(other or "")
    for separator in _ROLE_SEPARATORS:
        text = text.replace(separator, ",")
    names += text.split(",")
    roles = tuple(dict.fromkeys(r.strip() for r in names if r.strip()))
    bad = [(r, found) for r in roles if (found := free_text.problem(r, free_text.NAME))]
    if bad:
        errors["other_roles"] = f"角色名{bad[0][1]}:{bad[0][0][:20]}…"
    return roles


def _flag(value: Any) -> bool:
    return value in (True, "1", "on", "true", "yes")


def _note(errors: dict[str, str], field: str, problem: str | None) -> None:
    if problem:
        errors[field] = problem


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise InvalidInput("请检查标出的字段", errors)


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在")
    return user


def _make(user: User, grants: Iterable[Grant]) -> Account:
    ordered = tuple(sorted(grants, key=lambda g: (g.role, g.unit_name, g.unit_id)))
    return Account(user.id, user.username, user.display_name, user.email, tuple(g.label for g in ordered),
                   bool(user.active), user.created_at, ordered)


def _account(session: Session, user: User) -> Account:
    session.flush()
    return _make(user, held_in.grants_of(session, user.id).get(user.id, ()))


def _manages(actor: Actor, account: Account) -> bool:
    """A 管理员 manages the accounts that hold a role in a unit of their scope, and those holding none
    (an administrator of everything: every account)."""
    return not account.grants or any(actor.sees_path(g.unit_path) for g in account.grants)


def _managed(session: Session, actor: Actor, user_id: int) -> Account:
    account = _account(session, _user(session, user_id))
    if not _manages(actor, account):
        raise Forbidden("只能管理在您所辖单位担任角色的人员的账户")
    return account


def _require_admin(actor: Actor) -> None:
    if not actor.has_role(ADMIN_ROLE):
        raise Forbidden("只有管理员可以管理用户")

