"""Engines for the store: where the database is, and how to talk to it safely.

SQLite is the embedded default and PostgreSQL the cluster database; both are reached
through one URL (NAS_DATABASE_URL). Every connection problem surfaces as StoreUnavailable,
one line naming the database, because a stack trace from a driver tells a user nothing
about what to fix.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///nas.db"
ENV_VAR = "NAS_DATABASE_URL"

# Writers wait for SQLite's single write lock this long before giving up; long enough to
# ride out any burst of epoch writes, short enough that a wedged database is reported.
SQLITE_BUSY_TIMEOUT_MS = 60_000
PG_CONNECT_TIMEOUT_S = 5


class StoreUnavailable(RuntimeError):  # noqa: N818 - names a state, like HTTP 503
    """The database cannot be reached or opened; the message is one line for the user."""


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else NAS_DATABASE_URL, else a SQLite file here."""
    return url or os.environ.get(ENV_VAR) or DEFAULT_URL


def _normalize(url: URL) -> URL:
    # Plain postgresql:// would pick whatever driver SQLAlchemy defaults to; we ship psycopg 3.
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (API, dashboard) run beside the one writer; busy_timeout makes
    # writers queue instead of failing with "database is locked"; NORMAL sync is safe in WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """Create (not connect) an engine for `url`, tuned for its dialect.

    SQLite keeps the driver's default transaction mode, which begins a transaction at the
    first write: reads never hold a lock, and writers wait on busy_timeout rather than
    failing on a read-to-write upgrade. Every write in this package is built so that its
    atomic step is a single statement, which is what that mode needs.
    """
    raw = database_url(url)
    try:
        parsed = _normalize(make_url(raw))
    except ArgumentError as exc:
        raise StoreUnavailable(f"invalid database URL {raw!r}: {exc}") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _set_sqlite_pragmas)
            return engine
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "postgresql":
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreUnavailable(f"unsupported database URL {safe_url(parsed)}: {exc}") from None


def safe_url(url: URL | str) -> str:
    """The URL with any password masked, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def unavailable(engine: Engine, exc: BaseException) -> StoreUnavailable:
    """Turn a driver error into the one line a user needs: which database, and why."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    reason = lines[0] if lines else type(orig).__name__
    return StoreUnavailable(f"cannot reach database {safe_url(engine.url)}: {reason}")


def is_disconnect(exc: BaseException) -> bool:
    """True for a connection lost under a statement (the server restarted, a dropped
    link, pg_terminate_backend): the database may well answer the next one."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def check_connection(engine: Engine) -> None:
    """Connect once, so an unreachable database fails here with a clear message."""
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        raise unavailable(engine, exc) from None


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit: results go to callers."""
    return sessionmaker(engine, expire_on_commit=False)
