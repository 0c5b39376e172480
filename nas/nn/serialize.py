"""Save and load fitted estimators as .npz (arrays) plus JSON metadata: never pickle.

A model file may come from anyone (an upload, a shared store), and unpickling runs code.
Arrays are read with allow_pickle=False; everything else is JSON. Loading rebuilds the
network from its recorded shape and copies the saved parameters in bit for bit, so a
loaded model predicts exactly as the saved one did. A model trained on a table carries its
fitted preprocessing (nas.nn.tabular, JSON) beside the network and loads as a TabularModel,
which predicts from raw rows. An ensemble file (nas.nn.ensemble) loads the same way: an
Ensemble, or a TabularModel around one when its preprocessing sits beside the members.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import IO, Any

import numpy as np

from nas.nn.ensemble import Ensemble, assemble, is_ensemble_meta, member_payloads
from nas.nn.ensemble import to_bytes as ensemble_to_bytes
from nas.nn.estimators import MLPClassifier, MLPRegressor, _BaseMLP
from nas.nn.scaling import Scaler
from nas.nn.tabular import Preprocessing, TabularModel

FORMAT_VERSION = 1
PREPROCESSING = "preprocessing"  # the npz member holding a TabularModel's preprocessing JSON
_CLASSES: dict[str, type[_BaseMLP]] = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name  # dtype=np.float32 is kept as "float32"
    return value


def save(model: _BaseMLP | Ensemble | TabularModel, file: str | Path | IO[bytes]) -> None:
    """Write a fitted MLPClassifier, MLPRegressor, Ensemble or TabularModel to a path or
    binary file."""
    if isinstance(model, TabularModel):
        arrays = _arrays_of(model.estimator)
        arrays[PREPROCESSING] = np.array(model.preprocessing.to_json())
    else:
        arrays = _arrays_of(model)
    np.savez(file, allow_pickle=False, **arrays)


def _arrays_of(model: _BaseMLP | Ensemble) -> dict[str, np.ndarray]:
    if not isinstance(model, Ensemble):
        return _arrays(model)
    payload = ensemble_to_bytes(model, [to_bytes(m) for m in model.members])
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _arrays(model: _BaseMLP) -> dict[str, np.ndarray]:
    state = model._fitted()
    net = state.net
    arrays: dict[str, np.ndarray] = {"params": net.flat()}
    for i, (m, v) in enumerate(zip(net.running_mean, net.running_var)):
        arrays[f"running_mean_{i}"], arrays[f"running_var_{i}"] = m[0], v[0]
    for prefix, scaler in (("x", model._scaler), ("y", getattr(model, "_y_scaler", None))):
        if scaler is not None:
            arrays |= scaler.arrays(prefix)
    classes = getattr(model, "classes_", None)
    if classes is not None:
        arrays["classes"] = classes if classes.dtype != object else classes.astype(str)
    meta = {
        "format_version": FORMAT_VERSION,
        "estimator": type(model).__name__,
        "params": {k: _jsonable(v) for k, v in model.get_params().items()},
        "sizes": net.sizes,
        "output_activation": net.output_activation,
        "n_features_in": model.n_features_in_,
        "status": model.status_,
        "loss_curve": state.history.loss_curve,
        "validation_scores": state.history.validation_scores,
        "y_is_1d": getattr(model, "_y_is_1d", None),
    }
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def load(file: str | Path | IO[bytes]) -> _BaseMLP | Ensemble | TabularModel:
    """Rebuild what save() (or nas.nn.ensemble.to_bytes) wrote: the network or Ensemble, or
    a TabularModel around it (raw rows in) when the file carries its preprocessing."""
    with np.load(file, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    preprocessing = arrays.pop(PREPROCESSING, None)
    model = _model(arrays)
    if preprocessing is None:
        return model
    return TabularModel(Preprocessing.from_json(str(preprocessing)), model)


def _model(arrays: dict[str, np.ndarray]) -> _BaseMLP | Ensemble:
    if "meta" not in arrays:
        raise ValueError("not a model file: no meta member")
    meta = json.loads(str(arrays["meta"]))
    if not is_ensemble_meta(meta):
        return _estimator(arrays)
    members = []
    for payload in member_payloads(arrays, meta):
        with np.load(io.BytesIO(payload), allow_pickle=False) as data:
            member = {k: data[k] for k in data.files}
        if PREPROCESSING in member or "member_0" in member:
            raise ValueError("an ensemble's member must be a bare network")
        members.append(_estimator(member))
    return assemble(members, meta)


def without_preprocessing(payload: bytes) -> bytes:
    """A saved model's bytes without the preprocessing beside it (unchanged when none): the
    bare network an ensemble holds as a member."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        if PREPROCESSING not in data.files:
            return payload
        arrays = {k: data[k] for k in data.files if k != PREPROCESSING}
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)
    return buf.getvalue()


def with_preprocessing(payload: bytes, preprocessing: Preprocessing | None) -> bytes:
    """A saved estimator's bytes with `preprocessing` beside it (unchanged for None)."""
    if preprocessing is None:
        return payload
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays[PREPROCESSING] = np.array(preprocessing.to_json())
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)
    return buf.getvalue()


def _estimator(arrays: dict[str, np.ndarray]) -> _BaseMLP:
    meta = json.loads(str(arrays.pop("meta")))
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"unsupported model format_version {meta.get('format_version')!r}")
    cls = _CLASSES[meta["estimator"]]
    params = meta["params"]
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    if isinstance(params.get("dropout"), list):
        params["dropout"] = tuple(params["dropout"])
    model = cls(**params)
    sizes = meta["sizes"]
    if "classes" in arrays:
        model._encode_targets(arrays["classes"], first=True)
    else:
        model._n_targets = sizes[-1]
        model._y_is_1d = meta["y_is_1d"]
        model._y_scaler = Scaler.from_arrays(arrays, "y")
    X_stub = np.zeros((2, meta["n_features_in"]))
    model._initialize(X_stub, tuple(sizes[1:-1]), scaler=Scaler.from_arrays(arrays, "x"))
    state = model._fitted()
    net = state.net
    net.set_flat(arrays["params"])
    for i in range(len(net.running_mean)):
        net.running_mean[i][0] = arrays[f"running_mean_{i}"]
        net.running_var[i][0] = arrays[f"running_var_{i}"]
    state.history.loss_curve = list(meta["loss_curve"])
    state.history.validation_scores = list(meta["validation_scores"])
    model.status_ = meta["status"]
    return model


def to_bytes(model: _BaseMLP | Ensemble | TabularModel) -> bytes:
    buf = io.BytesIO()
    save(model, buf)
    return buf.getvalue()


def from_bytes(payload: bytes) -> _BaseMLP | Ensemble | TabularModel:
    return load(io.BytesIO(payload))
