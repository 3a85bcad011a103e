"""Database schema upgrades through Alembic (never `create_all` outside tests of models)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import Database

_HERE = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest)."""
    config = _config()
    with db.engine.begin() as connection:
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
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
