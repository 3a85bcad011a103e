"""Database schema upgrades through Alembic (never `create_all` outside tests of models)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from .db import Database

_HERE = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    return config


@contextmanager
def _migrating(db: Database) -> Iterator[Connection]:
    """A connection for a migration, in one transaction. On SQLite, foreign keys are off meanwhile: a batch
    migration rebuilds a table (copy, drop, rename), and dropping `cases` with them on would cascade and
    delete every case's state, steps and trace. They are checked before the transaction commits."""
    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection  # outside any transaction, where the pragma takes effect
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"迁移后外键不一致:{broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest)."""
    config = _config()
    with _migrating(db) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(db: Database, message: str) -> None:
    """Developer helper: autogenerate a migration from the models."""
    config = _config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


def revisions(db: Database) -> tuple[set[str], set[str]]:
    """(revisions the database is at, newest revisions of the code): equal when nothing is pending.
    Raises the database's own error when it cannot be reached."""
    heads = set(ScriptDirectory.from_config(_config()).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, heads


def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to `revision` (each migration says what its downgrade keeps)."""
    config = _config()
    with _migrating(db) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
