"""`nas` applies the process's thread policy (nas/nn/threads.py); main() run inside the
test process must not leave it to the tests that follow."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits

from nas.nn import optimizers, threads


@pytest.fixture(autouse=True)
def _thread_policy_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in threads.LIBRARY_VARS:  # monkeypatch puts each back as it was
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "_applied", threads.applied_threads())
    original = threadpool_limits(limits=None)  # remembers every library's count
    trainer_threads = optimizers._threads
    yield
    original.restore_original_limits()
    optimizers.set_num_threads(trainer_threads)
