"""The `nas` command: the one composition root of the project.

Each subcommand registers itself through a small `add_*` function; heavy imports (Ray,
FastAPI, SQLAlchemy) happen inside the command that needs them, so `nas --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


def _demo(args: argparse.Namespace) -> int:
    from nas.demo import run_demo

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
    from pydantic import ValidationError

    from nas.runs import run_batch
    from nas.spec import load_spec
    from nas.store import StoreUnavailable

    overrides = {
        k: v
        for k, v in (
            ("searcher", args.searcher),
            ("budget.trials", args.trials),
            ("seed", args.seed),
            ("executor", args.executor),
            ("parallelism", args.workers),
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
        return run_batch(spec, url=args.db, out=args.out, ray_address=args.ray_address)
    except StoreUnavailable as exc:
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
        "--ray-address",
        help="Ray cluster to join, HOST:PORT (default: $NAS_RAY_ADDRESS, else a local Ray)",
    )
    p.set_defaults(handler=_run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nas", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_demo(sub)
    add_db(sub)
    add_run(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
