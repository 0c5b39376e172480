"""Trainer speed: ms per epoch for nas.nn, scikit-learn, PyTorch (CPU) and a GEMM floor.

One run, same data (digits tiled 10x: 17,970 rows, 64 features, 10 classes), same
architecture, batch 128, Adam, float32, BLAS capped at 2 threads. The GEMM floor runs only
the matrix products of forward and backward propagation, so no trainer can go below it.
The adam column times our Adam's steps alone (one per batch, every parameter): floor + adam
is what any trainer that updates in separate NumPy passes cannot go below.

    python benchmarks/trainer.py [--shapes 64 256,256 1024,1024,1024] [--epochs 3] [--rounds 3]
    python benchmarks/trainer.py --threads 1 --clock cpu   # on a machine others load

--clock cpu times by this process's CPU seconds instead of the wall clock: on a shared
machine the wall clock also counts the time other processes hold the cores. It is fair
only with --threads 1 (idle BLAS threads spin, and their spinning counts as CPU time).

--rounds R times every trainer R times per shape, the five taken in turn (ours, sklearn,
torch, floor, adam, then again), and reports each one's median: a host whose speed drifts
over a minute then slows all five alike instead of whichever ran during the slow spell.

After the pinned table comes the same data as a user meets it: a fresh process with no
thread variables, each estimator at its default parameters (alpha 1e-4, batch 200 for
scikit-learn and ours, float32 for ours), only the shape and the epoch count set. Ours is
timed at the libraries' own thread counts (a script that calls fit, as long as fit does
not choose) and under the process's thread policy (what `nas` gives, nas/nn/threads.py).
--no-defaults skips it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_info, threadpool_limits

from nas.nn.optimizers import set_num_threads

BATCH = 128
THREADS = 2
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def digits_x10() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    X = np.tile(X, (10, 1)).astype(np.float32)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
    return np.ascontiguousarray(X, dtype=np.float32), np.tile(y, 10)


def time_ours(X, y, hidden, epochs):
    from nas.nn import MLPClassifier

    stamps = [clock()]  # one at the start and one at the end of every epoch
    clf = MLPClassifier(
        hidden,
        batch_size=BATCH,
        max_iter=epochs + 1,
        scaling=None,
        alpha=0.0,
        n_iter_no_change=10**6,
        random_state=0,
        dtype="float32",
    )
    clf.fit(X, y, callback=lambda log: stamps.append(clock()))
    seconds = [b - a for a, b in zip(stamps, stamps[1:])]
    return statistics.median(seconds[1:])  # the first epoch builds buffers


def time_sklearn(X, y, hidden, epochs):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden,
        batch_size=BATCH,
        max_iter=epochs,
        alpha=0.0,
        tol=0.0,
        n_iter_no_change=10**6,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = clock()
        clf.fit(X, y)
    return (clock() - start) / epochs


def time_torch(X, y, hidden, epochs):
    import torch

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    sizes = [X.shape[1], *hidden]
    layers: list[torch.nn.Module] = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(i, o), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    seconds = []
    for _ in range(epochs + 1):
        start = clock()
        perm = torch.randperm(len(Xt))
        Xs, ys = Xt[perm], yt[perm]
        for i in range(0, len(Xs), BATCH):
            opt.zero_grad(set_to_none=True)
            loss_fn(model(Xs[i : i + BATCH]), ys[i : i + BATCH]).backward()
            opt.step()
        seconds.append(clock() - start)
    return statistics.median(seconds[1:])


def time_gemm_floor(X, y, hidden, epochs):
    sizes = [X.shape[1], *hidden, 10]
    rng = np.random.default_rng(0)
    W = [
        rng.standard_normal((i, o)).astype(np.float32) * 0.01 for i, o in zip(sizes[:-1], sizes[1:])
    ]
    acts = [np.empty((BATCH, s), np.float32) for s in sizes]
    grads = [np.empty_like(w) for w in W]
    seconds = []
    for _ in range(epochs + 1):
        start = clock()
        for i in range(0, len(X) - BATCH + 1, BATCH):
            acts[0][...] = X[i : i + BATCH]
            for k, w in enumerate(W):
                np.matmul(acts[k], w, out=acts[k + 1])
            for k in range(len(W) - 1, -1, -1):
                np.matmul(acts[k].T, acts[k + 1], out=grads[k])
                if k:
                    np.matmul(acts[k + 1], W[k].T, out=acts[k])
        seconds.append((clock() - start) * len(X) / (len(X) // BATCH * BATCH))
    return statistics.median(seconds[1:])


def time_adam(X, y, hidden, epochs):
    """Our Adam's steps alone, one per batch, on a parameter vector of the network's size:
    element-wise passes over every parameter that the GEMM floor does not count."""
    from nas.nn.optimizers import Adam

    sizes = [X.shape[1], *hidden, 10]
    n = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))
    rng = np.random.default_rng(0)
    params = rng.standard_normal(n).astype(np.float32)
    grads = rng.standard_normal(n).astype(np.float32) * 1e-3
    adam = Adam(n, np.dtype(np.float32), 1e-3)
    seconds = []
    for _ in range(epochs + 1):
        start = clock()
        for _ in range(0, len(X) - BATCH + 1, BATCH):
            adam.step(params, grads)
        seconds.append((clock() - start) * len(X) / (len(X) // BATCH * BATCH))
    return statistics.median(seconds[1:])


def time_default_ours(X, y, hidden, epochs):
    """Our MLPClassifier at its defaults; the epochs are timed as in time_ours."""
    from nas.nn import MLPClassifier

    stamps = [clock()]
    clf = MLPClassifier(hidden, max_iter=epochs + 1, n_iter_no_change=10**6, random_state=0)
    clf.fit(X, y, callback=lambda log: stamps.append(clock()))
    seconds = [b - a for a, b in zip(stamps, stamps[1:])]
    return statistics.median(seconds[1:])


def time_default_sklearn(X, y, hidden, epochs):
    """scikit-learn's MLPClassifier at its defaults (alpha 1e-4, batch 200)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden, max_iter=epochs, tol=0.0, n_iter_no_change=10**6, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = clock()
        clf.fit(X, y)
    return (clock() - start) / epochs


def user_defaults(shapes: list[str], epochs: int, rounds: int) -> None:
    """The table a user's settings give (run in a fresh process, see the docstring)."""
    from nas.nn import optimizers
    from nas.nn.threads import apply_thread_policy

    X, y = digits_x10()
    pools = sorted({(i["internal_api"], i["num_threads"]) for i in threadpool_info()})
    print(f"\nat the defaults a user gets: no thread variables, pools {pools}, wall clock")
    print(f"{'hidden':>16} {'ours':>9} {'sklearn':>9} {'ours, policy':>12}   {'ours/sklearn':>12}")
    for shape in shapes:
        hidden = tuple(int(s) for s in shape.split(","))
        n = max(1, epochs if max(hidden) < 1024 else epochs // 2)
        ours, peer = [], []
        for _ in range(rounds):
            ours.append(1000 * time_default_ours(X, y, hidden, n))
            peer.append(1000 * time_default_sklearn(X, y, hidden, n))
        ms = statistics.median(ours), statistics.median(peer)
        with threadpool_limits(limits=None):  # the policy, then back to the libraries' own
            trainer_threads = optimizers._threads
            apply_thread_policy()
            policy = statistics.median(
                1000 * time_default_ours(X, y, hidden, n) for _ in range(rounds)
            )
            set_num_threads(trainer_threads)
        row = f"{ms[0]:9.1f} {ms[1]:9.1f} {policy:12.1f}   {ms[0] / ms[1]:12.2f}"
        print(f"{str(list(hidden)):>16} {row}")


def run_user_defaults(args: argparse.Namespace) -> None:
    """user_defaults() in a child process whose environment has no thread variables."""
    thread_vars = ("NUM_THREADS", "MAXIMUM_THREADS", "NAS_THREADS")
    env = {k: v for k, v in os.environ.items() if not k.endswith(thread_vars)}
    command = [sys.executable, __file__, "--only-defaults", "--shapes", *args.shapes]
    command += ["--epochs", str(args.epochs), "--rounds", str(args.rounds)]
    subprocess.run(command, env=env, check=True)


TRAINERS = {
    "ours": time_ours,
    "sklearn": time_sklearn,
    "torch": time_torch,
    "floor": time_gemm_floor,
    "adam": time_adam,
}


def main() -> None:
    global THREADS, clock
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=["64", "256,256", "1024,1024,1024"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall", help="(see above)")
    parser.add_argument("--rounds", type=int, default=3, help="timings per trainer (median)")
    parser.add_argument("--no-defaults", action="store_true", help="skip the user-defaults run")
    parser.add_argument("--only-defaults", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1; got {args.rounds}")
    if args.only_defaults:
        user_defaults(args.shapes, args.epochs, args.rounds)
        return
    clock = CLOCKS[args.clock]
    X, y = digits_x10()
    THREADS = args.threads
    set_num_threads(THREADS)  # our element-wise updates get the same thread count as BLAS
    with threadpool_limits(THREADS):
        blas = [
            (i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()
        ]
        print(
            f"data {X.shape}, batch {BATCH}, Adam, float32, BLAS {blas}, {args.clock} clock, "
            f"median of {args.rounds} round(s)"
        )
        print(
            f"{'hidden':>16} {'ours':>9} {'sklearn':>9} {'torch':>9} {'floor':>9} {'adam':>9}   "
            f"{'ours/min(sk,torch)':>18} {'ours/floor':>10} {'ours/(floor+adam)':>17}"
        )
        for shape in args.shapes:
            hidden = tuple(int(s) for s in shape.split(","))
            epochs = max(1, args.epochs if max(hidden) < 1024 else args.epochs // 2)
            samples: dict[str, list[float]] = {name: [] for name in TRAINERS}
            for _ in range(args.rounds):  # in turn, so that a slow spell hits all alike
                for name, fn in TRAINERS.items():
                    try:
                        samples[name].append(1000 * fn(X, y, hidden, epochs))
                    except ImportError:
                        samples[name].append(float("nan"))
            ms = {name: statistics.median(x) for name, x in samples.items()}
            best_peer = (
                min(ms["sklearn"], ms["torch"]) if not np.isnan(ms["torch"]) else ms["sklearn"]
            )
            names = ("ours", "sklearn", "torch", "floor", "adam")
            times = " ".join(f"{ms[k]:9.1f}" for k in names)
            ratios = (
                f"{ms['ours'] / best_peer:18.2f} {ms['ours'] / ms['floor']:10.2f} "
                f"{ms['ours'] / (ms['floor'] + ms['adam']):17.2f}"
            )
            print(f"{str(list(hidden)):>16} {times}   {ratios}")
    if not args.no_defaults:
        run_user_defaults(args)


if __name__ == "__main__":
    main()
