"""The built-in data sets (scikit-learn's bundled copies, no download) and two-feature
synthetic problems drawn from the job's seed."""

from __future__ import annotations

import numpy as np

from nas.data.dataset import Dataset

BUILTINS = {
    "digits": "classification",
    "iris": "classification",
    "wine": "classification",
    "breast_cancer": "classification",
    "diabetes": "regression",
}
# Two-feature toy problems that need hidden layers; drawn from the job's seed.
SYNTHETIC = ("xor", "moons", "circles", "spirals")
SYNTHETIC_ROWS = 1000


def load_builtin(name: str, seed: int = 0) -> Dataset:
    """One of BUILTINS (scikit-learn's bundled copies) or SYNTHETIC (drawn from seed)."""
    if name in SYNTHETIC:
        return synthetic(name, seed)
    if name not in BUILTINS:
        allowed = sorted(BUILTINS) + list(SYNTHETIC)
        raise ValueError(f"dataset must be one of {allowed}; got {name!r}")
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    names = tuple(str(f) for f in getattr(bunch, "feature_names", range(bunch.data.shape[1])))
    X, y = np.asarray(bunch.data, np.float64), np.asarray(bunch.target)
    return Dataset.from_arrays(name, X, y, BUILTINS[name], names)


def synthetic(name: str, seed: int, n: int = SYNTHETIC_ROWS, noise: float = 0.1) -> Dataset:
    from sklearn.datasets import make_circles, make_moons

    rng = np.random.default_rng(seed)
    if name == "moons":
        X, y = make_moons(n, noise=noise * 2, random_state=seed)
    elif name == "circles":
        X, y = make_circles(n, noise=noise, factor=0.5, random_state=seed)
    elif name == "xor":
        X = rng.uniform(-1, 1, (n, 2))
        y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
        X += rng.normal(0, noise / 2, X.shape)
    elif name == "spirals":  # two interleaved arms, the classic hard case
        t = np.sqrt(rng.uniform(0, 1, n)) * 3 * np.pi
        y = rng.integers(0, 2, n)
        sign = np.where(y == 1, 1.0, -1.0)
        X = np.column_stack([sign * t * np.cos(t), sign * t * np.sin(t)]) / (3 * np.pi)
        X += rng.normal(0, noise / 4, X.shape)
    else:
        raise ValueError(f"synthetic dataset must be one of {list(SYNTHETIC)}; got {name!r}")
    return Dataset.from_arrays(name, X, np.asarray(y), "classification", ("x0", "x1"))
