"""The thread policy: a process that sets nothing gets one thread in every pool (NumPy's
and SciPy's OpenBLAS, scikit-learn's OpenMP, the trainer's own), libraries loaded later
included; NAS_THREADS changes the count; a bad one is refused naming the variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from nas.nn import threads

# in a fresh process, so the libraries' own defaults (as wide as the machine) are the start
PROBE = """
import json, sys
from nas.nn.threads import apply_thread_policy
count = apply_thread_policy()
import numpy, scipy.linalg, sklearn.cluster  # SciPy's OpenBLAS and libgomp load after it
from threadpoolctl import threadpool_info
from nas.nn import optimizers
pools = {i["filepath"]: i["num_threads"] for i in threadpool_info()}
print(json.dumps({"count": count, "pools": pools, "trainer": optimizers._threads}))
"""


def _probe(env_threads: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in threads.LIBRARY_VARS}
    env.pop(threads.ENV_VAR, None)
    if env_threads is not None:
        env[threads.ENV_VAR] = env_threads
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_a_process_that_sets_nothing_gets_one_thread_in_every_pool():
    seen = _probe(None)
    assert seen["count"] == 1 and seen["trainer"] == 1
    assert len(seen["pools"]) >= 2  # NumPy's OpenBLAS and SciPy's (or MKL) at least
    assert set(seen["pools"].values()) == {1}, seen["pools"]


def test_nas_threads_sets_the_count_of_every_pool():
    seen = _probe("2")
    assert seen["count"] == 2 and seen["trainer"] == 2
    assert set(seen["pools"].values()) == {2}, seen["pools"]


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5", "100000"])
def test_a_bad_nas_threads_is_refused_naming_the_variable_and_range(monkeypatch, bad):
    monkeypatch.setenv(threads.ENV_VAR, bad)
    with pytest.raises(ValueError, match=r"NAS_THREADS must be an integer in \[1, 1024\]"):
        threads.threads_from_env()


def test_an_unset_or_empty_nas_threads_is_the_default(monkeypatch):
    monkeypatch.delenv(threads.ENV_VAR, raising=False)
    assert threads.threads_from_env() == threads.DEFAULT_THREADS == 1
    monkeypatch.setenv(threads.ENV_VAR, " ")
    assert threads.threads_from_env() == 1


def test_importing_the_trainer_package_does_not_import_scikit_learn():
    code = "import sys, nas.nn, nas.nn.threads; print('sklearn' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    code = "from nas.nn import MLPClassifier, EpochLog, to_bytes; print(MLPClassifier.__name__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "MLPClassifier"
