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

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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
    n_linear: int = 2  # parameters solved in closed form: the basis's columns (1 or 2)
    axes: tuple[Array, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        axes = tuple(np.unique(self.grid[:, d]) for d in range(self.grid.shape[1]))
        object.__setattr__(self, "axes", axes)

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
    """Weighted least squares for a stack of designs (G, n, 2): coefficients and weighted
    residuals. The 2x2 normal equations are solved in closed form (Cramer's rule) in one
    vectorized pass over every design of every family; np.linalg.solve's batched LU cost
    more than the rest of a fit on curves this short."""
    first, second = design[..., 0], design[..., 1]
    wfirst, wsecond = first * w, second * w
    a = np.einsum("gn,gn->g", wfirst, first)
    b = np.einsum("gn,gn->g", wfirst, second)
    d = np.einsum("gn,gn->g", wsecond, second)
    ridge = RIDGE * ((a + d) / 2.0 + 1.0)
    a, d = a + ridge, d + ridge
    r0, r1 = wfirst @ y, wsecond @ y
    det = a * d - b * b
    c0, c1 = (d * r0 - b * r1) / det, (a * r1 - b * r0) / det
    resid = first * c0[:, None] + second * c1[:, None] - y
    return np.stack([c0, c1], axis=1), (resid * resid) @ w


def fit_family(family: Family, x: Array, y: Array, w: Array, zooms: int = ZOOMS) -> FamilyFit:
    """Fit one family to (x, y) with point weights w: a global grid, then finer local grids."""
    return fit_families((family,), x, y, w, zooms)[0]


def fit_families(
    families: Sequence[Family], x: Array, y: Array, w: Array, zooms: int = ZOOMS
) -> list[FamilyFit]:
    """Fit every family to (x, y) at once: the global grids of all families in one batched
    solve, then each zoom level's local grids of all families in one more. A fit is then a
    few dozen NumPy calls instead of a few hundred, which is what its time was made of
    (curves of tens of points). The global designs depend only on the epochs, so those of
    epochs 1..n are built once and reused by every fit (see _global_design)."""
    families = tuple(families)
    grids = [f.grid for f in families]
    coefs, wsse = _split(families, grids, *_solve(_global_design(families, x), y, w))
    best = []
    for f, c, e in zip(families, coefs, wsse, strict=True):
        j = int(np.argmin(e))
        best.append((f.grid[j], c[j], float(e[j])))
    shaped = [i for i, f in enumerate(families) if f.grid.shape[1] > 0]
    steps = {i: _grid_step(families[i], best[i][0]) for i in shaped}
    for _ in range(zooms if shaped else 0):
        local = []
        for i in shaped:
            f, steps[i] = families[i], steps[i] / ZOOM_FACTOR
            offsets = _local_offsets(best[i][0].size) * steps[i]
            local.append(np.clip(best[i][0] + offsets, f.shape_lower, f.shape_upper))
        zoomed = tuple(families[i] for i in shaped)
        coefs, wsse = _split(zoomed, local, *_solve(_stacked_design(zoomed, x, local), y, w))
        for k, i in enumerate(shaped):
            j = int(np.argmin(wsse[k]))
            if wsse[k][j] < best[i][2]:
                best[i] = (local[k][j], coefs[k][j], float(wsse[k][j]))
    return [FamilyFit(f, *best[i]) for i, f in enumerate(families)]


def _stacked_design(families: Sequence[Family], x: Array, shapes: Sequence[Array]) -> Array:
    """Every family's designs at its shapes, one-column ones padded with a zero column
    (the ridge gives it a zero coefficient), stacked into one (G, n, 2) array."""
    parts = []
    with np.errstate(all="ignore"):
        for f, s in zip(families, shapes, strict=True):
            design = f.basis(x, np.atleast_2d(s))
            if design.shape[2] == 1:
                design = np.concatenate([design, np.zeros_like(design)], axis=2)
            parts.append(design)
    stacked = np.concatenate(parts)
    return np.where(np.isfinite(stacked), stacked, 0.0)


_GLOBAL_DESIGNS: dict[tuple[str, ...], Array] = {}


def _global_design(families: tuple[Family, ...], x: Array) -> Array:
    """The stacked global-grid designs at epochs x. For the registered families at epochs
    1..n (every curve without gaps) a slice of one table built for the longest n so far;
    the table grows by doubling, so a search builds it a few times at most."""
    n = x.size
    names = tuple(f.name for f in families)
    contiguous = n > 0 and x[0] == 1.0 and x[-1] == n and bool(np.all(np.diff(x) == 1.0))
    if not contiguous or any(FAMILIES.get(f.name) is not f for f in families):
        return _stacked_design(families, x, [f.grid for f in families])
    table = _GLOBAL_DESIGNS.get(names)
    if table is None or table.shape[1] < n:
        size = max(n, 2 * (0 if table is None else table.shape[1]), 64)
        epochs = np.arange(1, size + 1, dtype=float)
        table = _stacked_design(families, epochs, [f.grid for f in families])
        _GLOBAL_DESIGNS[names] = table
    return table[:, :n]


def _split(
    families: Sequence[Family], shapes: Sequence[Array], coef: Array, wsse: Array
) -> tuple[list[Array], list[Array]]:
    """Per family, its rows of a stacked solve: coefficients (as many as its basis has) and
    residuals, non-finite ones as inf so that no argmin picks them."""
    wsse = np.where(np.isfinite(wsse), wsse, np.inf)
    cuts = np.cumsum([len(s) for s in shapes])[:-1]
    coefs = [c[:, : f.n_linear] for c, f in zip(np.split(coef, cuts), families, strict=True)]
    return coefs, np.split(wsse, cuts)


def _grid_step(family: Family, shape: Array) -> Array:
    """Per shape parameter, the wider of the grid gaps on either side of `shape`."""
    steps = []
    for axis, value in zip(family.axes, shape, strict=True):
        i = int(np.searchsorted(axis, value))
        gaps = np.diff(axis[max(i - 1, 0) : i + 2])
        steps.append(float(gaps.max()) if gaps.size else 1.0)
    return np.array(steps)


@functools.cache
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
        n_linear=1,
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
        n_linear=1,
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
