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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nas", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_demo(sub)
    add_db(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
