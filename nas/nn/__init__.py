"""The NumPy feed-forward network trainer (the lecture's maths, made fast).

Public API: MLPClassifier, MLPRegressor and Perceptron (scikit-learn estimators),
EpochLog (what the per-epoch callback receives), save and load (npz + JSON, no pickle),
TabularModel and Preprocessing (a model trained on a table: raw rows in, predictions out),
Ensemble (a weighted average of networks; load reads it as it reads a network).
"""

from nas.nn.ensemble import Ensemble, is_ensemble
from nas.nn.estimators import DivergenceWarning, MLPClassifier, MLPRegressor
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
from nas.nn.training import EpochLog

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
