"""The `nas` command: the one composition root of the project.

Each subcommand registers itself through a small `add_*` function; heavy imports (Ray,
FastAPI, SQLAlchemy) happen inside the command that needs them, so `nas --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api.config import Settings
    from nas.store import Store

Handler = Callable[[argparse.Namespace], int]


def _demo(args: argparse.Namespace) -> int:
    from nas_cli.demo import run_demo

    return run_demo(dataset=args.dataset, seed=args.seed)


def add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="train and evaluate one network on a built-in data set")
    p.add_argument("--dataset", default="digits", help="built-in data set (default: digits)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.set_defaults(handler=_demo)


def _db(args: argparse.Namespace) -> int:
    from nas.store import StoreUnavailable, current_revision, head_revision, make_engine, upgrade
    from nas.store.engine import safe_url

    try:
        engine = make_engine(args.url)
        if args.action == "upgrade":
            upgrade(engine)
        revision = current_revision(engine)
    except StoreUnavailable as exc:
        print(f"nas: error: {exc}", file=sys.stderr)
        return 2
    state = "up to date" if revision == head_revision() else f"head is {head_revision()}"
    print(f"{safe_url(engine.url)}: revision {revision or 'none (empty)'}, {state}")
    return 0


def add_db(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="migrate or inspect the SQL store (NAS_DATABASE_URL)")
    p.add_argument("action", choices=["upgrade", "current"], help="upgrade to head, or show")
    p.add_argument("--url", help="database URL (default: $NAS_DATABASE_URL or sqlite:///nas.db)")
    p.set_defaults(handler=_db)


def _run(args: argparse.Namespace) -> int:
    started = getattr(args, "started", None)
    from pydantic import ValidationError

    from nas.nn.backend import BackendUnavailable, check_backend
    from nas.spec import load_spec

    overrides = {
        k: v
        for k, v in (
            ("searcher", args.searcher),
            ("budget.trials", args.trials),
            ("seed", args.seed),
            ("executor", args.executor),
            ("parallelism", args.workers),
            ("backend", args.backend),
        )
        if v is not None
    }
    try:
        spec = load_spec(args.spec, overrides)
    except (OSError, ValueError) as exc:
        print(f"nas: error: invalid spec {args.spec}:", file=sys.stderr)
        if isinstance(exc, ValidationError):
            for err in exc.errors():
                where = ".".join(str(x) for x in err["loc"]) or "spec"
                print(f"  {where}: {err['msg']}", file=sys.stderr)
        else:
            print(f"  {exc}", file=sys.stderr)
        return 2
    try:
        check_backend(spec.backend)  # before the job exists: nothing half-done is left
    except BackendUnavailable as exc:
        print(f"nas: error: {exc}", file=sys.stderr)
        return 2
    from nas_cli.cluster import early_ray

    try:
        with early_ray(spec, args.ray_address) as pool:  # Ray boots while the trainer loads
            from nas.data import DataError
            from nas.store import StoreUnavailable, WarmStartError
            from nas_cli.batch import run_batch

            try:
                return run_batch(
                    spec,
                    url=args.db,
                    out=args.out,
                    ray_address=args.ray_address,
                    started=started,
                    pool=pool,
                )
            except (StoreUnavailable, WarmStartError, DataError) as exc:
                return _run_error(args, exc)
    except ConnectionError as exc:  # Ray unreachable at the address given
        print(f"nas: error: cannot reach Ray: {exc}", file=sys.stderr)
        return 2


def _run_error(args: argparse.Namespace, exc: Exception) -> int:
    """Exit 2 with one line for a run that could not start (nothing half-done is left)."""
    from nas.data import DataError
    from nas.store import WarmStartError

    if isinstance(exc, WarmStartError):
        print(f"nas: error: invalid spec {args.spec}:\n  warm_start.job_id: {exc}", file=sys.stderr)
    elif isinstance(exc, DataError):
        print(f"nas: error: dataset: {exc}", file=sys.stderr)
    else:
        print(f"nas: error: {exc}", file=sys.stderr)
    return 2


def add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run a search from a spec file (YAML or JSON) and print its leaderboard",
        description="Run a search batch-style: create a job in the store, train candidates "
        "until the budget is spent, print the leaderboard (and the Pareto front for two "
        "objectives). Exit code 0 on success, 2 on a bad spec or unreachable database.",
    )
    p.add_argument("spec", help="job spec file (.yaml, .yml or .json); see examples/")
    p.add_argument("--searcher", help="override the spec's searcher (tpe, random, evolution, ...)")
    p.add_argument("--trials", type=int, help="override budget.trials")
    p.add_argument("--seed", type=int, help="override the job's seed")
    p.add_argument("--db", help="database URL (default: $NAS_DATABASE_URL or sqlite:///nas.db)")
    p.add_argument("--out", help="also write the job, its trials and curves as JSON here")
    p.add_argument(
        "--executor", choices=["local", "ray"], help="override the spec's executor (local, ray)"
    )
    p.add_argument("--workers", type=int, help="trials trained at once on Ray (parallelism)")
    p.add_argument(
        "--backend",
        choices=["numpy", "cupy"],
        help="override the spec's backend: numpy (CPU) or cupy (GPU) for population training",
    )
    p.add_argument(
        "--ray-address",
        help="Ray cluster to join, HOST:PORT (default: $NAS_RAY_ADDRESS, else a local Ray)",
    )
    p.set_defaults(handler=_run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _settings(args: argparse.Namespace, **extra: object) -> Settings:
    from api.config import Settings

    given = {
        "database_url": args.db,
        "executor": args.executor,
        "ray_address": args.ray_address,
    } | extra
    return Settings(**{k: v for k, v in given.items() if v is not None})


def _is_loopback(host: str) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve beyond this machine
        return False


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.job_runner import ExecutorUnavailable, executor_factory
    from api.main import create_app
    from nas.store import StoreUnavailable, open_store

    settings = _settings(args, runner=not args.no_runner)
    if not settings.token and not args.insecure and not _is_loopback(args.host):
        print(
            f"nas: error: --host {args.host} exposes the API beyond this machine, and "
            "NAS_API_TOKEN is not set: anyone who reaches the port could submit jobs and "
            "read results. Set NAS_API_TOKEN, bind 127.0.0.1, or pass --insecure.",
            file=sys.stderr,
        )
        return 2
    try:
        if settings.runner:
            executor_factory(settings)  # refuses an executor that cannot run here
        store = open_store(settings.database_url)  # here, so a bad URL fails in one line
    except (StoreUnavailable, ExecutorUnavailable) as exc:
        print(f"nas: error: {exc}", file=sys.stderr)
        return 2
    runner = "no runner" if args.no_runner else f"a runner on the {settings.executor} executor"
    processes = f"{args.workers} API processes" if args.workers > 1 else "one process"
    print(
        f"nas serve: API on http://{args.host}:{args.port}/api/v1 "
        f"(docs: http://{args.host}:{args.port}/docs), {runner}, {processes}",
        file=sys.stderr,
        flush=True,
    )
    try:
        if args.workers == 1:
            app = create_app(settings, store=store)
            uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
        else:
            _serve_processes(args, settings, store)
    finally:
        store.close()
    return 0


def _serve_processes(args: argparse.Namespace, settings: Settings, store: Store) -> None:
    """Several uvicorn worker processes (API only) and the runner here, in the supervisor.

    Reads scale with processes, not threads: one Python process serialises its requests on
    the GIL. The workers read their settings from NAS_* variables, set here from ours.
    """
    import os

    import uvicorn

    from api.job_runner import make_runner, start_in_thread

    env = {"NAS_DATABASE_URL": settings.database_url, "NAS_EXECUTOR": settings.executor}
    if settings.ray_address:
        env["NAS_RAY_ADDRESS"] = settings.ray_address
    os.environ.update(env | {"NAS_RUNNER": "false"})
    runner = make_runner(settings, store, role="serve") if settings.runner else None
    thread = start_in_thread(runner) if runner else None
    try:
        uvicorn.run(
            "api.main:app_from_env",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
        )
    finally:
        if runner and thread:
            runner.stop()
            thread.join(timeout=30)


def _runner(args: argparse.Namespace) -> int:
    import logging
    import signal

    from api.job_runner import ExecutorUnavailable, executor_factory, make_runner
    from nas.store import StoreUnavailable, open_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = _settings(args)
    try:
        executor_factory(settings)  # refuses an executor that cannot run here
        store = open_store(settings.database_url)
        runner = make_runner(settings, store)
    except (StoreUnavailable, ExecutorUnavailable) as exc:
        print(f"nas: error: {exc}", file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: runner.stop())
    print(f"nas runner: {runner.name}, {settings.executor} executor", file=sys.stderr, flush=True)
    runner.run_forever()
    store.close()
    return 0


def _service_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="database URL (default: $NAS_DATABASE_URL or sqlite:///nas.db)")
    p.add_argument(
        "--executor",
        choices=["local", "ray"],
        help="where trials train (default: $NAS_EXECUTOR or ray)",
    )
    p.add_argument(
        "--ray-address", help="Ray cluster HOST:PORT (default: $NAS_RAY_ADDRESS, else a local Ray)"
    )


def add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="start the REST API (and a job runner) on 127.0.0.1:8000",
        description="Start the REST API under /api/v1 (OpenAPI at /docs) with a job runner "
        "in the same process. Settings come from NAS_* variables (docs/service.md); the options "
        "here override them.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    _service_options(p)
    p.add_argument("--no-runner", action="store_true", help="API only; runners run elsewhere")
    p.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="API processes (default 1); reads scale with them, the runner stays one",
    )
    p.add_argument("--log-level", default="info", help="uvicorn log level (default: info)")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-loopback --host without NAS_API_TOKEN (anyone reaching it may "
        "submit jobs and read results)",
    )
    p.set_defaults(handler=_serve)


def add_runner(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "runner",
        help="run queued jobs from the store (scale out: one per machine)",
        description="Claim queued jobs from the store and run them until stopped (SIGTERM "
        "hands the running job back to the queue). Several runners can share one database.",
    )
    _service_options(p)
    p.set_defaults(handler=_runner)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nas", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_demo(sub)
    add_db(sub)
    add_run(sub)
    add_serve(sub)
    add_runner(sub)
    return parser


def _thread_policy() -> bool:
    """One thread count for every BLAS, OpenMP and trainer pool of this process (NAS_THREADS,
    default 1: nas/nn/threads.py says why), chosen before any command trains."""
    from nas.nn.threads import apply_thread_policy

    try:
        apply_thread_policy()
    except ValueError as exc:
        print(f"nas: error: {exc}", file=sys.stderr)
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()  # a run's start-up is counted from here (nas/search/timing.py)
    args = build_parser().parse_args(argv)
    args.started = started
    if not _thread_policy():
        return 2
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
