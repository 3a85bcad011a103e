"""The designer workspace (流程设计): versions, checking and deploying diagrams, drafts for 试运行.

Process designers are not programmers: everything they change arrives here as a BPMN file,
is checked with the same rules as `minyi validate` (plus whether the roles exist), and
becomes a new version only when it is deployable. Running cases stay on their version.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.bpmn import deployments, diagram, foreign
from engine.errors import DiagramInvalid, Forbidden, InvalidInput, NotFound, Problem
from engine.people import units
from engine.store import text as free_text
from engine.store.db import Database
from engine.store.models import Case, DiagramVersion, User, UserRole
from engine.work import cases
from engine.work.casepages import display_names

DESIGNER_ROLE = cases.DESIGNER_ROLE
# Roles a step may name although no account holds them (residents have no account).
DEFAULT_KNOWN_ROLES = ("居民",)
MAX_DIAGRAM_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class VersionRow:
    """One version as the workspace lists it: who deployed it, why, and its cases."""

    id: int
    number: int
    process_id: str
    name: str
    hash: str
    filename: str
    note: str
    deployed_by: str
    deployed_at: datetime
    running: int
    completed: int
    latest: bool
    deployed_by_name: str = ""  # who deployed it, as people read it (李主任, 系统)


@dataclass(frozen=True)
class ProcedureVersions:
    process_id: str
    name: str
    versions: tuple[VersionRow, ...]  # newest first

    @property
    def latest(self) -> VersionRow:
        return self.versions[0]


@dataclass(frozen=True)
class DiagramFile:
    version_id: int
    process_id: str
    name: str
    filename: str
    xml: bytes
    label: str


@dataclass(frozen=True)
class RunningCase:
    number: str
    title: str
    started_at: datetime


@dataclass(frozen=True)
class CheckResult:
    """Validation as the workspace shows it: blocking problems and warnings (角色无人担任)."""

    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]

    @property
    def deployable(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Deployed:
    version: VersionRow
    created: bool


def require_designer(actor: Actor) -> None:
    if not actor.has_role(DESIGNER_ROLE, "管理员"):
        raise Forbidden("只有流程设计人员可以使用流程设计工作台")


def _numbered(session: Session, process_id: str) -> dict[int, int]:
    ids = session.scalars(select(DiagramVersion.id).where(
        DiagramVersion.process_id == process_id, DiagramVersion.draft.is_(False)).order_by(DiagramVersion.id))
    return {vid: n for n, vid in enumerate(ids, start=1)}


def _counts(session: Session) -> dict[tuple[int, str], int]:
    rows = session.execute(select(Case.version_id, Case.status, func.count(Case.id))
                           .where(Case.sandbox.is_(False)).group_by(Case.version_id, Case.status))
    return {(vid, status): n for vid, status, n in rows}


def _row(row: DiagramVersion, number: int, counts: dict, latest: bool, names: dict[str, str] | None = None
         ) -> VersionRow:
    return VersionRow(row.id, number, row.process_id, row.name, row.hash, row.filename, row.note,
                      row.deployed_by, row.deployed_at, counts.get((row.id, "running"), 0),
                      counts.get((row.id, "completed"), 0), latest, (names or {}).get(row.deployed_by, ""))


def procedures(db: Database, actor: Actor) -> list[ProcedureVersions]:
    """Every procedure with all its deployed versions and their running / finished case counts."""
    require_designer(actor)
    with db.read() as session:
        counts = _counts(session)
        found = []
        for latest in deployments.latest_versions(session):
            numbers = _numbered(session, latest.process_id)
            rows = session.scalars(select(DiagramVersion).where(DiagramVersion.id.in_(numbers))
                                   .order_by(DiagramVersion.id.desc())).all()
            names = display_names(session, {r.deployed_by for r in rows})
            versions = tuple(_row(r, numbers[r.id], counts, r.id == latest.id, names) for r in rows)
            found.append(ProcedureVersions(latest.process_id, latest.name, versions))
        return found


def version_file(db: Database, actor: Actor, version_id: int) -> DiagramFile:
    """The stored XML of a version (or draft), to open in the modeler or download."""
    require_designer(actor)
    with db.read() as session:
        row = session.get(DiagramVersion, version_id)
        if row is None:
            raise NotFound(f"流程版本 {version_id} 不存在")
        label = "草稿" if row.draft else f"第 {_numbered(session, row.process_id)[row.id]} 版"
        return DiagramFile(row.id, row.process_id, row.name, row.filename, row.bpmn, label)


def running_cases(db: Database, actor: Actor, version_id: int, limit: int = 200) -> list[RunningCase]:
    """Real cases still running on a version, in the units the designer sees: the ones they may move to a
    newer version."""
    require_designer(actor)
    with db.read() as session:
        in_units = units.in_scope(Case.unit_id, actor.scope)
        rows = session.scalars(select(Case).where(
            Case.version_id == version_id, Case.status == "running", Case.sandbox.is_(False),
            *(() if in_units is None else (in_units,))).order_by(Case.id).limit(limit))
        return [RunningCase(c.number, c.title, c.started_at) for c in rows]


def known_roles(db: Database, extra: Iterable[str] = DEFAULT_KNOWN_ROLES) -> set[str]:
    """Roles a step may name: held by at least one active account, or listed in the settings."""
    with db.read() as session:
        held = session.scalars(select(UserRole.role).join(User, User.id == UserRole.user_id).where(User.active))
        return set(held) | set(extra)


def _role_warnings(xml: bytes, filename: str, roles: set[str]) -> list[Problem]:
    d = diagram.load(xml, filename)
    warnings = []
    for step in d.steps.values():
        for role in step.roles:
            if role not in roles:
                warnings.append(Problem(filename, step.id, step.name, step.line,
                                        f"角色 “{role}” 目前没有任何在职账号担任,也不在系统角色清单中:"
                                        "请检查泳道名或 candidateGroups 是否写对,或先为该角色创建账号"))
    return warnings


def _checked_size(xml: bytes) -> bytes:
    if not xml or not xml.strip():
        raise InvalidInput("流程图内容为空", {"xml": "请先绘制或上传流程图"})
    if len(xml) > MAX_DIAGRAM_BYTES:
        raise InvalidInput(f"流程图文件不能超过 {MAX_DIAGRAM_BYTES // 1024 // 1024} MB", {"xml": "文件过大"})
    return xml


def check(db: Database, actor: Actor, xml: bytes, filename: str,
          extra_roles: Iterable[str] = DEFAULT_KNOWN_ROLES) -> CheckResult:
    """`minyi validate`'s problems, plus warnings for roles nobody holds (the workspace knows users)."""
    require_designer(actor)
    xml = foreign.normalise(_checked_size(xml), filename)
    problems = diagram.problems_of(xml, filename)
    warnings = [] if problems else _role_warnings(xml, filename, known_roles(db, extra_roles))
    return CheckResult(tuple(problems), tuple(warnings))


def deploy(db: Database, actor: Actor, xml: bytes, filename: str, note: str) -> Deployed:
    """A new version from the workspace: an invalid diagram raises `DiagramInvalid` and changes nothing."""
    require_designer(actor)
    note = free_text.clean(note, "note", "变更说明", free_text.TEXT)
    if not note:
        raise InvalidInput("请填写变更说明:这一版改了什么、为什么改", {"note": "请填写变更说明"})
    info, created = deployments.deploy(db, _checked_size(xml), _filename(filename), actor, note)
    with db.read() as session:
        row = session.get(DiagramVersion, info.id)
        latest = deployments.latest_version_id(session, row.process_id)
        return Deployed(_row(row, _numbered(session, row.process_id)[row.id], _counts(session), latest == row.id),
                        created)


def open_upload(actor: Actor, data: bytes, filename: str) -> DiagramFile:
    """A .bpmn made elsewhere, ready for the modeler: normalised as deploying would (prefixed references
    of other tools resolved, so its drawing shows) and in UTF-8. Nothing is stored."""
    require_designer(actor)
    if not data:
        raise InvalidInput("上传的文件是空的", {"file": "请选择一个 .bpmn 文件"})
    if len(data) > MAX_DIAGRAM_BYTES:
        raise InvalidInput(f"流程图文件不能超过 {MAX_DIAGRAM_BYTES // 1024 // 1024} MB", {"file": "文件过大"})
    name = _filename(filename)
    xml = foreign.normalise(data, name)
    try:
        xml.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("文件不是 UTF-8 编码的 BPMN XML,也没有声明其他编码", {"file": "无法读取"}) from None
    return DiagramFile(0, "", name, name, xml, "上传的文件")


def _filename(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "diagram.bpmn"
    return base[:200] if base.lower().endswith(".bpmn") else base[:195] + ".bpmn"


def _draft_hash(xml: bytes) -> str:
    """Drafts are keyed apart from real versions, so deploying the same content later is a new version."""
    return hashlib.sha256(b"draft:" + diagram.content_hash(xml).encode()).hexdigest()


def save_draft(db: Database, actor: Actor, xml: bytes, filename: str) -> DiagramFile:
    """Store a deployable diagram as a draft (never "latest") for 试运行; same content, same draft."""
    require_designer(actor)
    xml = foreign.normalise(_checked_size(xml), filename)
    problems = diagram.problems_of(xml, filename)
    if problems:
        raise DiagramInvalid(problems)
    d = diagram.load(xml, filename)
    with db.write() as session:
        key = _draft_hash(xml)
        row = session.scalar(select(DiagramVersion).where(
            DiagramVersion.process_id == d.process_id, DiagramVersion.hash == key))
        if row is None:
            row = DiagramVersion(process_id=d.process_id, name=d.name, hash=key, draft=True, bpmn=xml,
                                 filename=_filename(filename), note="试运行草稿", deployed_by=actor.username,
                                 deployed_at=clock.now())
            session.add(row)
            session.flush()
        return DiagramFile(row.id, row.process_id, row.name, row.filename, row.bpmn, "草稿")
