"""Staff accounts, roles and API tokens. Passwords are hashed with Argon2."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import SYSTEM, Actor
from engine.errors import Conflict, InvalidInput, NotFound, Unauthorized
from engine.store import driver
from engine.store import text as free_text
from engine.store.db import Database
from engine.store.models import AccountEvent, ApiToken, User, UserRole

from . import units

_hasher = PasswordHasher()


def use_fast_hashing() -> None:
    """Cheaper Argon2 parameters, for test suites and benchmarks only."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# Roles that are not diagram lanes but gate parts of the application.
APP_ROLES = ("管理员", "流程设计人员", "审计")


def actor_of(session: Session, user: User) -> Actor:
    session.flush()  # the statement below reads the rows, not the session's pending changes
    rows = driver.run(session.connection(), _ACTOR_BY_ID, {"user_id": user.id}).all()
    return _actor(rows)


def normalized_email(text: str) -> str:
    """A syntactically valid address in its normal form (no DNS look-up); InvalidInput naming the field otherwise."""
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:  # the library explains in English; the page speaks Chinese
        raise InvalidInput("电子邮箱地址不正确",
                           {"email": "电子邮箱地址不正确,应形如 name@example.org"}) from None


MIN_PASSWORD = 8


def username_problem(username: str) -> str | None:
    """What is wrong with a new username, or None."""
    if not username or not username.isascii() or not username.replace("_", "").replace(".", "").isalnum():
        return "用户名只能包含字母、数字、下划线和点"
    if len(username) > 64:
        return "用户名不能超过 64 个字符"
    return None


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, or None."""
    return f"密码至少 {MIN_PASSWORD} 位" if len(password or "") < MIN_PASSWORD else None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def replace_password(user: User, password: str, *, must_change: bool) -> None:
    """Give the account a new password: every session signed in before it ends (`session_version`);
    `must_change` when someone else chose it, so the person replaces it at the next sign-in."""
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 0) + 1
    user.must_change_password = must_change


def record(session: Session, actor: str, username: str, kind: str, data: dict) -> None:
    """One entry of the append-only record of account changes (审计 › 账户变更); never a password."""
    session.add(AccountEvent(at=clock.now(), actor=actor, username=username, kind=kind, data=data))


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(db: Database, username: str, password: str, display_name: str, roles: list[str],
                email: str | None = None, unit_id: int | None = None,
                grants: list[tuple[str, int]] | None = None) -> Actor:
    """A new active account (the command line's and the demo's way; the web's is `accounts.create_account`):
    `roles` held in `unit_id` (default: the default unit), plus any (role, unit id) `grants`."""
    if email:
        email = normalized_email(email)
    name_problem = free_text.problem(display_name or "", free_text.NAME)
    for field, problem in (("username", username_problem(username)), ("password", password_problem(password)),
                           ("display_name", name_problem and f"姓名{name_problem}")):
        if problem:
            raise InvalidInput(problem, {field: problem})
    with db.write() as session:
        if session.scalar(select(User).where(User.username == username)) is not None:
            raise Conflict(f"用户名 “{username}” 已存在")
        user = User(username=username, display_name=display_name or username, email=email or None,
                    password_hash=hash_password(password), active=True, created_at=clock.now())
        session.add(user)
        session.flush()
        home = unit_id if unit_id is not None else units.default_unit(session)
        wanted = [(r.strip(), home) for r in roles if r.strip()] + [(r, u) for r, u in grants or ()]
        for role, unit in dict.fromkeys(wanted):
            units.get(session, unit)
            session.add(UserRole(user_id=user.id, role=role, unit_id=unit))
        session.flush()
        created = actor_of(session, user)
        record(session, SYSTEM.username, username, "account_created",
               {"display_name": created.display_name, "email": email or None, "roles": sorted(created.roles),
                "grants": grant_names(session, created.grants), "active": True, "via": "命令行"})
        return created


def set_password(db: Database, username: str, password: str) -> None:
    """A new password set on the server (`minyi user password`): how an administrator who forgot
    theirs gets back in. Every open session of the account ends; the change is recorded."""
    problem = password_problem(password)
    if problem:
        raise InvalidInput(problem, {"password": problem})
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"用户 “{username}” 不存在")
        replace_password(user, password, must_change=False)
        record(session, SYSTEM.username, username, "password_reset", {"via": "命令行"})


WRONG_LOGIN = "用户名或密码错误"
DEACTIVATED = "您的账户已停用,不能登录。如需继续使用,请联系管理员重新启用。"


def authenticate(db: Database, username: str, password: str) -> Actor:
    """The actor for a correct password. A wrong name or password gets one message, so nobody can
    probe which accounts exist; only someone who knows the password learns that the account is
    deactivated and whom to ask."""
    with db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            _hasher.hash(password)  # same time as a real check
            raise Unauthorized(WRONG_LOGIN)
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise Unauthorized(WRONG_LOGIN) from None
        if not user.active:
            raise Unauthorized(DEACTIVATED)
        return actor_of(session, user)


def grant_names(session: Session, grants: frozenset[tuple[str, int]]) -> list[str]:
    """The grants as people read them, "社区负责人(光明社区)", sorted (for account records)."""
    named = units.names(session, (u for _, u in grants))
    return sorted(f"{role}({named.get(unit, unit)})" for role, unit in grants)


# read on every request (a signed-in page, an API call): the account and its roles in one statement
_ACTOR_COLUMNS = ("SELECT u.id, u.username, u.display_name, u.active, u.session_version, u.must_change_password, "
                  "r.role, r.unit_id, g.path AS unit_path, "
                  "(SELECT count(*) FROM units WHERE parent_id IS NULL) AS roots")
_ACTOR_FROM = " FROM users u LEFT JOIN user_roles r ON r.user_id = u.id LEFT JOIN units g ON g.id = r.unit_id "
_ACTOR = _ACTOR_COLUMNS + _ACTOR_FROM
_UNREAD = ", (SELECT count(*) FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL) AS unread"
_ACTOR_BY_ID = driver.Statement(_ACTOR + "WHERE u.id = :user_id")
# a signed-in page's request: the same, with the header's unread notifications (no transaction of their own)
_SIGNED_IN = driver.Statement(_ACTOR_COLUMNS + _UNREAD + _ACTOR_FROM + "WHERE u.id = :user_id")
_ACTOR_BY_TOKEN = driver.Statement(_ACTOR + "JOIN api_tokens t ON t.user_id = u.id WHERE t.token_hash = :token_hash")


def _active_actor(rows: list) -> Actor | None:
    """The actor of an account's rows (one per role held in a unit), or None when there is none or it is
    deactivated."""
    if not rows or not rows[0].active:
        return None
    return _actor(rows)


def _actor(rows: list) -> Actor:
    first = rows[0]
    held = [r for r in rows if r.role is not None]
    grants = frozenset((r.role, r.unit_id) for r in held)
    return Actor(first.id, first.username, first.display_name, frozenset(r for r, _ in grants),
                 first.session_version or 0, bool(first.must_change_password), grants,
                 units.scope_of((r.unit_path for r in held), first.roots))


def get_actor(db: Database, user_id: int, session_version: int | None = None) -> Actor | None:
    """The active account's actor; None when it is gone, deactivated, or (given `session_version`)
    its password changed since that session signed in."""
    with db.single_read() as connection:
        found = _active_actor(driver.run(connection, _ACTOR_BY_ID, {"user_id": user_id}).all())
    if found is None or (session_version is not None and session_version != found.session_version):
        return None
    return found


@dataclass(frozen=True)
class SignedIn:
    """A signed-in session's account, and what every staff page's header shows of it."""

    actor: Actor
    unread_notifications: int


def signed_in(db: Database, user_id: int, session_version: int) -> SignedIn | None:
    """`get_actor` for a session's request, with the account's unread notifications read in the same
    statement; None when the account is gone, deactivated, or its password changed since that session."""
    with db.single_read() as connection:
        rows = driver.run(connection, _SIGNED_IN, {"user_id": user_id}).all()
    found = _active_actor(rows)
    if found is None or session_version != found.session_version:
        return None
    return SignedIn(found, int(rows[0].unread or 0))


def list_users(db: Database) -> list[Actor]:
    with db.read() as session:
        return [actor_of(session, u) for u in session.scalars(select(User).where(User.active).order_by(User.username))]


def create_token(db: Database, username: str, name: str = "api") -> str:
    """A new API token; only its hash is stored, so it is shown once."""
    token = secrets.token_urlsafe(32)
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"用户 “{username}” 不存在")
        session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), name=name, created_at=clock.now()))
    return token


def actor_for_token(db: Database, token: str) -> Actor:
    with db.single_read() as connection:
        found = _active_actor(driver.run(connection, _ACTOR_BY_TOKEN, {"token_hash": _token_hash(token)}).all())
    if found is None:
        raise Unauthorized("API 令牌无效")
    return found


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
