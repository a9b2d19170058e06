"""Schema versions: Alembic's numbered migrations in migrations/, run at start and by `python -m sync server migrate`.

A database made before numbered migrations (it has the tables but no version) is
stamped at version 0001, the first release's schema, then upgraded. A database
whose version this code does not know is newer than the code: it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"
FIRST_RELEASE = "0001"
LOCK_ID = 7_240_001  # pg_advisory_xact_lock: several server processes starting together upgrade once


class SchemaError(ValueError):
    """The database's schema cannot be used by this code; the message names both versions and what to do."""


@dataclass(frozen=True)
class Step:
    version: str
    about: str  # the migration's first docstring line


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def code_version() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def database_version(connection: Connection) -> str | None:
    """The schema version recorded in the database; FIRST_RELEASE for one made before versions; None when empty."""
    found = MigrationContext.configure(connection).get_current_revision()
    if found is None and inspect(connection).has_table("channels"):
        return FIRST_RELEASE
    return found


def pending(connection: Connection) -> list[Step]:
    """The migrations an upgrade would run, oldest first; SchemaError if the database is newer than the code."""
    scripts, have = _scripts(), database_version(connection)
    if have is not None:
        try:
            scripts.get_revision(have)
        except Exception:
            raise SchemaError(f"the database's schema is at version {have}, newer than this server's "
                              f"{code_version()}: run the newer release of the server (or restore a backup)") from None
    steps = list(scripts.iterate_revisions("head", have or "base"))
    steps.reverse()
    return [Step(s.revision, (s.doc or "").strip().splitlines()[0] if s.doc else "") for s in steps
            if s.revision != have]


def upgrade(engine: Engine) -> list[Step]:
    """Bring the database to the code's version in one transaction; returns the steps that ran."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
        steps = pending(connection)
        if not steps:
            return []
        config = _config(connection)
        if MigrationContext.configure(connection).get_current_revision() is None and \
                database_version(connection) == FIRST_RELEASE:
            command.stamp(config, FIRST_RELEASE)  # made by the first release: its tables are there already
        command.upgrade(config, "head")
        return steps
