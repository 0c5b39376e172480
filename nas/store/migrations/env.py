"""Alembic environment for the store: runs on the engine handed in by nas.store.migrate.

The whole upgrade runs inside one transaction that first takes a database-wide lock, so
that many processes opening an empty database at once migrate it exactly once.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine, text

from nas.store.migrate import VERSION_TABLE, include_object
from nas.store.models import Base

# Any fixed 64-bit number works; this one spells "nas" in ASCII.
PG_ADVISORY_KEY = 0x6E6173


def _lock(connection: Connection) -> None:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_ADVISORY_KEY})
    elif dialect == "sqlite":
        # The sqlite3 driver does not begin transactions for DDL by itself; taking the
        # write lock here makes the whole upgrade one atomic, serialized transaction.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def run_migrations_online() -> None:
    engine: Engine = context.config.attributes["engine"]
    with engine.connect() as connection, connection.begin():
        _lock(connection)
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            version_table=VERSION_TABLE,
            transactional_ddl=True,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; pass a database URL")
run_migrations_online()
