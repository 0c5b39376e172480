"""create_app and its settings."""

from __future__ import annotations

import pytest

from api.config import Settings
from api.main import create_app


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAS_EXECUTOR", "local")
    monkeypatch.setenv("NAS_MAX_TRIALS", "7")
    monkeypatch.setenv("NAS_API_TOKEN", "t")
    s = Settings()
    assert s.executor == "local" and s.max_trials == 7 and s.token == "t"
    assert Settings.model_fields["executor"].default == "ray"


def test_api_without_runner_starts_whatever_the_executor(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.db", executor="ray", runner=False)
    assert create_app(settings).title == "nas-service"  # the compose api service's case
