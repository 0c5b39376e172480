"""The process's thread policy: how many threads BLAS, OpenMP and the trainer's own
element-wise updates use, chosen once, at an entry point (`nas`, a Ray actor, fit).

Why one thread unless told otherwise. A search trains many small networks, one rung at a
time, and its parallelism is processes (Ray workers, one per CPU). A BLAS thread pool as
wide as the machine costs more than it gives on these sizes: its threads spin while they
wait for work, and on a machine that others share they spin against other processes too.
Measured on the 2-core machine of issue 19 (digits x 10, batch 128, alpha 1e-4): [256, 256]
1,229-1,796 ms an epoch at the defaults, 251-288 ms at one thread; [300, 100, 200] batch 64
5,700-24,000 ms against 300-430 ms (docs/benchmarks.md has the table and the command).

NAS_THREADS sets the count for every pool (default 1). threadpoolctl caps the libraries
loaded now, including SciPy's bundled OpenBLAS beside NumPy's; the *_NUM_THREADS variables
cover those loaded later and child processes.
"""

from __future__ import annotations

import os

from threadpoolctl import threadpool_limits

from nas.nn.optimizers import set_num_threads

ENV_VAR = "NAS_THREADS"
DEFAULT_THREADS = 1
MAX_THREADS = 1024
# read by OpenBLAS, OpenMP (scikit-learn's libgomp), MKL, BLIS, Accelerate and numexpr
# when they load: the same count for a library the process has not loaded yet
LIBRARY_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

_applied: int | None = None


def threads_from_env() -> int:
    """NAS_THREADS as an int in [1, 1024]; DEFAULT_THREADS when it is unset or empty."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_THREADS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_THREADS:
        raise ValueError(f"{ENV_VAR} must be an integer in [1, {MAX_THREADS}]; got {raw!r}")
    return value


def apply_thread_policy(threads: int | None = None) -> int:
    """Give every thread pool of this process `threads` threads (default: NAS_THREADS,
    else 1) and return the count. Called at entry points; a later call replaces it."""
    global _applied
    count = threads_from_env() if threads is None else threads
    if not 1 <= count <= MAX_THREADS:
        raise ValueError(f"threads must be an integer in [1, {MAX_THREADS}]; got {count!r}")
    for name in LIBRARY_VARS:
        os.environ[name] = str(count)
    threadpool_limits(limits=count)  # every BLAS and OpenMP library loaded so far
    set_num_threads(count)  # the trainer's element-wise update threads
    _applied = count
    return count


def ensure_thread_policy() -> int:
    """apply_thread_policy() the first time a process asks; the count in force after.

    For code that may run without an entry point having chosen (an estimator's fit in a
    user's own script); an entry point's choice is left as it is.
    """
    return _applied if _applied is not None else apply_thread_policy()


def applied_threads() -> int | None:
    """The count this process chose, or None when no policy was applied yet."""
    return _applied
