"""The NumPy feed-forward network trainer (the lecture's maths, made fast).

Public API: MLPClassifier, MLPRegressor and Perceptron (scikit-learn estimators),
EpochLog (what the per-epoch callback receives), save and load (npz + JSON, no pickle).
"""

from nas.nn.estimators import MLPClassifier, MLPRegressor
from nas.nn.fitstate import DivergenceWarning, EpochLog
from nas.nn.perceptron import Perceptron
from nas.nn.serialize import from_bytes, load, save, to_bytes

__all__ = [
    "DivergenceWarning",
    "EpochLog",
    "MLPClassifier",
    "MLPRegressor",
    "Perceptron",
    "from_bytes",
    "load",
    "save",
    "to_bytes",
]
