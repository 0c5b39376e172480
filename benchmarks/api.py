"""API read latency under load: leaderboard, a trials page and a curve, 50 clients at once.

Stores one job with 10,000 trials (50 epochs each, 500,000 curve points), starts `nas
serve` as its own process on a free loopback port, once with one API process and once
with --workers N, and runs the same load against each, side by side: N concurrent
clients, one connection each, no pause between requests, a third of them on each read
(random trials pages and curves). Trials pages are asked for twice: at offsets that are
multiples of the page size, as a UI pages through a table, and at any offset. The
clients are wrk (C, from Debian's package) when it is installed, so that the load
generator does not take the server's CPU on a small machine; otherwise asyncio + httpx
in this process. Prints p50/p99/max per endpoint against the target (p99 < 50 ms), and
POST /jobs to the first trial running with the local executor.

    .venv/bin/python benchmarks/api.py [--clients 50] [--seconds 15] [--workers 2]
        [--client wrk|httpx] [--db URL] [--offsets pages,any]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import insert, update

from nas import store as db
from nas.store.models import Epoch, Job, Trial, utcnow

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
        done = {"status": "finished", "started": now, "finished": now}
        s.execute(update(Job).where(Job.id == job.id).values(**done))  # as if it had run
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


def start_server(url: str, port: int, runner: bool, workers: int = 1) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "nas_cli.main", "serve", "--port", str(port), "--db", url]
    args += ["--executor", "local", "--log-level", "warning", "--workers", str(workers)]
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
    step: int = 1,
) -> None:
    rng = random.Random(seed)
    paths = {
        "leaderboard (top 10)": lambda: f"/jobs/{job_id}/leaderboard?k=10",
        "trials page (50, by -val_metric)": lambda: (
            f"/jobs/{job_id}/trials?sort=-val_metric&limit=50"
            f"&offset={rng.randrange(0, N_TRIALS - 50, step)}"
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
    base: str,
    job_id: int,
    ids: list[int],
    clients: int,
    seconds: float,
    pause: float = 0.0,
    step: int = 1,
) -> dict:
    """Each client has its own connection, opened and warmed up before the clock starts."""
    names = ["leaderboard (top 10)", "trials page (50, by -val_metric)", "curve (50 epochs)"]
    out: dict[str, list] = {name: [] for name in names}
    pool = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(clients)]
    try:
        warm = time.monotonic() + 3
        await asyncio.gather(
            *(client_loop(c, job_id, ids, warm, i, {n: [] for n in names}, pause, step)
              for i, c in enumerate(pool))
        )  # fmt: skip
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(client_loop(c, job_id, ids, until, i, out, pause, step) for i, c in enumerate(pool))
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in pool))
    return out


WRK_SCRIPT = """
math.randomseed(%(seed)d)
local ids = {%(ids)s}
request = function()
  local path = "%(path)s"
  path = path:gsub("{offset}", tostring(%(step)d * math.random(0, %(pages)d)))
  path = path:gsub("{trial}", tostring(ids[math.random(1, #ids)]))
  return wrk.format("GET", path)
end
"""
WRK_PATHS = {
    "leaderboard (top 10)": "/jobs/{job}/leaderboard?k=10",
    "trials page (50, by -val_metric)": (
        "/jobs/{job}/trials?sort=-val_metric&limit=50&offset={offset}"
    ),
    "curve (50 epochs)": "/trials/{trial}/curve",
}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def load_wrk(
    base: str, job_id: int, ids: list[int], clients: int, seconds: float, step: int
) -> dict:
    """One wrk process per endpoint, the clients split evenly; p50/p99/max from wrk."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        procs = {}
        for i, (name, path) in enumerate(WRK_PATHS.items()):
            script = Path(tmp) / f"{i}.lua"
            script.write_text(WRK_SCRIPT % {
                "seed": i, "ids": ",".join(map(str, ids[:5000])),
                "step": step, "pages": (N_TRIALS - 50) // step,
                "path": "/api/v1" + path.replace("{job}", str(job_id)),
            })  # fmt: skip
            conns = clients // 3 + (i < clients % 3)
            args = ["wrk", "-t1", f"-c{conns}", f"-d{seconds:.0f}s", "--timeout", "30s"]
            args += ["--latency", "-s"]
            procs[name] = subprocess.Popen(
                [*args, str(script), base.removesuffix("/api/v1")],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
        for name, proc in procs.items():
            text, _ = proc.communicate()
            lines = text.splitlines()
            pct = {x.split()[0]: _ms(x.split()[1]) for x in lines if re.match(r"\s+\d+%", x)}
            latency = next(x for x in lines if x.strip().startswith("Latency")).split()
            n = int(next(x for x in lines if "requests in" in x).split()[0])
            out[name] = {"n": n, "p50": pct["50%"], "p99": pct["99%"], "max": _ms(latency[3])}
            bad = [x.strip() for x in lines if "Non-2xx" in x or "Socket errors" in x]
            out.setdefault("errors", []).extend(bad)
    return out


def summarize(out: dict) -> dict:
    """httpx's raw latencies in the shape load_wrk reports."""
    result: dict = {"errors": out.pop("errors", [])}
    for name, ms in out.items():
        p50, p99 = np.percentile(ms, [50, 99])
        result[name] = {"n": len(ms), "p50": p50, "p99": p99, "max": max(ms)}
    return result


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
    parser.add_argument("--workers", type=int, default=2, help="API processes of the 2nd run")
    parser.add_argument("--client", choices=["wrk", "httpx"], default=None)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--offsets",
        default="pages,any",
        help="trials-page offsets, comma-separated runs: 'pages' (multiples of the page "
        "size, as a UI pages) and/or 'any' (every offset 0..9949)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="httpx clients: mean seconds between requests (default 0: back to back)",
    )
    args = parser.parse_args()
    client = args.client or ("wrk" if shutil.which("wrk") and not args.pause else "httpx")
    steps = {"pages": 50, "any": 1}
    offsets = [name.strip() for name in args.offsets.split(",")]
    if unknown := set(offsets) - set(steps):
        parser.error(f"--offsets: unknown {sorted(unknown)}; choose from {sorted(steps)}")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        job_id, ids = populate(url)
        print(f"stored {N_TRIALS} trials, {N_TRIALS * N_EPOCHS} epochs in "
              f"{time.perf_counter() - started:.1f} s ({url.split(':')[0]})")  # fmt: skip
        results: dict = {}
        firsts: dict = {}
        for workers in sorted({1, args.workers}):
            port = free_port()
            server = start_server(url, port, runner=True, workers=workers)
            base = f"http://127.0.0.1:{port}/api/v1"
            try:
                time.sleep(2)  # every worker process up
                firsts[workers] = min(time_to_first_trial(base) for _ in range(3))
                for name in offsets:
                    step = steps[name]
                    if client == "wrk":
                        load_wrk(base, job_id, ids, args.clients, 3, step)  # warm-up
                        out = load_wrk(base, job_id, ids, args.clients, args.seconds, step)
                    else:
                        raw = asyncio.run(
                            load(base, job_id, ids, args.clients, args.seconds, args.pause, step)
                        )
                        out = summarize(raw)
                    results[(workers, name)] = out
            finally:
                server.terminate()
                server.wait(timeout=30)
    return report(results, firsts, args, client)


def report(results: dict, firsts: dict, args: argparse.Namespace, client: str) -> int:
    pacing = f"pause {args.pause} s between requests" if args.pause else "back to back"
    print(f"{args.clients} concurrent clients ({client}, {pacing}), {args.seconds:.0f} s a run "
          f"after a 3 s warm-up, on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"| API processes | page offsets | endpoint | requests/s | p50 ms | p99 ms | max ms | "
          f"p99 < {TARGET_MS:.0f} ms |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    met = True
    most = max(workers for workers, _ in results)
    for (workers, offsets), out in results.items():
        errors = out.pop("errors", [])
        for name, r in out.items():
            ok = r["p99"] < TARGET_MS and not errors
            met &= ok if workers == most else True
            print(f"| {workers} | {offsets} | {name} | {r['n'] / args.seconds:.0f} | "
                  f"{r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | "
                  f"{'met' if ok else 'MISSED'} |")  # fmt: skip
        if errors:
            print(f"| {workers} | {offsets} | errors | {errors} |")
    for workers, first in firsts.items():
        print(f"POST /jobs to first trial running ({workers} API processes, local executor, "
              f"runner polling 0.1 s): {first:.2f} s (target < 3 s)")  # fmt: skip
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
