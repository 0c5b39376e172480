"""Engine set-up: the default URL, SQLite pragmas, and one-line errors."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from nas.store import StoreUnavailable, database_url, make_engine, open_store


def test_url_defaults_to_sqlite_file_and_honours_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NAS_DATABASE_URL", raising=False)
    assert database_url() == "sqlite:///nas.db"
    monkeypatch.setenv("NAS_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_plain_postgresql_url_uses_psycopg() -> None:
    assert make_engine("postgresql://u@h/db").url.drivername == "postgresql+psycopg"


def test_sqlite_runs_in_wal_with_busy_timeout(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/w.db")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 10_000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/test",
        "sqlite:////no/such/directory/nas.db",
        "nosuchdialect://x",
    ],
)
def test_unreachable_database_is_one_clear_line(url: str) -> None:
    with pytest.raises(StoreUnavailable) as info:
        open_store(url)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(("cannot reach database", "unsupported database URL"))


def test_password_is_not_shown() -> None:
    with pytest.raises(StoreUnavailable) as info:
        open_store("postgresql+psycopg://postgres:hunter2@127.0.0.1:1/test")
    assert "hunter2" not in str(info.value)
