"""The batch demo: train one network on a built-in data set and report how it did.

It shows what a search does to every candidate: train with a learning curve recorded
epoch by epoch, score on held-out test rows, save the model as npz and load it back.
"""

from __future__ import annotations

import time
from pathlib import Path

from nas.data import load_builtin, split
from nas.nn import EpochLog, MLPClassifier, MLPRegressor, load, save


def run_demo(dataset: str = "digits", seed: int = 0, out_dir: str = "out") -> int:
    data = load_builtin(dataset)
    parts = split(data, seed)
    print(f"data set {data.name}: {data.n_rows} rows, {data.n_features} features, {data.task}")
    print(
        f"split: {len(parts.y_train)} train / {len(parts.y_val)} validation / "
        f"{len(parts.y_test)} test rows (seed {seed})"
    )
    model = (MLPClassifier if data.task == "classification" else MLPRegressor)(
        (128,), max_iter=100, early_stopping=True, random_state=seed
    )
    metric = "accuracy" if data.task == "classification" else "R^2"

    def report(log: EpochLog) -> None:
        if log.epoch == 1 or log.epoch % 10 == 0:
            print(
                f"  epoch {log.epoch:3d}  train loss {log.train_loss:.4f}  "
                f"val loss {log.val_loss:.4f}  val {metric} {log.val_metric:.4f}"
            )

    started = time.perf_counter()
    model.fit(parts.X_train, parts.y_train, X_val=parts.X_val, y_val=parts.y_val, callback=report)
    seconds = time.perf_counter() - started
    print(
        f"stopped: {model.status_} after {model.n_iter_} epochs in {seconds:.2f} s "
        f"({model.n_params_} parameters)"
    )
    score = model.score(parts.X_test, parts.y_test)
    print(f"test {metric}: {score:.4f}")
    path = Path(out_dir) / f"demo-{data.name}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    save(model, path)
    same = (load(path).predict(parts.X_test) == model.predict(parts.X_test)).all()
    print(f"model saved to {path}; reloaded model predicts identically: {bool(same)}")
    return 0 if same else 1
