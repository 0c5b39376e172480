"""Service settings: one pydantic-settings class, read from NAS_* environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from nas.store import DEFAULT_URL

MiB = 1024 * 1024


class Settings(BaseSettings):
    """Everything the API and the runner can be told; each field is NAS_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="NAS_", extra="ignore")

    database_url: str = Field(DEFAULT_URL, description="SQLAlchemy URL of the store")
    api_token: SecretStr | None = Field(None, description="bearer token; unset: no auth")
    executor: Literal["local", "ray"] = Field("ray", description="where trials train")
    ray_address: str | None = Field(None, description="Ray cluster; unset: start a local one")

    max_trials: int = Field(1000, ge=1, description="largest budget.trials a job may ask")
    max_epochs: int = Field(1000, ge=1, description="largest space.max_epochs a job may ask")
    max_workers: int = Field(64, ge=1, description="largest parallelism a job may ask")
    max_upload_bytes: int = Field(50 * MiB, ge=1024, description="largest request body")
    max_predict_rows: int = Field(10_000, ge=1, description="rows one predict call may send")

    runner: bool = Field(True, description="run a job runner inside the API process")
    runner_poll_seconds: float = Field(1.0, gt=0)
    runner_heartbeat_seconds: float = Field(5.0, gt=0)
    runner_stale_seconds: float = Field(60.0, gt=0)
    read_cache_mb: int = Field(
        64, ge=0, le=65_536, description="memory per API process for repeated reads; 0: off"
    )
    events_poll_seconds: float = Field(1.0, gt=0, description="SSE: how often to look")
    api_threads: int = Field(
        8,
        ge=1,
        le=1024,
        description="threads that run the routes, per API process; a read that waits on the "
        "database holds one, a read that renders competes with the others for the GIL",
    )

    @property
    def token(self) -> str | None:
        return self.api_token.get_secret_value() if self.api_token else None
