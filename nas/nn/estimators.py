"""MLPClassifier and MLPRegressor: the trainer behind scikit-learn's estimator contract.

They fit, predict and score like scikit-learn's own MLPs, clone and pipeline like them,
and expose coefs_ and intercepts_ as lists of (fan_in, fan_out) weights and bias vectors.
Unlike them they offer the lecture's options exactly (squared loss not halved, weight decay
J + alpha * sum w^2, threshold units, RAND(-eps, eps) initialization, min-max scaling to
[-1, 1]) and dropout, batch normalization, a per-epoch callback and float32 training.

learning_rate='cosine' anneals the rate per epoch, warming up over the first tenth, along
half a cosine over schedule_epochs (default: the fit's max_iter; a search passes its
max_epochs, as it trains a candidate rung by rung). scikit-learn's MLPs name their schedule
`learning_rate` too; its 'invscaling' and 'adaptive' are not offered.

clip_inputs=True (the default) holds a minmax- or standard-scaled input within the range
the training rows span, as a tree does (nas.nn.scaling): a network's linear extrapolation
of one value far outside it can cost more than all the other rows' errors together.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils import Tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from nas.nn import validation as check
from nas.nn.activations import ACTIVATIONS
from nas.nn.fitstate import Callback, Data, FitState, StoppingRule
from nas.nn.init import DEFAULT_INIT, INITS
from nas.nn.losses import LOSSES, check_pairing
from nas.nn.network import Network
from nas.nn.optimizers import OPTIMIZERS, SCHEDULES
from nas.nn.scaling import SCALINGS, TARGET_SCALINGS, Scaler
from nas.nn.training import train

# how scikit-learn's validate_data checks X for every estimator here: finite, 2-D, at least
# one row and feature; float32 kept as it is, any other numeric dtype made float64
X_CHECKS: dict[str, Any] = {"accept_sparse": "csr", "dtype": (np.float64, np.float32)}


class _BaseMLP(BaseEstimator):
    _output_activation_for_task: str = "identity"
    _metric: str  # the validation metric a search ranks by (accuracy or r2), higher is better

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        *,
        loss: str = "auto",
        solver: str = "adam",
        learning_rate: str = "constant",
        learning_rate_init: float = 1e-3,
        schedule_epochs: int | None = None,
        momentum: float = 0.9,
        nesterov: bool = False,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size: int | str = "auto",
        alpha: float = 1e-4,
        dropout: float | tuple[float, ...] = 0.0,
        batch_norm: bool = False,
        init: str = "auto",
        init_scale: float = 0.1,
        scaling: str | None = "standard",
        clip_inputs: bool = True,
        label_smoothing: float = 0.0,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        target_loss: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        shuffle: bool = True,
        warm_start: bool = False,
        random_state: int | None = None,
        dtype: str | type = "float32",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.schedule_epochs = schedule_epochs
        self.momentum = momentum
        self.nesterov = nesterov
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.alpha = alpha
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.init = init
        self.init_scale = init_scale
        self.scaling = scaling
        self.clip_inputs = clip_inputs
        self.label_smoothing = label_smoothing
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.target_loss = target_loss
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.warm_start = warm_start
        self.random_state = random_state
        self.dtype = dtype

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR: the first layer's products are sparse ones
        return tags

    # -- parameters ---------------------------------------------------------------------

    def _validate_params(self) -> tuple[int, ...]:
        sizes = check.check_hidden_layer_sizes(self.hidden_layer_sizes)
        check.check_choice("activation", self.activation, sorted(ACTIVATIONS))
        check.check_choice("loss", self.loss, ("auto", *LOSSES))
        check.check_choice("solver", self.solver, sorted(OPTIMIZERS))
        check.check_choice("init", self.init, INITS)
        check.check_choice("scaling", self.scaling, SCALINGS)
        check.check_choice("learning_rate", self.learning_rate, SCHEDULES)
        if self.schedule_epochs is not None:
            check.check_range("schedule_epochs", self.schedule_epochs, 1, math.inf)
        self._check_dtype()
        check.check_range("learning_rate_init", self.learning_rate_init, 0, math.inf, low_open=True)
        check.check_range("momentum", self.momentum, 0, 1, high_open=True)
        check.check_range("beta_1", self.beta_1, 0, 1, high_open=True)
        check.check_range("beta_2", self.beta_2, 0, 1, high_open=True)
        check.check_range("epsilon", self.epsilon, 0, math.inf, low_open=True)
        check.check_range("alpha", self.alpha, 0, math.inf)
        check.check_range("init_scale", self.init_scale, 0, math.inf, low_open=True)
        check.check_range("max_iter", self.max_iter, 1, math.inf)
        check.check_range("tol", self.tol, 0, math.inf)
        check.check_range("n_iter_no_change", self.n_iter_no_change, 1, math.inf)
        check.check_range("target_loss", self.target_loss, 0, math.inf)
        check.check_range("label_smoothing", self.label_smoothing, 0, 1, high_open=True)
        if self.label_smoothing and not isinstance(self, ClassifierMixin):
            raise ValueError("label_smoothing is for classifiers; a regressor takes 0")
        check.check_range(
            "validation_fraction", self.validation_fraction, 0, 1, low_open=True, high_open=True
        )
        if self.batch_size not in ("auto", "full"):
            check.check_range("batch_size", self.batch_size, 1, math.inf)
        for p in self._dropout_rates(sizes):
            check.check_range("dropout", p, 0, 1, high_open=True)
        return sizes

    def _check_dtype(self) -> np.dtype:
        """dtype as a name ('float32', 'float64') or a NumPy type (np.float32, np.float64)."""
        try:
            dt = None if self.dtype is None else np.dtype(self.dtype)
        except TypeError:
            dt = None
        if dt not in (np.float32, np.float64):
            raise ValueError(
                f"dtype must be float32 or float64 (a name or a NumPy type); got {self.dtype!r}"
            )
        return dt

    def _dropout_rates(self, sizes: tuple[int, ...]) -> tuple[float, ...]:
        if isinstance(self.dropout, int | float):
            return (float(self.dropout),) * len(sizes)
        rates = tuple(self.dropout)
        if len(rates) != len(sizes):
            raise ValueError(
                f"dropout has {len(rates)} rates but there are {len(sizes)} hidden layers"
            )
        return rates

    def _batch_size(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size == "full":
            return n
        return min(int(self.batch_size), n)

    # -- task hooks (classifier / regressor) --------------------------------------------

    def _check_Xy(self, X: Any, y: Any, reset: bool) -> tuple[Any, np.ndarray]:
        """X and y as scikit-learn's validate_data leaves them (reset: a fresh fit, which
        records n_features_in_ and feature_names_in_; else they must match the recorded)."""
        raise NotImplementedError

    def _encode_targets(self, y: Any, first: bool, classes: Any = None) -> np.ndarray:
        raise NotImplementedError

    def _n_outputs(self) -> int:
        raise NotImplementedError

    # -- building -----------------------------------------------------------------------

    def _initialize(
        self,
        X: np.ndarray,
        sizes: tuple[int, ...],
        memo: dict[str, Any] | None = None,
        scaler: Scaler | None = None,
    ) -> None:
        """Network, optimizer and input scaling for X (`scaler`: a saved one, not refitted)."""
        self.n_features_in_ = X.shape[1]
        self._dt = self._check_dtype()
        self._scaler = scaler
        if self.scaling and scaler is None:
            key = f"scaler:{self.scaling}:{self.clip_inputs}"
            shared = memo.get(key) if memo is not None else None
            self._scaler = shared or Scaler.fit(X, self.scaling, hold=self.clip_inputs)
            if memo is not None:
                memo[key] = self._scaler
        rng = np.random.default_rng(self.random_state)
        net = Network(
            (
                self._scaler.width(X.shape[1]) if self._scaler else X.shape[1],
                *sizes,
                self._n_outputs(),
            ),
            self.activation,
            self._output_activation(),
            batch_norm=self.batch_norm,
            dropout=self._dropout_rates(sizes),
            dtype=self._dt,
            alpha=self.alpha,
            rng=rng,
        )
        init = DEFAULT_INIT if self.init == "auto" else self.init
        net.initialize(init, self.init_scale, rng)
        # the parameters as attributes (get_params' signature walk costs 0.3 ms a fit)
        opt = OPTIMIZERS[self.solver].from_params(net.params.shape[1], self._dt, vars(self))
        if self.learning_rate == "cosine":
            opt.schedule(self.schedule_epochs or self.max_iter)
        check_pairing(self._loss(), net.output_activation)
        rule = StoppingRule(
            0,
            self.max_iter,
            self.tol,
            self.n_iter_no_change,
            self.target_loss,
            self.early_stopping,
            self.shuffle,
        )
        self._state = FitState(net, opt, self._loss(), self._metric, rule, rng)

    def _output_activation(self) -> str:
        return self._output_activation_for_task

    def _loss(self) -> str:
        """'auto' is log loss for classifiers and squared loss for regressors."""
        if self.loss != "auto":
            return self.loss
        return "log" if isinstance(self, ClassifierMixin) else "squared"

    def _inputs(self, X: Any) -> Any:
        """X scaled, in the network's dtype; a sparse X stays a CSR array (nas.nn.scaling)."""
        if sp.issparse(X):
            if self._scaler is None:
                return sp.csr_array(X, dtype=self._dt)
            return self._scaler.transform(X, self._dt)
        if self._scaler is None:
            return np.ascontiguousarray(X, dtype=self._dt)
        return np.ascontiguousarray(self._scaler.transform(X, self._dt))

    # -- fitting ------------------------------------------------------------------------

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        X_val: Any = None,
        y_val: Any = None,
        callback: Callback | None = None,
        scaling_rows: tuple[Any, Any] | None = None,
    ) -> _BaseMLP:
        """Train for max_iter epochs, from fresh weights unless warm_start continues.

        With warm_start=True a fitted model goes on from its current weights, optimizer
        state and random stream, so training in several calls of k epochs equals one call
        of their sum: a search trains a candidate rung by rung this way.

        X_val, y_val give a validation set whose loss and metric are recorded every epoch
        (validation_scores_) and drive early_stopping; without them early_stopping holds
        out validation_fraction of X. callback(EpochLog) is called after every epoch and
        stops training by returning True. scaling_rows=(X_all, y_all): the rows a fresh
        model fits its input and target scaling (and classes_) on, when X is a share of them.
        """
        train(
            [self.fit_state(X, y, X_val=X_val, y_val=y_val, scaling_rows=scaling_rows)],
            [callback],
        )
        return self

    def fit_state(
        self,
        X: Any,
        y: Any,
        *,
        X_val: Any = None,
        y_val: Any = None,
        shared: dict[Any, Any] | None = None,
        scaling_rows: tuple[Any, Any] | None = None,
    ) -> FitState:
        """fit's first half: check everything, build the network or go on warm, and hand
        over what training needs (nas.nn.fitstate). fit trains it alone; fit_population
        trains many at once (nas.nn.population), and the estimator reads the outcome back.

        shared: what estimators of one class fitting on the same X and y compute alike,
        kept by the first and read by the rest (a population passes one dict per class):
        the checked X and y, classes_, the fitted input scalers and the scaled data. Each
        still checks its own parameters and that X has its features.
        """
        saved = dict(vars(self))
        try:
            return self._fit_state(X, y, X_val, y_val, shared, scaling_rows)
        except BaseException:
            _restore(self, saved)  # a refused (re)fit leaves the estimator as it was
            raise

    def _fit_state(
        self,
        X: Any,
        y: Any,
        X_val: Any,
        y_val: Any,
        shared: dict[Any, Any] | None,
        scaling_rows: tuple[Any, Any] | None,
    ) -> FitState:
        sizes = self._validate_params()
        warm = self.warm_start and hasattr(self, "_state")
        memo = shared
        if memo is not None and "X" in memo:
            X, y = memo["X"], memo["y"]
            validate_data(self, X, skip_check_array=True, reset=not warm)
        else:
            X, y = self._check_Xy(X, y, reset=not warm)
            if memo is not None:
                memo.update(X=X, y=y)
        if X_val is None and self.early_stopping:
            X, X_val, y, y_val = self._split_validation(X, y)
            memo = None  # fitted on a split of its own: nothing to share
        if warm:
            rule = self._state.rule
            rule.tol, rule.n_iter_no_change = self.tol, self.n_iter_no_change
            rule.target_loss, rule.early_stopping = self.target_loss, self.early_stopping
        else:
            X0, y0 = X, y
            if scaling_rows is not None:
                X0, y0 = self._check_Xy(scaling_rows[0], scaling_rows[1], reset=False)
            self._set_targets(y0, memo=memo)
            self._initialize(X0, sizes, memo)
        self._state.data = self._data(X, y, X_val, y_val, self.max_iter, memo)
        return self._state

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> _BaseMLP:
        """One epoch over (X, y), continuing from the current coefs_ and intercepts_.

        The first call builds the network (and fits input scaling on this first batch).
        """
        saved = dict(vars(self))
        try:
            first = not hasattr(self, "_state")
            sizes = self._validate_params()
            X, y = self._check_Xy(X, y, reset=first)
            if first:
                self._set_targets(y, classes)
                self._initialize(X, sizes)
            self._state.data = self._data(X, y, None, None, 1)
        except BaseException:
            _restore(self, saved)
            raise
        train([self._state])
        return self

    def _set_targets(
        self, y: np.ndarray, classes: Any = None, memo: dict[str, Any] | None = None
    ) -> None:
        if classes is None and memo is not None:
            classes = memo.get("classes")  # np.unique(y) found by the first: no sort of y
        self._encode_targets(y, first=True, classes=classes)
        if memo is not None and hasattr(self, "classes_"):
            memo["classes"] = self.classes_

    def _split_validation(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        stratify = y if isinstance(self, ClassifierMixin) else None
        return train_test_split(
            X,
            y,
            test_size=self.validation_fraction,
            random_state=self.random_state,
            stratify=stratify,
        )

    def _data(self, X, y, X_val, y_val, epochs: int, memo: dict[Any, Any] | None = None) -> Data:
        """Scaled inputs and encoded targets, as the network sees them (estimators with
        equal _data_key share one copy through memo); sets this fit's batch size and epochs."""
        rule = self._state.rule
        rule.batch_size = self._batch_size(X.shape[0])
        rule.max_iter = epochs
        key = ("data", self._data_key()) if memo is not None else None
        if memo is not None and key in memo:
            return memo[key]
        Xv = Yv = None
        if X_val is not None:
            Xv, yv = self._check_Xy(X_val, y_val, reset=False)
            Xv, Yv = self._inputs(Xv), self._smoothed(self._encode_targets(yv, first=False))
        Y = self._smoothed(self._encode_targets(y, first=False))
        data = Data(self._inputs(X), Y, Xv, Yv)
        if memo is not None:
            memo[key] = data
        return data

    def _data_key(self) -> tuple[Any, ...]:
        """What _data's result depends on besides the data: the scalers, dtype, classes,
        label smoothing."""
        fitted = [self._scaler, getattr(self, "_y_scaler", None)]
        parts = [s.key() if s else None for s in fitted]
        classes = getattr(self, "classes_", None)
        classes = None if classes is None else tuple(classes)
        return (type(self), self._dt.str, *parts, classes, float(self.label_smoothing))

    def _smoothed(self, Y: np.ndarray) -> np.ndarray:
        """Targets with label smoothing eps (Szegedy et al. 2016): (1 - eps) y + eps / K over
        K classes (K = 2 for one logistic unit), so the log loss stops pushing outputs to 0
        or 1 once they are confident; the arg max, and so accuracy, is unchanged."""
        eps = float(self.label_smoothing)
        if not eps:
            return Y
        classes = max(Y.shape[1], 2)
        return (Y * (1 - eps) + eps / classes).astype(Y.dtype, copy=False)

    # -- fitted state -------------------------------------------------------------------

    @property
    def coefs_(self) -> list[np.ndarray]:
        return self._fitted().net.coefs

    @coefs_.setter
    def coefs_(self, value: list[np.ndarray]) -> None:
        _assign(self._fitted().net.coefs, value, "coefs_")

    @property
    def intercepts_(self) -> list[np.ndarray]:
        return self._fitted().net.intercepts

    @intercepts_.setter
    def intercepts_(self, value: list[np.ndarray]) -> None:
        _assign(self._fitted().net.intercepts, value, "intercepts_")

    @property
    def status_(self) -> str:
        """Why training stopped (nas.nn.fitstate), or 'initialized' before any epoch."""
        return self._fitted().status

    @status_.setter
    def status_(self, value: str) -> None:
        self._fitted().status = value

    @property
    def loss_curve_(self) -> list[float]:
        return self._fitted().history.loss_curve

    @property
    def validation_scores_(self) -> list[float] | None:
        return self._fitted().history.validation_scores or None

    @property
    def val_loss_curve_(self) -> list[float] | None:
        return self._fitted().history.val_loss_curve or None

    @property
    def best_loss_(self) -> float:
        return self._fitted().history.best_loss

    @property
    def n_iter_(self) -> int:
        return len(self._fitted().history.loss_curve)

    @property
    def t_(self) -> int:
        return self._fitted().history.steps

    @property
    def n_layers_(self) -> int:
        return self._fitted().net.n_layers + 1

    @property
    def n_params_(self) -> int:
        return int(self._fitted().net.params.size)

    def _fitted(self) -> FitState:
        try:
            return self._state
        except AttributeError:
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit first"
            ) from None

    def _forward(self, X: Any) -> np.ndarray:
        state = self._fitted()
        X = validate_data(self, X, reset=False, **X_CHECKS)
        return state.net.predict_output(self._inputs(X))


def _restore(est: BaseEstimator, saved: dict[str, Any]) -> None:
    """The estimator's attributes back to `saved` (validate_data records n_features_in_ and
    feature_names_in_ before the rest of a fit is checked)."""
    vars(est).clear()
    vars(est).update(saved)


def _assign(views: list[np.ndarray], values: list[np.ndarray], name: str) -> None:
    if len(values) != len(views):
        raise ValueError(f"{name} needs {len(views)} arrays; got {len(values)}")
    for i, (view, value) in enumerate(zip(views, values)):
        arr = np.asarray(value)
        if arr.shape != view.shape:
            raise ValueError(f"{name}[{i}] must have shape {view.shape}; got {arr.shape}")
        view[...] = arr


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier.

    Binary problems get one logistic output unit (as in the lecture), multi-class ones a
    softmax over one-hot targets. Labels may be of any type (strings too).

    Example:
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifier((32,), max_iter=300, random_state=0).fit(X, y)
        >>> clf.score(X, y) > 0.95
        True
    """

    _metric = "accuracy"

    def _check_Xy(self, X: Any, y: Any, reset: bool) -> tuple[Any, np.ndarray]:
        X, y = validate_data(self, X, y, reset=reset, **X_CHECKS)
        check_classification_targets(y)  # continuous targets are refused, by name
        return X, y

    def _encode_targets(self, y: Any, first: bool, classes: Any = None) -> np.ndarray:
        if first:
            labels = np.unique(y if classes is None else np.asarray(classes))
            if labels.size < 2:
                raise ValueError(
                    f"y has one class only ({labels[0]!r}); a classifier needs at least two"
                    if labels.size
                    else "y is empty"
                )
            self.classes_ = labels
            return np.empty(0)
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, self.classes_.size - 1)
        unknown = self.classes_[idx] != y
        if unknown.any():
            raise ValueError(f"y contains labels not in classes_: {np.unique(y[unknown])[:5]}")
        dt = np.dtype(self.dtype)
        if self.classes_.size == 2:
            return idx.astype(dt).reshape(-1, 1)
        Y = np.zeros((idx.size, self.classes_.size), dt)
        Y[np.arange(idx.size), idx] = 1
        return Y

    def _n_outputs(self) -> int:
        return 1 if self.classes_.size == 2 else int(self.classes_.size)

    def _output_activation(self) -> str:
        return "logistic" if self.classes_.size == 2 else "softmax"

    def predict_proba(self, X: Any) -> np.ndarray:
        out = self._forward(X).astype(np.float64)
        if out.shape[1] == 1:
            return np.hstack([1 - out, out])
        return out

    def predict_log_proba(self, X: Any) -> np.ndarray:
        return np.log(np.clip(self.predict_proba(X), np.finfo(np.float64).tiny, None))

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor with a linear (identity) output layer.

    target_scaling='standard' (the default) trains on standardized targets and maps
    predictions back, so that Adam's small steps reach targets of any magnitude; 'log'
    standardizes sign(y) log(1 + |y|) instead, for skewed targets such as prices; with
    target_scaling=None the network fits y exactly as given (and loss_curve_ is in y's
    units).

    Its __init__ restates the base's parameters: scikit-learn reads an estimator's
    parameters from the __init__ signature, and so do users and their editors.
    """

    _metric = "r2"

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        *,
        loss: str = "auto",
        solver: str = "adam",
        learning_rate: str = "constant",
        learning_rate_init: float = 1e-3,
        schedule_epochs: int | None = None,
        momentum: float = 0.9,
        nesterov: bool = False,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size: int | str = "auto",
        alpha: float = 1e-4,
        dropout: float | tuple[float, ...] = 0.0,
        batch_norm: bool = False,
        init: str = "auto",
        init_scale: float = 0.1,
        scaling: str | None = "standard",
        clip_inputs: bool = True,
        label_smoothing: float = 0.0,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        target_loss: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        shuffle: bool = True,
        warm_start: bool = False,
        random_state: int | None = None,
        dtype: str | type = "float32",
        target_scaling: str | None = "standard",
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation,
            loss=loss,
            solver=solver,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            schedule_epochs=schedule_epochs,
            momentum=momentum,
            nesterov=nesterov,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            batch_size=batch_size,
            alpha=alpha,
            dropout=dropout,
            batch_norm=batch_norm,
            init=init,
            init_scale=init_scale,
            scaling=scaling,
            clip_inputs=clip_inputs,
            label_smoothing=label_smoothing,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            target_loss=target_loss,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            shuffle=shuffle,
            warm_start=warm_start,
            random_state=random_state,
            dtype=dtype,
        )
        self.target_scaling = target_scaling

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # a 2-D y: one output unit per column
        return tags

    def _check_Xy(self, X: Any, y: Any, reset: bool) -> tuple[Any, np.ndarray]:
        X, y = validate_data(self, X, y, reset=reset, y_numeric=True, multi_output=True, **X_CHECKS)
        return X, (y.toarray() if sp.issparse(y) else y)

    def _encode_targets(self, y: Any, first: bool, classes: Any = None) -> np.ndarray:
        y2 = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if first:
            check.check_choice("target_scaling", self.target_scaling, TARGET_SCALINGS)
            self._n_targets = y2.shape[1]
            self._y_is_1d = np.ndim(y) == 1
            kind = self.target_scaling
            self._y_scaler = Scaler.fit(y2, kind) if kind else None
            return np.empty(0)
        if self._y_scaler is not None:
            return self._y_scaler.transform(y2, np.dtype(self.dtype))
        return y2.astype(self.dtype)

    def _n_outputs(self) -> int:
        return self._n_targets

    def predict(self, X: Any) -> np.ndarray:
        out = self._forward(X).astype(np.float64)
        if self._y_scaler is not None:
            out = self._y_scaler.inverse_transform(out)
        return out.ravel() if self._y_is_1d else out
