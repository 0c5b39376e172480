"""Rosenblatt's perceptron: threshold units trained by the perceptron learning rule.

For each example, a unit outputs h = step(w . x + b) and, when wrong, moves its weights
by w <- w + eta (y - h) x. On linearly separable data this finds a separating plane in
finitely many updates; on anything else (XOR) it never settles, which is why hidden
layers and backpropagation exist. Multi-class problems use one unit per class
(one-vs-rest), predicting the class whose unit has the largest input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from nas.nn import validation as check


class Perceptron(ClassifierMixin, BaseEstimator):
    def __init__(
        self,
        eta: float = 1.0,
        max_iter: int = 100,
        shuffle: bool = True,
        random_state: int | None = None,
    ) -> None:
        self.eta = eta
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> Perceptron:
        check.check_range("eta", self.eta, 0, np.inf, low_open=True)
        check.check_range("max_iter", self.max_iter, 1, np.inf)
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(f"y has one class only ({self.classes_[0]!r}); need at least two")
        n_units = 1 if self.classes_.size == 2 else self.classes_.size
        idx = np.searchsorted(self.classes_, y)
        T = (idx[:, None] == (np.arange(n_units) if n_units > 1 else np.array([1]))).astype(float)
        W = np.zeros((X.shape[1], n_units))
        b = np.zeros(n_units)
        rng = np.random.default_rng(self.random_state)
        self.converged_ = False
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            self.n_iter_ += 1
            mistakes = 0
            order = rng.permutation(X.shape[0]) if self.shuffle else range(X.shape[0])
            for i in order:
                h = (X[i] @ W + b >= 0).astype(float)
                err = T[i] - h
                if err.any():
                    mistakes += 1
                    W += self.eta * np.outer(X[i], err)
                    b += self.eta * err
            if mistakes == 0:
                self.converged_ = True
                break
        self.coef_, self.intercept_ = W, b
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        X = validate_data(self, X, reset=False, dtype=np.float64)
        scores = X @ self.coef_ + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores >= 0).astype(int)]
        return self.classes_[scores.argmax(axis=1)]
