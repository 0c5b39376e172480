"""API read latency under load: leaderboard, a trials page and a curve, 50 clients at once.

Stores one job with 10,000 trials (50 epochs each, 500,000 curve points), starts
`nas serve --no-runner` as its own process on a free loopback port, and runs N concurrent
clients (asyncio + httpx, one connection each, no pause between requests) for a fixed
time, cycling through the three reads. Prints p50/p99/max per endpoint against the
target (p99 < 50 ms). Also measures POST /jobs to the first trial running with the
local executor (the Ray variant of that target waits for workers/).

    .venv/bin/python benchmarks/api.py [--clients 50] [--seconds 15] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import insert

from nas import store as db
from nas.store.models import Epoch, Trial, utcnow

N_TRIALS, N_EPOCHS, TARGET_MS = 10_000, 50, 50.0


def populate(url: str) -> tuple[int, list[int]]:
    """One job with N_TRIALS trials and their curves, written in bulk."""
    store = db.open_store(url)
    rng = np.random.default_rng(0)
    with store.session() as s:
        job = db.create_job(s, name="bench", spec={"space": {"max_epochs": N_EPOCHS}})
        now = utcnow()
        rows = [
            {
                "job_id": job.id,
                "number": i,
                "params": {"widths": [int(rng.integers(8, 256))], "lr": float(rng.random())},
                "status": "finished" if i % 4 else "pruned",
                "epochs_run": N_EPOCHS if i % 4 else 10,
                "val_metric": float(rng.random()),
                "test_metric": float(rng.random()),
                "n_params": int(rng.integers(100, 100_000)),
                "attempt": 1,
                "started": now,
                "finished": now,
            }
            for i in range(N_TRIALS)
        ]
        s.execute(insert(Trial), rows)
        s.commit()
        ids = [t.id for t in db.list_trials(s, job.id)]
        for chunk in range(0, len(ids), 1000):
            points = [
                {
                    "trial_id": t,
                    "epoch": e,
                    "train_loss": 1 / e,
                    "val_loss": 1 / e,
                    "val_metric": 1 - 1 / e,
                    "seconds": 0.01,
                }  # fmt: skip
                for t in ids[chunk : chunk + 1000]
                for e in range(1, N_EPOCHS + 1)
            ]
            s.execute(insert(Epoch), points)
            s.commit()
    store.close()
    return job.id, ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, runner: bool) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "nas.cli", "serve", "--port", str(port), "--db", url]
    args += ["--executor", "local", "--log-level", "warning"]
    if not runner:
        args.append("--no-runner")
    env = os.environ | {"NAS_RUNNER_POLL_SECONDS": "0.1"}
    proc = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("nas serve did not start")


async def client_loop(
    client: httpx.AsyncClient,
    job_id: int,
    ids: list[int],
    until: float,
    seed: int,
    out: dict[str, list],
    pause: float = 0.0,
) -> None:
    rng = random.Random(seed)
    paths = {
        "leaderboard (top 10)": lambda: f"/jobs/{job_id}/leaderboard?k=10",
        "trials page (50, by -val_metric)": lambda: (
            f"/jobs/{job_id}/trials?sort=-val_metric&limit=50&offset={rng.randrange(0, 9950)}"
        ),
        "curve (50 epochs)": lambda: f"/trials/{rng.choice(ids)}/curve",
    }
    names = list(paths)
    i = seed
    while time.monotonic() < until:
        name = names[i % 3]
        i += 1
        started = time.perf_counter()
        r = await client.get(paths[name]())
        out[name].append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            out.setdefault("errors", []).append(r.status_code)
        if pause:
            await asyncio.sleep(pause * (0.5 + rng.random()))  # a dashboard's polling


async def load(
    base: str, job_id: int, ids: list[int], clients: int, seconds: float, pause: float = 0.0
) -> dict:
    """Each client has its own connection, opened and warmed up before the clock starts."""
    names = ["leaderboard (top 10)", "trials page (50, by -val_metric)", "curve (50 epochs)"]
    out: dict[str, list] = {name: [] for name in names}
    pool = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(clients)]
    try:
        warm = time.monotonic() + 3
        await asyncio.gather(
            *(client_loop(c, job_id, ids, warm, i, {n: [] for n in names}, pause)
              for i, c in enumerate(pool))
        )  # fmt: skip
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(client_loop(c, job_id, ids, until, i, out, pause) for i, c in enumerate(pool))
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in pool))
    return out


def time_to_first_trial(base: str) -> float:
    spec = {"dataset": "iris", "budget": {"trials": 1}, "space": {"max_epochs": 5},
            "stopping": {"policy": "none"}, "searcher": "random"}  # fmt: skip
    with httpx.Client(base_url=base, timeout=30) as client:
        started = time.perf_counter()
        job_id = client.post("/jobs", json=spec).json()["id"]
        while not client.get(f"/jobs/{job_id}/trials").json()["total"]:
            time.sleep(0.01)
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="mean seconds a client waits between requests (default 0: back to back)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        job_id, ids = populate(url)
        print(f"stored {N_TRIALS} trials, {N_TRIALS * N_EPOCHS} epochs in "
              f"{time.perf_counter() - started:.1f} s ({url.split(':')[0]})")  # fmt: skip
        port = free_port()
        server = start_server(url, port, runner=True)
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            first = min(time_to_first_trial(base) for _ in range(3))
            out = asyncio.run(load(base, job_id, ids, args.clients, args.seconds, args.pause))
        finally:
            server.terminate()
            server.wait(timeout=30)
    errors = out.pop("errors", [])
    total = sum(len(v) for v in out.values())
    pacing = f"pause {args.pause} s between requests" if args.pause else "back to back"
    print(f"{args.clients} concurrent clients ({pacing}), {args.seconds:.0f} s, {total} "
          f"requests ({total / args.seconds:.0f}/s), {len(errors)} errors")  # fmt: skip
    print(f"| endpoint | requests | p50 ms | p99 ms | max ms | target p99 < {TARGET_MS:.0f} ms |")
    print("|---|---|---|---|---|---|")
    met = True
    for name, ms in out.items():
        p50, p99 = np.percentile(ms, [50, 99])
        ok = p99 < TARGET_MS
        met &= ok
        print(f"| {name} | {len(ms)} | {p50:.1f} | {p99:.1f} | {max(ms):.1f} | "
              f"{'met' if ok else 'MISSED'} |")  # fmt: skip
    print(f"POST /jobs to first trial running (local executor, runner polling 0.1 s): "
          f"{first:.2f} s (target < 3 s with Ray up)")  # fmt: skip
    return 0 if met and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
