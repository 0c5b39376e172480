"""Plain-text reports of a search for the terminal: progress line, leaderboard, front."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

from nas.search import Progress
from nas.search.timing import PARTS, STARTUP, STOPPING
from nas.store import JobSummary, Trial

_PART_NAMES = {STARTUP: "start-up", STOPPING: "stopping decisions"}


def _fmt(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


class ProgressLine:
    """One updating line on a terminal; a line every tenth of the budget elsewhere."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out: TextIO = out or sys.stderr  # looked up now: sys.stderr may be replaced (pytest)
        self.tty = self.out.isatty()
        self._last_printed = 0

    def __call__(self, p: Progress) -> None:
        total = p.trials_budget
        width = 24
        filled = int(width * p.trials_done / total) if total else 0
        bar = f"[{'#' * filled}{'.' * (width - filled)}] " if total else ""
        of = f"/{total}" if total else ""
        line = (
            f"{bar}trials {p.trials_done}{of}  best val {_fmt(p.best)}  "
            f"epochs {p.epochs_spent} (saved by stopping: {p.epochs_saved})"
        )
        if self.tty:
            self.out.write("\r" + line)
            self.out.flush()
            return
        step = max(1, (total or 10) // 10)
        if p.trials_done - self._last_printed >= step or p.trials_done == total:
            self._last_printed = p.trials_done
            print(line, file=self.out)

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")


def _architecture(trial: Trial) -> str:
    p = trial.params
    widths = "-".join(str(w) for w in p.get("widths", ())) or "linear"
    extras = [p.get("activation", "?"), p.get("optimizer", "?")]
    if p.get("batch_norm"):
        extras.append("bn")
    if p.get("scaling", "standard") != "standard":
        extras.append(p["scaling"])
    if p.get("target_scaling", "standard") != "standard":
        extras.append(f"y {p['target_scaling']}")
    if p.get("label_smoothing"):
        extras.append(f"smooth {p['label_smoothing']:g}")
    if p.get("dropout"):
        extras.append(f"drop {p['dropout']:.2f}")
    return f"{widths} {' '.join(extras)}"


def table(trials: Sequence[Trial], title: str) -> str:
    header = (
        f"{'#':>4} {'trial':>5}  {'architecture':<38} {'val':>7} {'test':>7} "
        f"{'params':>8} {'epochs':>6}"
    )
    lines = [title, header, "-" * len(header)]
    for rank, t in enumerate(trials, 1):
        lines.append(
            f"{rank:>4} {t.number:>5}  {_architecture(t)[:38]:<38} {_fmt(t.val_metric):>7} "
            f"{_fmt(t.test_metric):>7} {t.n_params or 0:>8} {t.epochs_run:>6}"
        )
    return "\n".join(lines)


def refit_line(
    trials: Sequence[Trial], test_rows: bool = True, meta: dict[str, Any] | None = None
) -> str | None:
    """What the refit (spec.refit) gave, for the trial that has one; None without.
    Without test rows (test_fraction 0) there is no test metric to tell a divergence by.
    meta: the job's model meta, when cross-validation chose another trial's network."""
    for t in trials:
        number = (meta or {}).get("number", t.number)
        if t.refit_epochs is not None and number != t.number:
            return (
                f"refit: trial {number} retrained on train + validation rows for "
                f"{t.refit_epochs} epochs: test {_fmt(t.refit_test_metric)}; the saved best "
                "model is the refit one"
            )
        if t.refit_epochs is not None:
            if not test_rows:
                return (
                    f"refit: trial {t.number} retrained on every row (train + validation) for "
                    f"{t.refit_epochs} epochs; no test rows (test_fraction 0): test it on "
                    "your own hold-out"
                )
            if t.refit_test_metric is None:
                return (
                    f"refit: trial {t.number} diverged on train + validation rows; kept as searched"
                )
            return (
                f"refit: trial {t.number} retrained on train + validation rows for "
                f"{t.refit_epochs} epochs: test {_fmt(t.refit_test_metric)} (searched model "
                f"{_fmt(t.test_metric)}); the saved best model is the refit one"
            )
    return None


def selection_line(meta: dict[str, Any]) -> str | None:
    """What the cross-validated choice (spec.selection) decided, from the job's model meta;
    None when it did not run."""
    sel = meta.get("selection")
    if not sel:
        return None
    scores = ", ".join(f"#{c['number']} {_fmt(c['cv_metric'])}" for c in sel["scores"])
    line = (
        f"chosen by {sel['folds']}-fold cross-validation among the {len(sel['scores'])} best "
        f"({scores}): trial {meta['number']}"
    )
    alone = meta.get("validation_choice")
    if alone:
        line += (
            f"; the validation split's pick, #{alone['number']}, tests {_fmt(alone['test_metric'])}"
        )
    return line


def ensemble_line(meta: dict[str, Any], test_rows: bool = True) -> str | None:
    """What the ensemble (spec.ensemble) or seed average (spec.refit_seeds) is, from the
    job's model meta; None for one network."""
    ens = meta.get("ensemble")
    if not ens:
        return None
    if ens.get("kind") == "seeds" and not test_rows:
        return (
            f"average of {ens['size']} refits of trial {meta['number']} from different seeds, "
            "retrained on every row (train + validation); no test rows (test_fraction 0): "
            "test it on your own hold-out"
        )
    if ens.get("kind") == "seeds":
        one = _fmt(meta.get("single_test_metric"))
        return (
            f"average of {ens['size']} refits of trial {meta['number']} from different seeds: "
            f"test {_fmt(ens['test_metric'])} (one network {one}); the saved best model is "
            "the average"
        )
    members = ", ".join(
        f"#{m['number']} {m['weight']:.2f}"
        for m in sorted(ens["members"], key=lambda m: -m["weight"])
    )
    n = len(ens["members"])
    return (
        f"ensemble of {n} trial{'s' if n != 1 else ''} (weights: {members}): test "
        f"{_fmt(ens['test_metric'])} (single best {_fmt(meta.get('single_test_metric'))}); "
        "the saved best model is the ensemble"
    )


def summary_line(s: JobSummary) -> str:
    counts = ", ".join(f"{n} {k}" for k, n in s.trials_by_status.items() if n)
    share = ""
    if s.max_epochs and s.n_trials:
        share = f" ({s.epochs_saved / (s.epochs_saved + s.epochs_spent):.0%} of the budget)"
    return (
        f"job {s.job_id} {s.status}: {s.n_trials} trials ({counts}); epochs spent "
        f"{s.epochs_spent}, saved by stopping {s.epochs_saved}{share}"
    )


def time_line(timings: dict[str, float]) -> str:
    """Where the run's time went, largest part first, and the driver's own cost: every
    part but training and refit (nas/search/timing.py)."""
    wall = timings.get("wall") or sum(timings.get(p, 0.0) for p in PARTS)
    parts = sorted(((timings.get(p, 0.0), p) for p in PARTS), reverse=True)
    shown = ", ".join(
        f"{_PART_NAMES.get(p, p)} {s:.1f} s ({s / wall:.0%})" for s, p in parts if wall and s > 0
    )
    share = timings.get("driver_share", 0.0)
    return f"time {wall:.1f} s: {shown}; the driver's own cost {share:.0%} of it"
