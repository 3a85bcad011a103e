"""The benchmarks' district: 100 units (1 区, 3 街道, 12 社区, 84 网格) made with the engine's `create_unit`,
and a fast way to put bulk rows into a table (COPY on PostgreSQL, executemany of one INSERT on SQLite)."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, text, update

from engine.people import units
from engine.store import migrate
from engine.store.db import Database
from engine.store.models import Base, Unit

STREETS, COMMUNITIES_PER_STREET, GRIDS_PER_COMMUNITY = 3, 4, 7  # 1 + 3 + 12 + 84 = 100 units


@dataclass(frozen=True)
class District:
    root: int                       # the 区 (the default unit, renamed)
    communities: list[int]          # the 社区
    grids: dict[int, list[int]]     # 社区 → its 网格
    community_of: dict[int, int]    # 社区 or 网格 → its 社区

    @property
    def case_units(self) -> list[int]:
        """Where cases are registered: every 社区 and 网格."""
        return sorted(self.community_of)

    @property
    def count(self) -> int:
        return 1 + STREETS + len(self.communities) + sum(len(g) for g in self.grids.values())


def fresh(db: Database) -> None:
    """An empty database at the newest schema (a PostgreSQL one given on the command line is emptied first)."""
    if db.engine.dialect.name == "postgresql":
        Base.metadata.drop_all(db.engine)
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrate.upgrade(db)


def analyze(db: Database) -> None:
    """Planner statistics, as a database in service has them (PostgreSQL's autovacuum)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def build(db: Database) -> District:
    """The default unit becomes the 区; the rest of the tree is created under it."""
    with db.write() as session:
        root = units.default_unit(session)
        session.execute(update(Unit).where(Unit.id == root).values(name="示范区", level="区"))
        communities, grids, community_of = [], {}, {}
        for s in range(STREETS):
            street = units.create_unit(session, "bench", f"第{s + 1}街道", "街道", root, position=s)
            for c in range(COMMUNITIES_PER_STREET):
                community = units.create_unit(session, "bench", f"第{s + 1}-{c + 1}社区", "社区", street.id,
                                              position=c)
                communities.append(community.id)
                community_of[community.id] = community.id
                grids[community.id] = []
                for g in range(GRIDS_PER_COMMUNITY):
                    grid = units.create_unit(session, "bench", f"第{g + 1}网格", "网格", community.id, position=g)
                    grids[community.id].append(grid.id)
                    community_of[grid.id] = community.id
    return District(root, communities, grids, community_of)


def bulk_insert(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in one transaction: PostgreSQL's COPY, else one INSERT run over all rows."""
    if not rows:
        return
    if db.engine.dialect.name != "postgresql":
        with db.write() as session:
            session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_value(row[c]) for c in columns))
        buffer.write("\n")
    raw = db.engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:  # noqa: S608 — our own names
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()


def _copy_value(value: Any) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
