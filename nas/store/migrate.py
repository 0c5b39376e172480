"""Schema migrations: Alembic, configured in code and shipped inside the package.

No alembic.ini is needed at run time, so an installed wheel can migrate its own database.
The version table is nas_alembic_version, so that the store can share a database with
Optuna, whose own Alembic history lives in alembic_version.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from nas.store.engine import StoreUnavailable, safe_url, unavailable

VERSION_TABLE = "nas_alembic_version"
SCRIPT_LOCATION = "nas.store:migrations"

# Alembic's `context` is a module-level proxy, so two threads migrating at once would
# trample each other's; processes are kept apart by the database lock in env.py.
_MIGRATING = threading.Lock()


def include_object(dialect: str) -> Callable[[object, str | None, str, bool, object], bool]:
    """Alembic's include_object hook for `dialect`: leave out the models' indexes meant
    for another database (Index.ddl_if(dialect=...)), which autogenerate does not honour."""

    def include(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        ddl_if = getattr(obj, "_ddl_if", None)
        if type_ == "index" and not reflected and ddl_if is not None and ddl_if.dialect:
            return bool(ddl_if.dialect == dialect)
        return True

    return include


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic Config pointing at the packaged scripts and, when given, at `engine`."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the packaged migrations have no head"
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None for a database the store has never touched."""
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    except DBAPIError as exc:
        raise unavailable(engine, exc) from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; a no-op when it is already there.

    Safe to run from many processes and threads at once: env.py takes a database-wide
    lock first (an advisory lock on PostgreSQL, the write lock on SQLite), and whoever
    comes second finds the work done.
    """
    try:
        with _MIGRATING:
            command.upgrade(alembic_config(engine), revision)
    except DBAPIError as exc:
        raise unavailable(engine, exc) from None


def known_revisions() -> set[str]:
    scripts = ScriptDirectory.from_config(alembic_config())
    return {script.revision for script in scripts.walk_revisions()}


def ensure_schema(engine: Engine) -> None:
    """Migrate on first use: cheap when the database is already at head.

    A database migrated by a newer nas-service is refused with one line rather than
    touched: this code cannot know what that schema means.
    """
    revision = current_revision(engine)
    if revision == head_revision():
        return
    if revision is not None and revision not in known_revisions():
        raise StoreUnavailable(
            f"database {safe_url(engine.url)} is at schema revision {revision}, newer than "
            f"this nas-service knows (head {head_revision()}): upgrade nas-service"
        )
    upgrade(engine)
