"""The NumPy feed-forward network trainer (the lecture's maths, made fast).

Public API: MLPClassifier, MLPRegressor and Perceptron (scikit-learn estimators),
EpochLog (what the per-epoch callback receives), save and load (npz + JSON, no pickle),
TabularModel and Preprocessing (a model trained on a table: raw rows in, predictions out),
Ensemble (a weighted average of networks; load reads it as it reads a network).

The names load on first use (PEP 562), so `import nas.nn` (or one of its light modules,
such as nas.nn.threads) does not import scikit-learn, which the estimators build on: about
2 s of the start-up of a command that never trains.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nas.nn.ensemble import Ensemble, is_ensemble
    from nas.nn.estimators import MLPClassifier, MLPRegressor
    from nas.nn.fitstate import DivergenceWarning, EpochLog
    from nas.nn.perceptron import Perceptron
    from nas.nn.serialize import (
        from_bytes,
        load,
        save,
        to_bytes,
        with_preprocessing,
        without_preprocessing,
    )
    from nas.nn.tabular import InputError, Preprocessing, TabularModel

_HOME = {
    "Ensemble": "nas.nn.ensemble",
    "is_ensemble": "nas.nn.ensemble",
    "DivergenceWarning": "nas.nn.fitstate",
    "MLPClassifier": "nas.nn.estimators",
    "MLPRegressor": "nas.nn.estimators",
    "Perceptron": "nas.nn.perceptron",
    "from_bytes": "nas.nn.serialize",
    "load": "nas.nn.serialize",
    "save": "nas.nn.serialize",
    "to_bytes": "nas.nn.serialize",
    "with_preprocessing": "nas.nn.serialize",
    "without_preprocessing": "nas.nn.serialize",
    "InputError": "nas.nn.tabular",
    "Preprocessing": "nas.nn.tabular",
    "TabularModel": "nas.nn.tabular",
    "EpochLog": "nas.nn.fitstate",
}

__all__ = [
    "DivergenceWarning",
    "Ensemble",
    "EpochLog",
    "InputError",
    "MLPClassifier",
    "MLPRegressor",
    "Perceptron",
    "Preprocessing",
    "TabularModel",
    "from_bytes",
    "is_ensemble",
    "load",
    "save",
    "to_bytes",
    "with_preprocessing",
    "without_preprocessing",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'nas.nn' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
