"""Chaos: the service on PostgreSQL and a two-node Ray cluster, its processes killed at random.

The docker-compose topology as processes on this machine: a fresh PostgreSQL schema, a Ray
head and a second Ray node (`ray start --head`, `ray start --address`), three `nas runner
--executor ray` and the API (`nas serve --no-runner`). Four jobs go in through the API.
Then, for --minutes (10), every 5-15 s one random runner, Ray worker (a trial's actor) or
API process is killed with SIGKILL, and a killed runner or API is started again after a
pause of 2-5 s (Ray starts workers again by itself). Once, a third to two thirds of the way
in, every connection of the service to PostgreSQL is cut (pg_terminate_backend). A client
meanwhile reads the API as a dashboard would. Then the kills stop, the jobs are left to
finish, and the store is checked:

    kills          each kind, and whether the jobs survived them all
    jobs finished  of the 4
    trials lost    a trial number missing, or a trial still running in a settled job (0)
    duplicated     a trial number stored twice in one job (0; the schema refuses it too)
    broken curves  a curve with a missing or repeated epoch, or one that does not end at
                   the trial's epochs_run (0)
    strays         processes of this run (tagged, or seen below it) alive after teardown

Not run in CI: it takes the minutes it is told and every core of the machine.

    python benchmarks/chaos.py [--minutes 10] [--seed 0] [--pg-url URL] [--stale-seconds 15]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

NAS = [sys.executable, "-m", "nas_cli.main"]
RAY = str(Path(sys.executable).with_name("ray"))
TAG = "NAS_CHAOS_RUN"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SPACE = {
    "n_layers": [1, 2],
    "width": [8, 64],
    "activation": ["relu", "tanh"],
    "batch_size": [32, 64],
    "learning_rate": [1e-3, 3e-2],
    "max_epochs": 20,
}
JOBS = [  # four jobs, one per executor path the runners take on Ray
    {"dataset": "digits", "searcher": "random", "parallelism": 2, "stopping": {"policy": "asha"}},
    {"dataset": "wine", "searcher": "tpe", "parallelism": 1, "stopping": {"policy": "lce"}},
    {"dataset": "breast_cancer", "searcher": "evolution", "parallelism": 2},
    {"dataset": "iris", "searcher": "random", "parallelism": 1, "population": {"size": 3}},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def fresh_schema(base: str, run: str) -> Any:
    """A new PostgreSQL schema for the run, and the URL the service uses for it: its
    search_path, and an application_name that marks every connection of the service."""
    schema = f"chaos_{run}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    query = {"options": f"-csearch_path={schema}", "application_name": f"nas-chaos-{run}"}
    url = make_url(base).update_query_dict(query).render_as_string(hide_password=False)
    try:
        yield url, admin
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class Fleet:
    """The processes of the run, started with one environment; each killed by its id."""

    logs: Path
    env: dict[str, str]
    api_port: int
    runners: list[subprocess.Popen | None] = field(default_factory=lambda: [None] * 3)
    api: subprocess.Popen | None = None
    nodes: list[subprocess.Popen] = field(default_factory=list)
    seen: dict[int, psutil.Process] = field(default_factory=dict)
    started = 0

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        self.started += 1
        log = (self.logs / f"{self.started:03d}-{name}.log").open("wb")
        return subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_node(self, *args: str) -> None:
        command = [RAY, "start", "--num-cpus=2", "--object-store-memory=100000000", "--block"]
        self.nodes.append(self.spawn("ray-node", [*command, "--disable-usage-stats", *args]))

    def start_runner(self, i: int) -> None:
        self.runners[i] = self.spawn(f"runner{i}", [*NAS, "runner", "--executor", "ray"])

    def start_api(self) -> None:
        port = ["--port", str(self.api_port), "--log-level", "warning", "--no-runner"]
        self.api = self.spawn("api", [*NAS, "serve", *port])

    def ray_workers(self, run: str) -> list[psutil.Process]:
        """The cluster's actor processes (trials training), not its daemons or agents:
        below a node of ours, or carrying the run's tag."""
        below = set()
        for node in self.nodes:
            with contextlib.suppress(psutil.Error):
                below |= {p.pid for p in psutil.Process(node.pid).children(recursive=True)}
        found = []
        for p in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                title = " ".join(p.cmdline())
                if not (title.startswith("ray::") and "Actor" in title):
                    continue
                if p.pid in below or p.environ().get(TAG) == run:
                    found.append(p)
        return found

    def note(self) -> None:
        """Remember every process below this one (to find strays after teardown)."""
        with contextlib.suppress(psutil.Error):
            for p in psutil.Process().children(recursive=True):
                self.seen.setdefault(p.pid, p)

    def stop(self) -> None:
        """SIGTERM runners and API, then the nodes; SIGKILL what does not go in 30 s."""
        self.note()
        service = [p for p in [*self.runners, self.api] if p is not None]
        for group in (service, list(reversed(self.nodes))):
            for p in group:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in group:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def strays(self, run: str) -> list[str]:
        """Processes of this run still alive: seen below us, or carrying the run's tag."""
        me = os.getpid()
        alive = {p.pid: p for p in self.seen.values() if p.pid != me and p.is_running()}
        for p in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if p.pid != me and p.environ().get(TAG) == run:
                    alive[p.pid] = p
        names = []
        for p in alive.values():
            with contextlib.suppress(psutil.Error):
                names.append(f"{p.pid} {' '.join(p.cmdline())[:80]}")
        return names


class Reader(threading.Thread):
    """A dashboard's reads, over and over: health, the jobs, a job's trials and curves.
    Counts answers by status; a refused connection (the API is down) is 'down'."""

    def __init__(self, api: str, job_ids: list[int]) -> None:
        super().__init__(daemon=True)
        self.api, self.job_ids = api, job_ids
        self.stop = threading.Event()
        self.statuses: Counter[str] = Counter()
        self.errors: list[str] = []

    def run(self) -> None:
        rng = random.Random(1)
        with httpx.Client(base_url=self.api, timeout=10) as client:
            while not self.stop.wait(0.2):
                job = rng.choice(self.job_ids)
                for path in ("/health", "/jobs", f"/jobs/{job}/trials", f"/jobs/{job}/curves"):
                    try:
                        r = client.get(path)
                    except httpx.TransportError:
                        self.statuses["down"] += 1
                        continue
                    self.statuses[str(r.status_code)] += 1
                    if r.status_code >= 500:
                        self.errors.append(f"{path} {r.status_code} {r.text[:200]}")


def wait_healthy(api: str, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(api + "/health", timeout=2).status_code == 200:
                return time.monotonic() - started
        time.sleep(0.1)
    raise TimeoutError("the API did not come up")


def wait_cpus(address: str, env: dict[str, str], cpus: int) -> None:
    probe = (
        "import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False); "
        "print(int(ray.cluster_resources().get('CPU', 0)))"
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        out = subprocess.run(
            [sys.executable, "-c", probe, address], env=env, capture_output=True, text=True
        )
        if out.returncode == 0 and int(out.stdout.strip().splitlines()[-1]) >= cpus:
            return
        time.sleep(2)
    raise TimeoutError(f"the Ray cluster at {address} did not reach {cpus} CPUs")


def cut_connections(admin: Any, run: str) -> int:
    """pg_terminate_backend for every connection of the service; how many there were."""
    query = text(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = :app"
    )
    with admin.connect() as c:
        return int(c.execute(query, {"app": f"nas-chaos-{run}"}).scalar_one())


def jobs_running(admin: Any, schema: str) -> int:
    with admin.connect() as c:
        query = text(f"SELECT count(*) FROM \"{schema}\".nas_jobs WHERE status = 'running'")
        return int(c.execute(query).scalar_one())


def recoveries(logs: Path) -> Counter[str]:
    """What the runners' logs say they did about the faults."""
    said: Counter[str] = Counter()
    marks = {
        "requeued jobs": "jobs requeued from a dead runner",
        "handed back to the queue": "jobs handed back on a lost connection",
    }
    for log in logs.glob("*runner*.log"):
        text_ = log.read_text(errors="replace")
        for mark, what in marks.items():
            said[what] += text_.count(mark)
    return said


def chaos(fleet: Fleet, admin: Any, run: str, minutes: float, rng: random.Random) -> dict:
    """The kills, for `minutes`; the connection cut once, a third to two thirds in."""
    kills: Counter[str] = Counter()
    api_back: list[float] = []
    start = time.monotonic()
    end = start + minutes * 60
    cut_at = start + rng.uniform(1 / 3, 2 / 3) * minutes * 60
    cut: int | None = None
    while True:
        gap = rng.uniform(5, 15)
        if time.monotonic() + gap > end:
            break
        time.sleep(gap)
        fleet.note()
        if cut is None and time.monotonic() >= cut_at:
            cut = cut_connections(admin, run)
            running = jobs_running(admin, f"chaos_{run}")
            print(
                f"  {time.monotonic() - start:5.0f} s  cut {cut} database connections "
                f"({running} jobs running)"
            )
        kind = rng.choice(["runner", "ray worker", "api"])
        workers = fleet.ray_workers(run)
        if kind == "ray worker" and not workers:
            kind = rng.choice(["runner", "api"])
        if kind == "runner":
            i = rng.randrange(len(fleet.runners))
            victim = fleet.runners[i]
        elif kind == "api":
            victim = fleet.api
        else:
            victim = rng.choice(workers)
        assert victim is not None
        with contextlib.suppress(ProcessLookupError, psutil.Error):
            os.kill(victim.pid, signal.SIGKILL)
        kills[kind] += 1
        print(
            f"  {time.monotonic() - start:5.0f} s  kill -9 {kind} (pid {victim.pid}; "
            f"{len(workers)} Ray workers training, {jobs_running(admin, f'chaos_{run}')} jobs "
            "running)"
        )
        if kind == "ray worker":
            continue  # Ray starts workers itself; the driver retries the trial
        time.sleep(rng.uniform(2, 5))
        if isinstance(victim, subprocess.Popen):
            victim.wait()
        if kind == "runner":
            fleet.start_runner(i)
        else:
            fleet.start_api()
            api_back.append(wait_healthy(f"http://127.0.0.1:{fleet.api_port}/api/v1", 120))
    return {"kills": dict(kills), "connections_cut": cut, "api_back_s": api_back}


def settle(admin: Any, schema: str, job_ids: list[int], minutes: float) -> dict[int, str]:
    """Wait (at most `minutes`) for every job to be finished, failed or cancelled."""
    deadline = time.monotonic() + minutes * 60
    while True:
        with admin.connect() as c:
            rows = c.execute(
                text(f'SELECT id, status FROM "{schema}".nas_jobs WHERE id = ANY(:ids)'),
                {"ids": job_ids},
            ).all()
        statuses = {int(i): str(s) for i, s in rows}
        if all(s in ("finished", "failed", "cancelled") for s in statuses.values()):
            return statuses
        if time.monotonic() > deadline:
            return statuses
        time.sleep(2)


def check_store(admin: Any, schema: str, job_ids: list[int]) -> dict[str, Any]:
    """Trials lost, numbers duplicated, curves broken; per job, from the store itself."""
    s = f'"{schema}"'
    lost, duplicated, broken, report = [], [], [], []
    with admin.connect() as c:
        jobs = c.execute(
            text(f"SELECT id, status, spec, error FROM {s}.nas_jobs WHERE id = ANY(:ids)"),
            {"ids": job_ids},
        ).all()
        for job_id, status, spec, error in jobs:
            spec = spec if isinstance(spec, dict) else json.loads(spec)
            trials = c.execute(
                text(
                    f"SELECT id, number, status, epochs_run, attempt FROM {s}.nas_trials "
                    "WHERE job_id = :j ORDER BY number"
                ),
                {"j": job_id},
            ).all()
            numbers = [t.number for t in trials]
            counts = Counter(numbers)
            duplicated += [(job_id, n) for n, k in counts.items() if k > 1]
            budget = (spec.get("budget") or {}).get("trials") or 0
            expected = range(budget if status == "finished" else max(numbers, default=-1) + 1)
            lost += [(job_id, n, "missing") for n in expected if n not in counts]
            if status in ("finished", "failed", "cancelled"):
                lost += [(job_id, t.number, "running") for t in trials if t.status == "running"]
            curve = text(f"SELECT epoch FROM {s}.nas_epochs WHERE trial_id = :t ORDER BY epoch")
            for t in trials:
                epochs = [int(e) for (e,) in c.execute(curve, {"t": t.id})]
                if epochs != list(range(1, len(epochs) + 1)) or len(epochs) != t.epochs_run:
                    broken.append((job_id, t.number, t.epochs_run, epochs[:5], len(epochs)))
            by_status = Counter(t.status for t in trials)
            retried = sum(t.attempt - 1 for t in trials)
            report.append(
                f"job {job_id} {spec['dataset']['name']}: {status}, {len(trials)} trials "
                f"{dict(by_status)}, {retried} retries" + (f", error: {error}" if error else "")
            )
    return {"lost": lost, "duplicated": duplicated, "broken": broken, "jobs": report}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="chaos window (10)")
    parser.add_argument("--drain-minutes", type=float, default=20.0, help="then wait at most")
    parser.add_argument("--trials", type=int, default=300, help="budget.trials of each job")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pg-url", default=os.environ.get("NAS_CHAOS_PG_URL", PG_URL))
    parser.add_argument(
        "--stale-seconds", type=float, default=15.0, help="NAS_RUNNER_STALE_SECONDS (15)"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    run = uuid.uuid4().hex[:10]
    logs = Path(tempfile.mkdtemp(prefix=f"nas-chaos-{run}-"))
    ray_port = free_port()
    address = f"127.0.0.1:{ray_port}"
    with fresh_schema(args.pg_url, run) as (url, admin):
        env = os.environ | {
            TAG: run,
            "NAS_DATABASE_URL": url,
            "NAS_RAY_ADDRESS": address,
            "NAS_EXECUTOR": "ray",
            "NAS_RUNNER_STALE_SECONDS": str(args.stale_seconds),
            "NAS_RUNNER_HEARTBEAT_SECONDS": str(max(1.0, args.stale_seconds / 5)),
            "NAS_RUNNER_POLL_SECONDS": "0.5",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": os.environ.get("RAY_AUTH_TOKEN") or secrets.token_hex(32),
        }
        fleet = Fleet(logs, env, free_port())
        api = f"http://127.0.0.1:{fleet.api_port}/api/v1"
        reader = None
        try:
            fleet.start_node("--head", f"--port={ray_port}", "--include-dashboard=false")
            wait_cpus(address, env, 2)
            fleet.start_node(f"--address={address}")
            wait_cpus(address, env, 4)
            fleet.start_api()
            wait_healthy(api, 120)
            for i in range(len(fleet.runners)):
                fleet.start_runner(i)
            job_ids = []
            for k, job in enumerate(JOBS):
                spec = job | {"space": SPACE, "budget": {"trials": args.trials}, "seed": k}
                r = httpx.post(api + "/jobs", json=spec, timeout=30)
                assert r.status_code == 202, r.text
                job_ids.append(int(r.json()["id"]))
            reader = Reader(api, job_ids)
            reader.start()
            load = os.getloadavg()
            print(
                f"chaos run {run}: {date.today()}, {os.cpu_count()} CPUs, load {load[0]:.1f}; "
                f"PostgreSQL schema chaos_{run}; Ray nodes 2 x 2 CPUs at {address}; "
                f"3 runners, 1 API; {len(JOBS)} jobs of {args.trials} trials; "
                f"{args.minutes:g} min of kills; stale after {args.stale_seconds:g} s; "
                f"logs in {logs}"
            )
            started = time.monotonic()
            figures = chaos(fleet, admin, run, args.minutes, rng)
            chaos_s = time.monotonic() - started
            print(f"kills stopped after {chaos_s:.0f} s; letting the jobs finish")
            statuses = settle(admin, f"chaos_{run}", job_ids, args.drain_minutes)
            settled_s = time.monotonic() - started
            reader.stop.set()
            reader.join()
            checks = check_store(admin, f"chaos_{run}", job_ids)
        finally:
            if reader is not None:
                reader.stop.set()
            fleet.stop()
        time.sleep(10)  # what dies of its parent's death has had time to
        strays = fleet.strays(run)
    finished = sum(s == "finished" for s in statuses.values())
    survived = finished == len(JOBS) and not (checks["lost"] or checks["broken"])
    kills = figures["kills"]
    back = figures["api_back_s"]
    print()
    print(f"kills: {sum(kills.values())} ({', '.join(f'{k} {v}' for k, v in kills.items())}), ")
    print(f"  and {figures['connections_cut']} PostgreSQL connections cut once")
    print(f"kills survived: {sum(kills.values()) if survived else 'NOT ALL'}")
    print(f"jobs finished: {finished} of {len(JOBS)} (settled {settled_s:.0f} s after the start)")
    for line in checks["jobs"]:
        print(f"  {line}")
    print(f"trials lost: {len(checks['lost'])} {checks['lost'][:10]}")
    print(f"trial numbers duplicated: {len(checks['duplicated'])} {checks['duplicated'][:10]}")
    print(f"curves with a gap or a repeat: {len(checks['broken'])} {checks['broken'][:5]}")
    print(f"stray processes left: {len(strays)}")
    for line in strays[:10]:
        print(f"  {line}")
    if back:
        print(f"API back after a restart: {min(back):.1f}-{max(back):.1f} s to /health")
    for what, count in recoveries(logs).items():
        print(f"  {what}: {count}")
    answers = dict(sorted(reader.statuses.items())) if reader else {}
    print(f"dashboard reads meanwhile: {answers}")
    for line in (reader.errors if reader else [])[:5]:
        print(f"  {line}")
    ok = survived and not (checks["duplicated"] or strays)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
