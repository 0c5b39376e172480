"""The array-module switch: NumPy by default, CuPy (a CUDA GPU) when asked for.

The population trainer writes its maths once against `xp`, the module this returns, so the
GPU runs the very code the CPU runs. Asking for CuPy where it cannot run is refused here,
with what to do instead, before any training starts.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

BACKENDS = ("numpy", "cupy")


class BackendUnavailable(RuntimeError):  # noqa: N818 (as StoreUnavailable)
    """The requested array backend cannot run on this machine."""


def array_module(name: str) -> ModuleType:
    """numpy, or cupy when it is installed and sees a GPU; anything else is refused."""
    if name == "numpy":
        return np
    if name != "cupy":
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {name!r}")
    try:
        import cupy
    except ImportError:
        raise BackendUnavailable(
            "backend 'cupy' needs CuPy, which is not installed here "
            "(pip install cupy-cuda12x on a machine with a CUDA GPU), or use backend 'numpy'"
        ) from None
    try:
        gpus = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # no driver, no device: CuPy raises its own runtime errors
        raise BackendUnavailable(
            f"backend 'cupy': CuPy is installed but finds no usable GPU ({exc}); "
            "use backend 'numpy'"
        ) from None
    if gpus == 0:
        raise BackendUnavailable("backend 'cupy': CuPy finds no GPU; use backend 'numpy'")
    return cupy


def check_backend(name: str) -> None:
    """Refuse a backend that cannot run here (the CLI and executors call this up front)."""
    array_module(name)


def available(name: str) -> bool:
    """Whether `name` can run here (tests skip the CuPy path where it cannot)."""
    try:
        array_module(name)
    except BackendUnavailable:
        return False
    return True


def to_host(a: Any) -> np.ndarray:
    """A NumPy array of `a`, copied off the GPU when it lives there."""
    if isinstance(a, np.ndarray):
        return a
    return a.get() if hasattr(a, "get") else np.asarray(a)


def module_of(a: Any) -> ModuleType:
    """The array module an array belongs to: numpy, or cupy for a GPU array."""
    if isinstance(a, np.ndarray):
        return np
    import cupy

    return cupy


def gpu_expit(z: Any, out: Any) -> None:
    """The logistic function on a CuPy array (SciPy's expit is a CPU ufunc)."""
    from cupyx.scipy.special import expit

    expit(z, out=out)
