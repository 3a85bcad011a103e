"""Diagram versions: deploying, finding the latest, loading the exact one a case runs on."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.errors import DiagramInvalid, NotFound, Problem
from engine.store import driver
from engine.store.db import Database
from engine.store.models import DiagramVersion

from . import diagram, foreign
from .diagram import Diagram


@dataclass(frozen=True)
class VersionInfo:
    id: int
    process_id: str
    name: str
    hash: str
    filename: str
    note: str
    deployed_by: str
    deployed_at: datetime


def _info(row: DiagramVersion) -> VersionInfo:
    return VersionInfo(row.id, row.process_id, row.name, row.hash, row.filename, row.note,
                       row.deployed_by, row.deployed_at)


# read on every start and completion: plain statements (see engine/driver.py)
_HASH = driver.Statement("SELECT hash FROM diagram_versions WHERE id = :id")
_NAME_AND_HASH = driver.Statement("SELECT name, hash FROM diagram_versions WHERE id = :id")
_LATEST = driver.Statement("SELECT max(id) FROM diagram_versions WHERE process_id = :process_id AND draft = FALSE")


def diagram_of(session: Session, version_id: int) -> Diagram:
    """The parsed diagram of a stored version, parsed once per process (by content hash).

    Only the hash is read on the hot path; the BPMN text is fetched when the hash is new."""
    digest = driver.run(session.connection(), _HASH, {"id": version_id}).scalar()
    if digest is None:
        raise NotFound(f"流程版本 {version_id} 不存在")
    return _parsed(session, version_id, digest)


def named_diagram(session: Session, version_id: int) -> tuple[str, str, Diagram]:
    """A version's name, its hash and its parsed diagram, as `diagram_of` reads it (one short statement; the
    BPMN text only when this process has not parsed that content yet)."""
    found = driver.run(session.connection(), _NAME_AND_HASH, {"id": version_id}).first()
    if found is None:
        raise NotFound(f"流程版本 {version_id} 不存在")
    return found.name, found.hash, _parsed(session, version_id, found.hash)


def _parsed(session: Session, version_id: int, digest: str) -> Diagram:
    found = diagram.cached(digest)
    if found is None:
        row = session.get(DiagramVersion, version_id)
        found = diagram.load(row.bpmn, row.filename)
    return found


def latest_version_id(session: Session, process_id: str) -> int | None:
    """The version new cases start on; drafts (试运行草稿) never count."""
    return driver.run(session.connection(), _LATEST, {"process_id": process_id}).scalar()


def latest_versions(session: Session) -> list[DiagramVersion]:
    newest = (select(func.max(DiagramVersion.id)).where(DiagramVersion.draft.is_(False))
              .group_by(DiagramVersion.process_id))
    return list(session.scalars(select(DiagramVersion).where(DiagramVersion.id.in_(newest))
                                .order_by(DiagramVersion.name)))


def deploy_in(session: Session, xml: bytes, filename: str, actor: Actor, note: str = "") -> tuple[VersionInfo, bool]:
    """Validate and store a version; (version, created). Same content twice is one version.
    A file written by another tool is stored as normalised (`foreign.normalise`), drawing included."""
    xml = foreign.normalise(xml, filename)
    parsed = diagram.inspect(xml, filename)
    existing = session.scalar(select(DiagramVersion).where(
        DiagramVersion.process_id == parsed.process_id, DiagramVersion.hash == parsed.hash))
    if existing is not None:
        return _info(existing), False
    row = DiagramVersion(process_id=parsed.process_id, name=parsed.name, hash=parsed.hash, bpmn=xml,
                         filename=filename, note=note, deployed_by=actor.username, deployed_at=clock.now())
    session.add(row)
    session.flush()
    return _info(row), True


def deploy(db: Database, xml: bytes, filename: str, actor: Actor, note: str = "") -> tuple[VersionInfo, bool]:
    """Deploy one diagram in its own transaction; an invalid diagram changes nothing."""
    with db.write() as session:
        return deploy_in(session, xml, filename, actor, note)


def deploy_directory(db: Database, directory: Path, actor: Actor) -> list[tuple[VersionInfo, bool]]:
    """Deploy every .bpmn under `directory` whose content is new — all or nothing."""
    files = sorted(directory.glob("*.bpmn"))
    problems: list[Problem] = []
    for path in files:
        problems.extend(problems_of_file(path.read_bytes(), path.name))
    if problems:
        raise DiagramInvalid(problems)
    with db.write() as session:
        return [deploy_in(session, p.read_bytes(), p.name, actor, "从 processes/ 目录部署") for p in files]


def validate_directory(directory: Path) -> dict[str, list[Problem]]:
    """`minyi validate`: every diagram's problems, keyed by file name."""
    return {p.name: problems_of_file(p.read_bytes(), p.name) for p in sorted(directory.glob("*.bpmn"))}


def problems_of_file(xml: bytes, filename: str) -> list[Problem]:
    """A file's problems as deploying it would find them: after normalising what other tools write."""
    return diagram.problems_of(foreign.normalise(xml, filename), filename)
