"""Parametric learning-curve families and their fit by variable projection.

Every family here is linear in one or two of its parameters once the others (its *shape*)
are fixed: pow3 y = c - a x^-alpha is linear in (c, a) for a given alpha. Solving the linear
ones in closed form leaves a search over at most two shape parameters, which a small grid
covers globally (the grid is the "several starts"), and finer local grids around the best
point refine it within the shape's bounds. That avoids the local minima that joint
nonlinear fits of these forms fall into, and every step is one batched solve of 2x2 normal
equations, so all families fit a 50-point curve in a few milliseconds.

The families are those of Domhan, Springenberg & Hutter (2015), written for a metric where
higher is better and x is the epoch, starting at 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
# Basis: (x of shape (n,), shapes of shape (G, p)) -> design matrices of shape (G, n, k).
Basis = Callable[[Array, Array], Array]
# Named parameters from one shape (p,) and its linear coefficients (k,); None when the
# coefficients fall outside the family (e.g. a negative scale that a logarithm needs).
ParamsFrom = Callable[[Array, Array], "Array | None"]
Formula = Callable[[Array, Array], Array]

RIDGE = 1e-9  # keeps the 2x2 normal equations solvable when two basis columns coincide
ZOOMS = 3  # local grids after the global one; each refines the shape ZOOM_FACTOR-fold
ZOOM_FACTOR = 3


@dataclass(frozen=True)
class Family:
    """One parametric form: its named parameters, shape grid and bounds, basis and formula."""

    name: str
    param_names: tuple[str, ...]
    shape_lower: tuple[float, ...]
    shape_upper: tuple[float, ...]
    grid: Array
    basis: Basis
    params_from: ParamsFrom
    formula: Formula

    def __call__(self, x: Array, params: Array) -> Array:
        """The curve at epochs x for named parameters in `param_names` order."""
        with np.errstate(all="ignore"):
            return self.formula(np.asarray(x, dtype=float), np.asarray(params, dtype=float))


@dataclass(frozen=True)
class FamilyFit:
    """A family fitted to one curve: its shape, linear coefficients and weighted residual."""

    family: Family
    shape: Array
    coef: Array
    wsse: float

    def __call__(self, x: Array) -> Array:
        design = _design(self.family, np.atleast_1d(np.asarray(x, dtype=float)), self.shape)
        return np.asarray(design[0] @ self.coef)

    @property
    def params(self) -> Array | None:
        """The named parameters, or None when the fit left the family's domain."""
        return self.family.params_from(self.shape, self.coef)


def _design(family: Family, x: Array, shapes: Array) -> Array:
    with np.errstate(all="ignore"):
        design = family.basis(x, np.atleast_2d(shapes))
    return np.nan_to_num(design, nan=0.0, posinf=0.0, neginf=0.0)


def _solve(design: Array, y: Array, w: Array) -> tuple[Array, Array]:
    """Weighted least squares for a stack of designs (G, n, k): coefficients and residuals."""
    weighted = design * w[None, :, None]
    gram = np.einsum("gnk,gnj->gkj", weighted, design)
    k = design.shape[2]
    scale = np.trace(gram, axis1=1, axis2=2)[:, None, None] / k + 1.0
    gram = gram + RIDGE * scale * np.eye(k)[None]
    rhs = np.einsum("gnk,n->gk", weighted, y)
    coef = np.linalg.solve(gram, rhs[..., None])[..., 0]
    resid = np.einsum("gnk,gk->gn", design, coef) - y[None, :]
    return coef, np.einsum("gn,n->g", resid * resid, w)


def fit_family(family: Family, x: Array, y: Array, w: Array, zooms: int = ZOOMS) -> FamilyFit:
    """Fit one family to (x, y) with point weights w: a global grid, then finer local grids."""
    coefs, wsse = _solve(_design(family, x, family.grid), y, w)
    best = int(np.argmin(np.where(np.isfinite(wsse), wsse, np.inf)))
    shape, coef, err = family.grid[best], coefs[best], float(wsse[best])
    if family.grid.shape[1] == 0:
        return FamilyFit(family, shape, coef, err)
    step = _grid_step(family.grid, shape)
    lower, upper = np.array(family.shape_lower), np.array(family.shape_upper)
    for _ in range(zooms):
        step = step / ZOOM_FACTOR
        local = np.clip(shape + _local_offsets(shape.size) * step, lower, upper)
        coefs, wsse = _solve(_design(family, x, local), y, w)
        wsse = np.where(np.isfinite(wsse), wsse, np.inf)
        i = int(np.argmin(wsse))
        if wsse[i] < err:
            shape, coef, err = local[i], coefs[i], float(wsse[i])
    return FamilyFit(family, shape, coef, err)


def _grid_step(grid: Array, shape: Array) -> Array:
    """Per shape parameter, the wider of the grid gaps on either side of `shape`."""
    steps = []
    for d in range(grid.shape[1]):
        axis = np.unique(grid[:, d])
        i = int(np.searchsorted(axis, shape[d]))
        gaps = np.diff(axis[max(i - 1, 0) : i + 2])
        steps.append(float(gaps.max()) if gaps.size else 1.0)
    return np.array(steps)


def _local_offsets(p: int) -> Array:
    """The (2 * ZOOM_FACTOR + 1) ** p offsets of a local grid, in units of its step."""
    ticks = np.arange(-ZOOM_FACTOR, ZOOM_FACTOR + 1, dtype=float)
    return _grid(*([ticks] * p))


def _grid(*axes: Array) -> Array:
    if not axes:
        return np.zeros((1, 0))
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def _ones(x: Array, s: Array) -> Array:
    return np.broadcast_to(np.ones_like(x)[None, :], (s.shape[0], x.shape[0]))


def _stack(*columns: Array) -> Array:
    return np.stack(columns, axis=2)


def _col(s: Array, i: int) -> Array:
    return s[:, i : i + 1]


# Shape grids: kappa and a on log scales covering saturation from epoch ~1 to ~1000.
_LOG_KAPPA = np.linspace(np.log(1e-3), np.log(3.0), 14)
_DELTA = np.linspace(0.3, 3.0, 10)


def _saturating(name: str, term: Callable[[Array, Array, Array], Array]) -> Family:
    """alpha - (alpha - beta) * term(x; kappa, delta): Janoschek, Weibull and MMF."""
    return Family(
        name=name,
        param_names=("alpha", "beta", "kappa", "delta"),
        shape_lower=(float(_LOG_KAPPA[0]), 0.1),
        shape_upper=(float(_LOG_KAPPA[-1]), 5.0),
        grid=_grid(_LOG_KAPPA, _DELTA),
        basis=lambda x, s: _stack(_ones(x, s), -term(x[None, :], np.exp(_col(s, 0)), _col(s, 1))),
        params_from=lambda s, c: np.array([c[0], c[0] - c[1], np.exp(s[0]), s[1]]),
        formula=lambda x, p: p[0] - (p[0] - p[1]) * term(x, p[2], p[3]),
    )


def _log_or_none(value: float) -> float | None:
    return float(np.log(value)) if value > 0 else None


def _pow3() -> Family:
    return Family(
        name="pow3",
        param_names=("c", "a", "alpha"),
        shape_lower=(0.01,),
        shape_upper=(4.0,),
        grid=_grid(np.geomspace(0.02, 3.0, 40)),
        basis=lambda x, s: _stack(_ones(x, s), -(x[None, :] ** -_col(s, 0))),
        params_from=lambda s, c: np.array([c[0], c[1], s[0]]),
        formula=lambda x, p: p[0] - p[1] * x ** -p[2],
    )


def _log_power() -> Family:
    return Family(
        name="log_power",
        param_names=("a", "b", "c"),
        shape_lower=(-3.0, -6.0),
        shape_upper=(8.0, -0.05),
        grid=_grid(np.linspace(-2.0, 6.0, 14), -np.geomspace(0.1, 4.0, 12)),
        basis=lambda x, s: (1.0 / (1.0 + (x[None, :] / np.exp(_col(s, 0))) ** _col(s, 1)))[
            ..., None
        ],
        params_from=lambda s, c: np.array([c[0], s[0], s[1]]),
        formula=lambda x, p: p[0] / (1.0 + (x / np.exp(p[1])) ** p[2]),
    )


def _vapor_pressure() -> Family:
    def params_from(s: Array, c: Array) -> Array | None:
        a = _log_or_none(float(c[0]))
        return None if a is None else np.array([a, s[0], s[1]])

    return Family(
        name="vapor_pressure",
        param_names=("a", "b", "c"),
        shape_lower=(-20.0, -1.0),
        shape_upper=(5.0, 1.0),
        grid=_grid(-np.geomspace(0.05, 15.0, 16), np.linspace(-0.3, 0.3, 13)),
        basis=lambda x, s: np.exp(_col(s, 0) / x[None, :] + _col(s, 1) * np.log(x[None, :]))[
            ..., None
        ],
        params_from=params_from,
        formula=lambda x, p: np.exp(p[0] + p[1] / x + p[2] * np.log(x)),
    )


def _ilog2() -> Family:
    return Family(
        name="ilog2",
        param_names=("c", "a"),
        shape_lower=(),
        shape_upper=(),
        grid=_grid(),
        basis=lambda x, s: _stack(_ones(x, s), -_ones(x, s) / np.log(x[None, :] + 1.0)),
        params_from=lambda s, c: np.array([c[0], c[1]]),
        formula=lambda x, p: p[0] - p[1] / np.log(x + 1.0),
    )


def _exp4() -> Family:
    def params_from(s: Array, c: Array) -> Array | None:
        b = _log_or_none(float(c[1]))
        return None if b is None else np.array([c[0], np.exp(s[0]), s[1], b])

    return Family(
        name="exp4",
        param_names=("c", "a", "alpha", "b"),
        shape_lower=(float(_LOG_KAPPA[0]), 0.1),
        shape_upper=(float(_LOG_KAPPA[-1]), 5.0),
        grid=_grid(_LOG_KAPPA, _DELTA),
        basis=lambda x, s: _stack(
            _ones(x, s), -np.exp(-np.exp(_col(s, 0)) * x[None, :] ** _col(s, 1))
        ),
        params_from=params_from,
        formula=lambda x, p: p[0] - np.exp(-p[1] * x ** p[2] + p[3]),
    )


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        _pow3(),
        _log_power(),
        _vapor_pressure(),
        _saturating("janoschek", lambda x, k, d: np.exp(-k * x**d)),
        _saturating("weibull", lambda x, k, d: np.exp(-((k * x) ** d))),
        _saturating("mmf", lambda x, k, d: 1.0 / (1.0 + (k * x) ** d)),
        _ilog2(),
        _exp4(),
    )
}
