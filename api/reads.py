"""The hot reads' way to the store, on the event loop without ever waiting on a database.

The reads a dashboard repeats (a job's trials page, leaderboard and curves, the read
cache's version lookups) are cheap and run by the thousand, so a hop to a worker thread
for each costs more than the read (measured: twice the CPU per uncached read under load,
docs/service.md). They stay on the event loop, and what they wait on is awaited:

- PostgreSQL (a server): the store's own read functions run through SQLAlchemy's asyncio
  engine over psycopg (AsyncSession.run_sync). Their SQL is sent and awaited; while one
  read waits (a lock, a dropped link, a slow server) the loop serves every other request.
- SQLite: read in place. SQLite is a library inside this process and the store runs it in
  WAL mode, where a reader never waits for a writer: a read is local work of a few
  microseconds to milliseconds, less than the hop it would take to leave the loop.

Both read in autocommit: each statement sees the latest commit (PostgreSQL's read
committed takes a snapshot per statement anyway). Work that is long for its own sake
(building a settled job's snapshot) goes to a thread instead (api/routes/trials.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from nas import store as db
from nas.store.engine import PG_CONNECT_TIMEOUT_S

T = TypeVar("T")


class Reads:
    def __init__(self, store: db.Store) -> None:
        self.store = store
        self._local: Connection | None = None  # SQLite: the read cache's lookups
        self._remote: AsyncEngine | None = None
        if store.dialect != "sqlite":
            self._remote = create_async_engine(
                store.engine.url,
                isolation_level="AUTOCOMMIT",
                pool_pre_ping=True,  # a connection cut while idle is replaced, not used
                connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
            )

    async def run(self, read: Callable[[Session], T]) -> T:
        """read(session) with the store's sync functions; its I/O awaited on PostgreSQL."""
        if self._remote is None:
            with self.store.session() as session:
                return read(session)
        async with AsyncSession(self._remote, expire_on_commit=False) as session:
            return await session.run_sync(read)

    async def lookup(self, read: Callable[[Connection, int], T], key: int) -> T:
        """read(connection, key) on a bare connection: the read cache's version lookups."""
        if self._remote is None:
            try:
                return read(self._sqlite(), key)
            except SQLAlchemyError:
                self._drop_sqlite()
                raise
        async with self._remote.connect() as connection:
            return await connection.run_sync(read, key)

    def _sqlite(self) -> Connection:
        if self._local is None:
            connection = self.store.engine.connect()
            self._local = connection.execution_options(isolation_level="AUTOCOMMIT")
        return self._local

    def _drop_sqlite(self) -> None:
        if self._local is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._local.invalidate()
            self._local = None

    async def close(self) -> None:
        """Close the connections of these reads (the app is shutting down)."""
        if self._local is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._local.close()
            self._local = None
        if self._remote is not None:
            await self._remote.dispose()
