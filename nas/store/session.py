"""Opening the store: one engine and session factory per process, schema migrated.

Open once at start-up (the driver, the API's lifespan) and take short sessions from it;
the first open of an empty database creates the schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from nas.store.engine import check_connection, make_engine, make_sessionmaker
from nas.store.migrate import ensure_schema


@dataclass
class Store:
    """An engine and its sessions; `with store.session() as session: ...`."""

    engine: Engine
    sessions: sessionmaker[Session]

    def session(self) -> Session:
        return self.sessions()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Connect to `url` (default NAS_DATABASE_URL, else sqlite:///nas.db) and migrate.

    Raises StoreUnavailable, with one line naming the database, when it cannot be reached.
    """
    engine = make_engine(url)
    try:
        check_connection(engine)
        if migrate:
            ensure_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine=engine, sessions=make_sessionmaker(engine))
