"""A two-node Ray cluster on one machine (`ray start --head`, then `ray start --address`)
runs a job to completion through the driver, as a user's cluster would.

Each node runs `ray start --block` as our child, so teardown stops exactly the processes
this test started (by their ids), never every Ray process on a shared machine.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import ray

from tests.api.test_processes import pg_url  # noqa: F401, F811 - a fixture: a fresh PG schema
from tests.jobs import job_spec, run_job
from workers import RayExecutor

RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node(*args: str) -> subprocess.Popen:
    cmd = [RAY, "start", "--num-cpus=1", "--object-store-memory=100000000", "--block"]
    cmd += ["--disable-usage-stats", *args]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(nodes: list[subprocess.Popen]) -> None:
    """SIGTERM each `ray start --block`, then SIGKILL whatever it left (by process id)."""
    family = []
    for node in nodes:
        with contextlib.suppress(psutil.NoSuchProcess):
            family += psutil.Process(node.pid).children(recursive=True)
    for node in reversed(nodes):
        node.send_signal(signal.SIGTERM)
    for node in nodes:
        try:
            node.wait(timeout=20)
        except subprocess.TimeoutExpired:
            node.kill()
    _, alive = psutil.wait_procs(family, timeout=10)
    for p in alive:
        p.kill()
    psutil.wait_procs(alive, timeout=5)


@pytest.fixture
def two_nodes() -> Iterator[str]:
    assert not ray.is_initialized()  # RAY_AUTH_MODE=token is set in conftest, see there
    address = f"127.0.0.1:{_free_port()}"
    nodes = [_node("--head", f"--port={address.split(':')[1]}", "--include-dashboard=false")]
    try:
        _wait_for_cpus(address, nodes, 1)
        nodes.append(_node(f"--address={address}"))
        _wait_for_cpus(address, nodes, 2)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        _stop(nodes)


def _wait_for_cpus(address: str, nodes: list[subprocess.Popen], cpus: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert all(n.poll() is None for n in nodes), "a `ray start` exited early"
        try:
            if not ray.is_initialized():
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            if ray.cluster_resources().get("CPU", 0) >= cpus:
                ray.shutdown()
                return
        except (ConnectionError, RuntimeError):
            pass
        time.sleep(1)
    raise TimeoutError(f"the cluster at {address} did not reach {cpus} CPUs")


def test_a_two_node_cluster_runs_a_job_to_completion(two_nodes, digits, store, monkeypatch):
    monkeypatch.setenv("NAS_RAY_ADDRESS", two_nodes)  # how a user points nas at the cluster
    ex = RayExecutor(digits, True)  # one worker per CPU of the cluster: 2 slots
    assert ex.slots == 2 and len([n for n in ray.nodes() if n["Alive"]]) == 2
    trials = run_job(store, job_spec(executor="ray", parallelism=2), ex)
    assert [t.status for t in trials] == ["finished"] * 4
    assert ray.is_initialized()  # joined, not owned: the cluster keeps running for others
    ray.shutdown()


def test_compose_topology_as_processes_runs_a_job_on_ray(two_nodes, tmp_path, pg_url):  # noqa: F811
    """docker-compose.yml's services started as the same commands: PostgreSQL, a Ray head
    and a second node (the fixture), `nas serve --no-runner`, `nas runner --executor ray`."""
    import httpx

    from tests.api.test_processes import Procs
    from tests.api.util import free_port, submit, tiny_spec, wait_job

    procs = Procs(tmp_path, {"NAS_DATABASE_URL": pg_url, "NAS_RAY_ADDRESS": two_nodes})
    try:
        port = free_port()
        procs.serve(port, "--no-runner")
        runner = procs.start("runner", "--executor", "ray")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30) as client:
            job_id = submit(client, tiny_spec("iris", trials=4) | {"parallelism": 2})
            job = wait_job(client, job_id, timeout=240)
            trials = client.get(f"/jobs/{job_id}/trials").json()["items"]
        assert job["status"] == "finished", procs.logs()
        assert [t["number"] for t in trials] == list(range(4))
        assert all(t["status"] in ("finished", "pruned") for t in trials)
        assert runner.poll() is None
    finally:
        procs.stop()
