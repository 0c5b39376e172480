"""`nas run --executor ray` and `nas serve` start a local Ray and leave no Ray process
behind: after a clean end, and after a SIGKILL of the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import psutil
import ray

from tests.api.util import free_port
from tests.jobs import SMALL_SPACE
from tests.workers.conftest import _name, ray_children
from workers import RayExecutor


def test_nas_run_on_ray_finishes_and_leaves_no_ray_process(tmp_path, monkeypatch, capsys):
    from nas_cli.main import main

    seen: dict[psutil.Process, str] = {}
    close = RayExecutor.close

    def close_and_look(self: RayExecutor) -> None:
        seen.update((p, p.name()) for p in ray_children())  # Ray's daemons, still up
        close(self)

    monkeypatch.setattr(RayExecutor, "close", close_and_look)
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "dataset": "iris",
                "space": SMALL_SPACE,
                "budget": {"trials": 4},
                "searcher": "random",
            }
        )
    )
    assert not ray.is_initialized()
    db = f"sqlite:///{tmp_path / 'nas.db'}"
    code = main(["run", str(spec), "--executor", "ray", "--workers", "2", "--db", db])
    assert code == 0 and "leaderboard" in capsys.readouterr().out
    assert set(seen.values()) == {"raylet", "gcs_server"}
    assert not ray.is_initialized()
    _, alive = psutil.wait_procs(list(seen), timeout=10)
    assert not alive and not ray_children()


def test_a_server_killed_with_sigkill_leaves_no_ray_process(tmp_path):
    """`kill -9` of `nas serve`: Ray's dashboard and runtime-env agents used to outlive it
    (they wait up to a minute on the dead GCS); its watchdog now reaps them, and itself."""
    port = free_port()
    env = os.environ | {"NAS_DATABASE_URL": f"sqlite:///{tmp_path}/nas.db"}
    command = [sys.executable, "-m", "nas_cli.main", "serve", "--port", str(port)]
    command += ["--executor", "ray", "--log-level", "warning"]
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        family = _ray_up(server, port)
        assert {"raylet", "gcs_server"} <= {_name(p) for p in family}
        assert sum("Agent" in _title(p) for p in family) == 2  # dashboard, runtime env
    finally:
        server.kill()  # SIGKILL: nothing of the server's own shutdown runs
        server.wait(timeout=30)
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, [(p.pid, _title(p)) for p in alive]


def _ray_up(server: subprocess.Popen, port: int) -> list[psutil.Process]:
    """Wait until the server's Ray runs with both agents; every process below the server."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, "nas serve exited"
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).json()
        except httpx.TransportError:
            health = {}
        family = psutil.Process(server.pid).children(recursive=True)
        if health.get("ray") == "ok" and sum("Agent" in _title(p) for p in family) == 2:
            return family
        time.sleep(0.5)
    raise AssertionError("nas serve's Ray did not come up with its agents")


def _title(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""
