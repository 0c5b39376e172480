"""Population training throughput: K networks trained together vs one after another.

One run, side by side, on one CPU core (BLAS capped to --threads, default 1):

- alone: the single-network trainer (nas.nn.MLPClassifier.fit) trains --alone networks
  one after another; its time per network-epoch is the baseline.
- together: fit_population trains K networks of the same shape (different seeds) in
  lockstep on --backend (numpy: this CPU core; cupy: a CUDA GPU); time per network-epoch.

It prints both and their ratio (the per-network throughput gain) twice: end to end (fit
called for --epochs epochs, building every estimator included) and in steady state (the
extra time of fitting 2 x --epochs instead of --epochs, per extra network-epoch: what a
search that trains each candidate longer gets). And how far the first networks trained
together are from the same networks trained alone (float32 rounding).

Each repeat times both ways back to back (which goes first alternates), and the ratios
are those repeats' paired ratios: their median, and their range. A host whose speed
drifts between repeats (a virtual machine's neighbours) then moves both sides of a ratio
alike, instead of whichever side it happened to time.
Same data (digits, standardized; --tile repeats it), Adam, batch 128, float32.

    python benchmarks/population.py                  # CPU target: K=32 [64], >= 2x
    python benchmarks/population.py --backend cupy   # GPU target: K=1024 [64,64], >= 50x
    python benchmarks/population.py --clock cpu      # this process's CPU seconds (CPU only)

--clock cpu measures CPU seconds instead of the wall clock, which on a shared machine also
counts the time other processes hold the core; it is fair with one thread (the default).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits

from nas.nn import MLPClassifier
from nas.nn.optimizers import set_num_threads
from nas.nn.population import fit_population

BATCH = 128
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]
DEFAULTS = {"numpy": (32, "64"), "cupy": (1024, "64,64")}


def digits(tile: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    X = np.tile(X, (tile, 1))
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
    return np.ascontiguousarray(X, dtype=np.float32), np.tile(y, tile)


def network(hidden: tuple[int, ...], seed: int, epochs: int) -> MLPClassifier:
    return MLPClassifier(
        hidden,
        batch_size=BATCH,
        max_iter=epochs,
        n_iter_no_change=10**9,
        scaling=None,
        random_state=seed,
        dtype="float32",
    )


def time_alone(X, y, hidden, n, epochs) -> tuple[float, list[MLPClassifier]]:
    """Seconds to fit n networks one after another."""
    nets = [network(hidden, seed, epochs) for seed in range(n)]
    started = clock()
    for net in nets:
        net.fit(X, y)
    return clock() - started, nets


def time_together(X, y, hidden, k, epochs, backend) -> tuple[float, list[MLPClassifier]]:
    """Seconds to fit k networks as one population (until the GPU has finished)."""
    nets = [network(hidden, seed, epochs) for seed in range(k)]
    started = clock()
    fit_population(nets, X, y, backend=backend)
    return clock() - started, nets


def main() -> None:
    global clock
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=list(DEFAULTS), default="numpy")
    parser.add_argument("--members", type=int, help="K (default: 32 numpy, 1024 cupy)")
    parser.add_argument("--hidden", help="widths, e.g. 64,64 (default: 64 numpy, 64,64 cupy)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--alone", type=int, default=8, help="networks trained alone (8)")
    parser.add_argument("--repeats", type=int, default=3, help="median of this many (3)")
    parser.add_argument("--tile", type=int, default=1, help="digits repeated this often (1)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall", help="(see above)")
    args = parser.parse_args()
    if args.clock == "cpu" and args.backend != "numpy":
        parser.error("--clock cpu measures CPU seconds: use it with --backend numpy")
    clock = CLOCKS[args.clock]
    k_default, hidden_default = DEFAULTS[args.backend]
    k = args.members or k_default
    hidden = tuple(int(h) for h in (args.hidden or hidden_default).split(","))
    X, y = digits(args.tile)
    set_num_threads(args.threads)
    print(
        f"digits x{args.tile} {X.shape}, {list(hidden)} networks, batch {BATCH}, Adam, "
        f"float32, {args.threads} CPU thread(s), {args.clock} clock, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    E, n = args.epochs, args.alone
    with threadpool_limits(args.threads):
        time_together(X, y, hidden, min(k, 4), 1, args.backend)  # warm-up (GPU kernels)
        runs: dict[str, list[tuple[float, float]]] = {"alone": [], "together": []}
        for repeat in range(args.repeats):
            for way in ("alone", "together")[:: 1 if repeat % 2 == 0 else -1]:
                if way == "alone":
                    a1, lone = time_alone(X, y, hidden, n, E)
                    a2, _ = time_alone(X, y, hidden, n, 2 * E)
                    runs["alone"].append((a1 / (n * E), (a2 - a1) / (n * E)))
                else:
                    t1, pop = time_together(X, y, hidden, k, E, args.backend)
                    t2, _ = time_together(X, y, hidden, k, 2 * E, args.backend)
                    runs["together"].append((t1 / (k * E), (t2 - t1) / (k * E)))
    alone = [statistics.median(x) for x in zip(*runs["alone"])]
    together = [statistics.median(x) for x in zip(*runs["together"])]
    paired = [[a[i] / t[i] for a, t in zip(runs["alone"], runs["together"])] for i in range(2)]
    drift = max(float(np.abs(p.coefs_[0] - q.coefs_[0]).max()) for p, q in zip(lone, pop[:n]))
    print(
        f"ms per network-epoch    end to end ({E} epochs)   steady state (epochs {E + 1}-{2 * E})"
    )
    print(f"alone (CPU, one by one) {alone[0] * 1e3:10.4f}{alone[1] * 1e3:30.4f}")
    print(
        f"together (K={k}, {args.backend}){' ' * max(0, 6 - len(str(k)) - len(args.backend) + 5)}"
        f"{together[0] * 1e3:10.4f}{together[1] * 1e3:30.4f}"
    )
    e2e, steady = (statistics.median(r) for r in paired)
    print(
        f"per-network throughput ratio, median of {args.repeats} paired repeats: "
        f"{e2e:.2f}x end to end ({min(paired[0]):.2f}-{max(paired[0]):.2f}), "
        f"{steady:.2f}x in steady state ({min(paired[1]):.2f}-{max(paired[1]):.2f})"
    )
    print(f"max |weight difference| of the first {n} networks alone vs together: {drift:.1e}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
