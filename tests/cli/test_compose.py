"""docker-compose.yml and the Dockerfile: the services, their commands and their wiring.

No Docker engine runs here, so this checks the structure; tests/api/test_processes.py
starts the same commands as processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nas_cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_five_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "ray-head", "ray-worker", "api", "runner"}
    assert "pgdata" in compose["volumes"]


def test_nas_commands_parse_with_the_real_cli(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api = build_parser().parse_args(services["api"]["command"][1:])
    assert api.command == "serve" and api.no_runner and api.host == "0.0.0.0"
    assert f"{api.port}:{api.port}" in services["api"]["ports"]
    runner = build_parser().parse_args(services["runner"]["command"][1:])
    assert runner.command == "runner" and runner.executor == "ray"


def test_ray_nodes_join_the_head(compose: dict[str, Any]) -> None:
    services = compose["services"]
    head = services["ray-head"]["command"]
    assert head[:3] == ["ray", "start", "--head"] and "--block" in head
    port = next(a.split("=")[1] for a in head if a.startswith("--port="))
    worker = services["ray-worker"]["command"]
    assert f"--address=ray-head:{port}" in worker and "--block" in worker
    assert "deploy" not in services["ray-worker"]  # scaled with --scale, no fixed replicas
    assert "ports" not in services["ray-worker"]  # a fixed host port would block --scale


def test_env_wiring_points_at_the_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    pg = services["postgres"]["environment"]
    for name in ("api", "runner"):
        env = services[name]["environment"]
        url = env["NAS_DATABASE_URL"]
        expected = f"{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/"
        assert expected in url and url.endswith(pg["POSTGRES_DB"])
        assert env["NAS_RAY_ADDRESS"].startswith("ray-head:")
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "ray-head" in services["runner"]["depends_on"]
    for name in ("ray-head", "ray-worker", "api", "runner"):
        assert services[name]["build"] == "."  # one image for all


def test_dockerfile_installs_the_package_and_ray() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install ." in text and "ray" in text
    for path in ("nas", "api", "workers", "nas_cli"):
        assert f"COPY {path} ./{path}" in text and (ROOT / path).is_dir()


def test_an_exposed_api_requires_a_token_and_ray_stays_unpublished(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in ("api", "runner"):
        assert services[name]["environment"]["NAS_API_TOKEN"].startswith("${NAS_API_TOKEN:?")
    head = services["ray-head"]
    assert "ports" not in head and "--dashboard-host=127.0.0.1" in head["command"]
