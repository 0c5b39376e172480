"""The service as processes, the way it is deployed: `nas serve` killed mid-job and
restarted resumes the job; `nas serve --no-runner` plus two `nas runner` processes on one
PostgreSQL (the docker-compose topology, with the local executor) run jobs side by side.

The Ray variant of the topology (ray start --head, a second node, nas runner --executor
ray) is in tests/workers/test_cluster.py, beside the two-node fixture.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.api.util import TINY_SPACE, free_port, submit, tiny_spec, wait_job
from tests.pg import fresh_schema_url

NAS = [sys.executable, "-m", "nas_cli.main"]
FAST = {
    "NAS_RUNNER_POLL_SECONDS": "0.2",
    "NAS_RUNNER_HEARTBEAT_SECONDS": "0.3",
    "NAS_RUNNER_STALE_SECONDS": "2",
    "NAS_EXECUTOR": "local",
}
SLOW_SPEC = tiny_spec("digits", trials=4, space=TINY_SPACE | {"max_epochs": 10, "width": [32, 64]})


class Procs:
    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp, self.env, self.procs = tmp, os.environ | FAST | env, []  # type: ignore[var-annotated]

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"proc-{len(self.procs)}.log").open("wb")
        p = subprocess.Popen([*NAS, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def serve(self, port: int, *args: str) -> subprocess.Popen[bytes]:
        p = self.start("serve", "--port", str(port), "--log-level", "warning", *args)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                    return p
            except httpx.TransportError:
                time.sleep(0.2)
            assert p.poll() is None, self.logs()
        raise AssertionError("nas serve did not come up\n" + self.logs())

    def logs(self) -> str:
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.tmp.glob("proc-*.log")))

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    running = Procs(tmp_path, {"NAS_DATABASE_URL": f"sqlite:///{tmp_path}/nas.db"})
    yield running
    running.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_schema_url() as url:
        yield url


def test_serve_killed_mid_job_resumes_it_after_restart(procs: Procs) -> None:
    port = free_port()
    server = procs.serve(port)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30) as client:
        job_id = submit(client, SLOW_SPEC)
        deadline = time.monotonic() + 90
        while True:  # kill once a trial is done and the next one is training
            assert time.monotonic() < deadline, "never caught the job between two trials"
            trials = client.get(f"/jobs/{job_id}/trials").json()["items"]
            done = [t for t in trials if t["status"] == "finished"]
            training = [t for t in trials if t["status"] == "running"]
            if done and training:
                break
            time.sleep(0.02)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        procs.serve(port)  # same database; the job is reaped once its lease is stale
        job = wait_job(client, job_id, timeout=120)
        assert job["status"] == "finished", procs.logs()
        trials = client.get(f"/jobs/{job_id}/trials").json()["items"]
        assert [t["number"] for t in trials] == list(range(4))
        assert all(t["status"] == "finished" and t["epochs_run"] == 10 for t in trials)
        assert any(t["attempt"] == 2 for t in trials)  # the one killed midway, trained again


def test_api_and_two_runners_share_postgresql(tmp_path: Path, pg_url: str) -> None:
    procs = Procs(tmp_path, {"NAS_DATABASE_URL": pg_url})
    try:
        port = free_port()
        procs.serve(port, "--no-runner")
        runners = [procs.start("runner"), procs.start("runner")]
        deadline = time.monotonic() + 60
        while procs.logs().count("nas.search.job_runner runner") < 2:  # both polling the queue
            assert time.monotonic() < deadline and all(r.poll() is None for r in runners)
            time.sleep(0.1)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30) as client:
            # busy for a fixed 8 s whatever the machine's speed, so it cannot end (and free
            # its runner) before the second job is claimed
            first = submit(client, SLOW_SPEC | {"budget": {"trials": 1000, "seconds": 8}})
            wait_job(client, first, until=("running",))
            second = submit(client, SLOW_SPEC | {"seed": 2})
            # the first runner is busy, so only the second can have claimed this one
            wait_job(client, second, until=("running",))
            jobs = [wait_job(client, j, timeout=180) for j in (first, second)]
        assert [j["status"] for j in jobs] == ["finished", "finished"], procs.logs()
        assert jobs[0]["runner"] != jobs[1]["runner"]
        assert all(r.poll() is None for r in runners)
    finally:
        procs.stop()
    serve, *runners_done = [p.returncode for p in procs.procs]
    assert serve in (0, -signal.SIGTERM) and runners_done == [0, 0], procs.logs()


def test_serve_with_several_api_processes_runs_jobs_once_and_leaves_none_behind(
    procs: Procs,
) -> None:
    port = free_port()
    server = procs.serve(port, "--workers", "2")
    children = psutil.Process(server.pid).children(recursive=True)
    assert len([c for c in children if "multiprocessing" in " ".join(c.cmdline())]) >= 2
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30) as client:
        job_id = submit(client, tiny_spec("iris", trials=3))
        job = wait_job(client, job_id, timeout=120)
        assert job["status"] == "finished", procs.logs()
        assert job["runner"].split(":")[1:3] == [str(server.pid), "serve"]  # the supervisor's
        for _ in range(10):  # reads spread over both processes agree
            board = client.get(f"/jobs/{job_id}/leaderboard?k=3").json()
            assert len(board) == 3
            curve = client.get(f"/trials/{board[0]['id']}/curve").json()
            assert curve["status"] == "finished" and len(curve["points"]) == 4
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0, procs.logs()
    _, left = psutil.wait_procs(children, timeout=15)  # (multiprocessing's tracker lags)
    assert not left, [c.cmdline() for c in left]


def test_serve_refuses_zero_api_processes(procs: Procs) -> None:
    p = procs.start("serve", "--workers", "0")
    assert p.wait(timeout=60) == 2
    assert "--workers: must be 1 or more, got 0" in procs.logs()
