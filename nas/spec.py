"""The job spec: everything a search run needs, validated before any training starts.

A spec comes from YAML or JSON (the CLI), or a REST body (the API), and is refused with
the field path and the allowed range when anything is off. It is stored with the job, so
a resumed run continues the very same search. Validation is pure: it never opens a file
(a CSV's columns are checked when the batch run reads it), so nothing a client sends can
make validation reveal anything of the server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nas.data import BUILTINS, SYNTHETIC
from nas.searchers import SEARCHERS, make_searcher
from nas.space import SearchSpace
from nas.stopping import POLICIES, make_policy


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSpec(_Spec):
    """A built-in or synthetic data set by name, a CSV file with its target column, or a
    data set stored in the store (uploaded through the API) by id.

    A CSV's text columns are one-hot encoded and its missing cells imputed (with a
    missing-indicator column), fitted on the job's training rows (nas.data.preprocess);
    `refuse` makes either a refusal instead. test_fraction 0 keeps no test rows, for a
    user who holds out their own: the search splits train / validation only and the refit
    trains on every row.
    """

    name: str | None = Field(None, description="built-in or synthetic data set")
    csv: str | None = Field(None, description="path of a CSV file with a header row")
    id: int | None = Field(None, ge=1, le=2**31 - 1, description="a stored data set's id")
    target: str | None = Field(None, description="the CSV's target column")
    task: Literal["classification", "regression"] | None = Field(
        None, description="inferred from the target when not given (and reported)"
    )
    categorical: Literal["auto", "refuse"] = Field(
        "auto", description="text columns: auto (one-hot, rare levels grouped) or refuse"
    )
    missing: Literal["auto", "refuse"] = Field(
        "auto", description="missing cells: auto (imputed, with an indicator column) or refuse"
    )
    test_fraction: float = Field(0.2, ge=0.0, lt=0.5, description="0: no test rows")
    val_fraction: float = Field(0.2, gt=0.0, lt=0.5)
    drop: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        [],
        max_length=1000,
        description="columns of a CSV or stored data set to leave out (an ID the roles miss)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if sum(x is not None for x in (self.name, self.csv, self.id)) != 1:
            raise ValueError(
                "give exactly one of name (a built-in data set), csv (a path) "
                "or id (a stored data set)"
            )
        if self.name is not None and self.name not in BUILTINS and self.name not in SYNTHETIC:
            allowed = sorted(BUILTINS) + list(SYNTHETIC)
            raise ValueError(f"name must be one of {allowed}; got {self.name!r}")
        if self.csv is not None and not self.target:
            raise ValueError("a csv data set needs its target column named (target)")
        if self.drop and self.name is not None:
            raise ValueError("drop applies to a CSV or a stored data set, not a built-in one")
        return self

    @property
    def resolved_task(self) -> str | None:
        """The task when known before reading the data (None: inferred from the target)."""
        if self.task:
            return self.task
        if self.name in BUILTINS:
            return BUILTINS[self.name]
        if self.name in SYNTHETIC:
            return "classification"
        return None


class StoppingSpec(_Spec):
    policy: str = Field("lce", description=f"one of {', '.join(POLICIES)}")
    options: dict[str, Any] = Field(default_factory=dict, description="the policy's parameters")

    @model_validator(mode="after")
    def _buildable(self) -> StoppingSpec:
        make_policy(self.policy, self.options)  # ValueError names the bad parameter
        return self


class Budget(_Spec):
    """When the search ends: whichever limit comes first. At least one must be set."""

    trials: int | None = Field(30, ge=1, le=100_000)
    seconds: float | None = Field(None, gt=0)
    epochs: int | None = Field(None, ge=1, description="epochs summed over all trials")

    @model_validator(mode="after")
    def _some_limit(self) -> Budget:
        if self.trials is None and self.seconds is None and self.epochs is None:
            raise ValueError("set at least one of trials, seconds or epochs")
        return self


class PopulationSpec(_Spec):
    """Train candidates together: trials of one depth and batch size, up to `size` at a
    time, train as one population with batched products (nas.nn.population)."""

    size: int = Field(32, ge=2, le=4096, description="trials trained at once, 2..4096")


class DataFraction(_Spec):
    """Successive halving over training rows: a trial starts on `min` of them and gets
    `eta` times more at each rung it is promoted past, all of them in its last segment."""

    min: float = Field(0.25, gt=0.0, le=1.0, description="share of training rows at first")
    eta: float = Field(2.0, gt=1.0, le=100.0, description="growth of the share per rung")


class FidelitySpec(_Spec):
    data_fraction: DataFraction | None = None


class ProxySpec(_Spec):
    """Screen proposals by a scaled-down stand-in: of each pool of `pool` candidates the
    searcher proposes, only the best `keep` share by the proxy's validation metric is
    trained in full (the others are told to the searcher as pruned at the proxy's value)."""

    width_scale: float = Field(0.25, gt=0.0, le=1.0, description="proxy width / full width")
    epochs: int = Field(5, ge=1, le=10_000, description="epochs a proxy trains")
    keep: float = Field(0.25, gt=0.0, le=1.0, description="share of each pool trained in full")
    pool: int = Field(8, ge=2, le=1000, description="proposals screened together")

    @property
    def n_keep(self) -> int:
        return max(1, round(self.keep * self.pool))


class WarmStartSpec(_Spec):
    """Seed the search with the top candidates of a finished job: they are trained first."""

    job_id: int = Field(ge=1, le=2**31 - 1, description="a finished job of this store")
    top: int = Field(5, ge=1, le=1000, description="how many of its best candidates")


class EnsembleSpec(_Spec):
    """The job's model as an ensemble of its best trials: greedy selection with replacement
    on the validation rows (Caruana et al. 2004) from the `pool` best trials, `size`
    rounds; each chosen network refit as the single model is (spec.refit)."""

    size: int = Field(20, ge=1, le=1000, description="selection rounds (weights in 1/size)")
    pool: int = Field(10, ge=1, le=100, description="best trials to choose from")


class SelectionSpec(_Spec):
    """The final choice among the `top` best trials by `folds`-fold cross-validation over
    training + validation rows, when those are at most `max_rows` (search/selection.py)."""

    top: int = Field(3, ge=2, le=20, description="best trials compared again")
    folds: int = Field(5, ge=2, le=20, description="folds of training + validation rows")
    max_rows: int = Field(2000, ge=1, le=1_000_000, description="above this, no cross-validation")


class JobSpec(_Spec):
    name: str = Field("search", min_length=1, max_length=200)
    dataset: DataSpec
    space: SearchSpace = SearchSpace()
    searcher: str = Field("tpe", description=f"one of {', '.join(SEARCHERS)}")
    searcher_options: dict[str, Any] = Field(default_factory=dict)
    objectives: list[Literal["val_metric", "n_params"]] = Field(["val_metric"], min_length=1)
    stopping: StoppingSpec = StoppingSpec()
    budget: Budget = Budget()
    parallelism: int = Field(1, ge=1, le=1024, description="trials trained at once")
    executor: Literal["local", "ray"] = Field(
        "local", description="local: in-process, one trial at a time; ray: parallelism workers"
    )
    seed: int = Field(0, ge=0, lt=2**32)
    population: PopulationSpec | None = Field(
        None, description="train candidates of one depth and batch size together"
    )
    backend: Literal["numpy", "cupy"] = Field(
        "numpy", description="the population trainer's arrays: numpy (CPU) or cupy (a GPU)"
    )
    fidelity: FidelitySpec = FidelitySpec()
    refit: bool = Field(
        True,
        description="retrain the chosen trial on train + validation rows for the epochs its "
        "validation metric peaked at, and keep that network as the best model",
    )
    ensemble: EnsembleSpec | None = Field(
        None,
        description="the job's model as a weighted ensemble of its best trials ({size, pool} "
        "or true); off by default: on the real-data suite it scored as the single best did",
    )
    refit_seeds: int = Field(
        5,
        ge=1,
        le=32,
        description="networks the refit trains from different seeds and averages (seed "
        "averaging; 1: one network); the single best's refit only: unused with an ensemble "
        "or refit false",
    )
    selection: SelectionSpec | None = Field(
        None,
        description="on small data, choose the model among the best trials by k-fold "
        "cross-validation ({top, folds, max_rows} or true) instead of the one validation split",
    )
    proxy: ProxySpec | None = None
    warm_start: WarmStartSpec | None = None

    @field_validator("ensemble", "selection", mode="before")
    @classmethod
    def _switch(cls, v: Any) -> Any:
        if v is False:
            return None
        return {} if v is True else v

    @field_validator("dataset", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v

    @field_validator("searcher")
    @classmethod
    def _searcher(cls, v: str) -> str:
        if v not in SEARCHERS:
            raise ValueError(f"searcher must be one of {list(SEARCHERS)}; got {v!r}")
        return v

    @model_validator(mode="after")
    def _searcher_buildable(self) -> JobSpec:
        # ValueError names a bad option (e.g. population < 2, cmaes with two objectives)
        make_searcher(
            self.searcher,
            self.space,
            self.seed,
            two_objectives=self.two_objectives,
            **self.searcher_options,
        )
        return self

    @model_validator(mode="after")
    def _backend_needs_population(self) -> JobSpec:
        if self.backend != "numpy" and self.population is None:
            raise ValueError(
                f"backend {self.backend!r} trains populations: set population (e.g. "
                "population: {size: 1024}), or use backend 'numpy'"
            )
        if self.population is not None and self.fidelity.data_fraction is not None:
            raise ValueError(
                "population and fidelity.data_fraction cannot be combined yet: a population "
                "trains its members on the same rows; drop one of them"
            )
        return self

    @model_validator(mode="after")
    def _cheaper_evaluations(self) -> JobSpec:
        if self.fidelity.data_fraction is not None and self.stopping.policy == "none":
            raise ValueError(
                "fidelity.data_fraction grows the data at rungs; stopping.policy 'none' has "
                "none: choose asha, hyperband, median, patience, lce or lce+asha"
            )
        if self.proxy is not None and self.proxy.epochs > self.space.max_epochs:
            raise ValueError(
                f"proxy.epochs must lie within [1, space.max_epochs={self.space.max_epochs}]; "
                f"got {self.proxy.epochs}"
            )
        return self

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, v: list[str]) -> list[str]:
        if v[0] != "val_metric" or len(v) != len(set(v)):
            raise ValueError("objectives are ['val_metric'] or ['val_metric', 'n_params']")
        return v

    @property
    def two_objectives(self) -> bool:
        return len(self.objectives) == 2


def load_spec(path: str | Path, overrides: dict[str, Any] | None = None) -> JobSpec:
    """Read a YAML or JSON spec file; dotted overrides (budget.trials=10) win."""
    text = Path(path).read_text()
    if str(path).endswith((".yaml", ".yml")):
        import yaml

        raw = yaml.safe_load(text) or {}
    else:
        raw = json.loads(text)
    for dotted, value in (overrides or {}).items():
        node = raw
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return JobSpec.model_validate(raw)
