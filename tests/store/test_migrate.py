"""Migrations: from empty to head, idempotent, concurrent-safe, and matching the models."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from nas.store import (
    StoreUnavailable,
    current_revision,
    ensure_schema,
    head_revision,
    make_engine,
    upgrade,
)
from nas.store.migrate import VERSION_TABLE, include_object
from nas.store.models import Base

TABLES = {"nas_datasets", "nas_jobs", "nas_trials", "nas_epochs", "nas_models", "nas_proxies"}


def test_upgrade_from_empty_creates_every_table(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) == TABLES | {VERSION_TABLE}
    engine.dispose()


def test_upgrade_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_migrations_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as connection:
        opts = {
            "version_table": VERSION_TABLE,
            "include_object": include_object(connection.dialect.name),
        }
        context = MigrationContext.configure(connection, opts=opts)
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def _first_use(db_url: str) -> str | None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        return current_revision(engine)
    finally:
        engine.dispose()


def test_concurrent_first_use_migrates_once(db_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(3, mp_context=spawn) as processes:
        revisions = list(processes.map(_first_use, [db_url] * 3))
    with ThreadPoolExecutor(3) as threads:
        revisions += list(threads.map(_first_use, [db_url] * 3))
    assert revisions == [head_revision()] * 6


def test_downgrade_to_base_and_back(db_url: str) -> None:
    from alembic import command

    from nas.store.migrate import alembic_config

    engine = make_engine(db_url)
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {VERSION_TABLE}
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_schema_from_a_newer_release_is_refused_in_one_line(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'f00d'"))
    with pytest.raises(StoreUnavailable, match="newer than this nas-service") as info:
        ensure_schema(engine)
    assert "\n" not in str(info.value)
    engine.dispose()
