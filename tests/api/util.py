"""Helpers for the API tests: a uvicorn server in a thread, tiny specs, polling a job."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from api.config import Settings
from api.main import create_app

TINY_SPACE = {
    "n_layers": [1, 2],
    "width": [4, 16],
    "activation": ["relu", "tanh"],
    "batch_size": [32, 64],
    "learning_rate": [1e-3, 3e-2],
    "max_epochs": 4,
}


def tiny_spec(dataset: Any = "iris", trials: int = 3, **kw: Any) -> dict[str, Any]:
    spec = {
        "dataset": dataset,
        "space": TINY_SPACE,
        "budget": {"trials": trials},
        "stopping": {"policy": "none"},
        "searcher": "random",
        "seed": 1,
    }
    return spec | kw


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    settings: Settings

    @property
    def api(self) -> str:
        return self.url + "/api/v1"


@contextmanager
def start_server(settings: Settings) -> Iterator[Server]:
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", settings)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def submit(client: httpx.Client, spec: dict[str, Any]) -> int:
    r = client.post("/jobs", json=spec)
    assert r.status_code == 202, r.text
    return int(r.json()["id"])


def wait_job(
    client: httpx.Client, job_id: int, timeout: float = 60, until: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Poll GET /jobs/{id} until the job is final (or in one of `until`)."""
    final = until or ("finished", "failed", "cancelled")
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in final:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")
        time.sleep(0.1)


def iris_csv(rows: int = 60, extra: str = "") -> bytes:
    """Iris as CSV text (first `rows` rows, shuffled so every class is present)."""
    import numpy as np

    from nas.data import load_builtin

    data = load_builtin("iris")
    order = np.random.default_rng(0).permutation(data.n_rows)[:rows]
    lines = ["sepal_l,sepal_w,petal_l,petal_w,species"]
    names = ["setosa", "versicolor", "virginica"]
    lines += [",".join(f"{v:.1f}" for v in data.X[i]) + f",{names[data.y[i]]}" for i in order]
    return ("\n".join(lines) + "\n" + extra).encode()
