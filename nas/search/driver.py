"""The search driver: ask -> train in rungs -> record -> stop or continue -> tell.

Every decision is made here, from stored curves: which candidate (the searcher), whether a
trial goes on at a rung boundary (the stopping policy), when the search ends (the budget).
Executors only train. Everything is written to the store as it happens, so a driver that
dies is resumed by the next one: finished trials are kept, lost ones are retried under the
same number, and the searcher continues from its saved state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas import store as db
from nas.search.budget import Books
from nas.search.ensemble_step import TopValues, build_ensemble
from nas.search.executors import Executor
from nas.search.fidelity import Schedule, fraction_for, schedule
from nas.search.final import final_model
from nas.search.problem import Problem, load_problem, local_executor
from nas.search.proxy import PoolScreen
from nas.search.refit import best_epoch
from nas.search.selection import Contender
from nas.search.timing import REFIT, SEARCHER, STOPPING, STORE, TRAINING, TimeBooks
from nas.search.trial import DIVERGED, FAILED, RungResult, TrialTask
from nas.searchers import Observation, Searcher, SpaceExhaustedError, make_searcher
from nas.searchers.proxy_screening import ProxyScreeningSearcher
from nas.searchers.warm import WarmStartSearcher
from nas.space import Candidate
from nas.spec import JobSpec
from nas.stopping import STOP, Curves, StoppingPolicy, TrialCurve, make_policy
from nas.stopping.curves import ACCURACY_BOUNDS, R2_BOUNDS
from nas.stopping.prior import MIN_CURVES as PRIOR_MIN_CURVES
from nas.stopping.prior import CurvePrior
from nas.store.trials import DEFAULT_MAX_ATTEMPTS


def _finite(x: float | None) -> float | None:
    return x if x is not None and np.isfinite(x) else None


def trial_seed(job_seed: int, number: int) -> int:
    """Trial `number`'s seed, spawned from the job's: the same job gives the same seeds."""
    return int(np.random.SeedSequence(job_seed, spawn_key=(number,)).generate_state(1)[0])


@dataclass(frozen=True)
class Progress:
    trials_done: int
    trials_budget: int | None
    best: float | None
    epochs_spent: int  # in full-data, full-candidate epochs (fidelity and proxies weighted)
    epochs_saved: int


@dataclass
class _Active:
    trial_id: int
    number: int
    candidate: Candidate
    attempt: int
    n_params: int
    reserved: float = 0  # epochs of the running rung, held against the epoch budget


# The driver's own lease refresh (and cancellation check) at most this often: under curve
# extrapolation every epoch is a rung, and a write per rung cost more than the decision.
HEARTBEAT_SECONDS = 1.0


class SearchDriver:
    def __init__(
        self,
        spec: JobSpec,
        store: db.Store,
        job_id: int,
        *,
        runner: str,
        executor: Executor | None = None,
        problem: Problem | None = None,
        progress: Callable[[Progress], None] | None = None,
        keep_going: Callable[[], bool] | None = None,
        started: float | None = None,
    ) -> None:
        """`keep_going` is asked at every rung boundary; False stops the run there, as a
        cancellation does (the job runner's way to stop between rungs). `started` is the
        time.perf_counter() at which the job's work began (the command's start, the claim):
        the time from there to the first ask is booked as start-up; default, from here."""
        self.timings = TimeBooks(started)
        self._last_beat = -float("inf")
        self._lost = False  # a state save found the job no longer ours
        self.spec = spec
        self.store = store
        self.job_id = job_id
        self.runner = runner
        self.problem = problem or load_problem(spec, store)
        self.executor = executor or local_executor(spec, self.problem)
        self.progress = progress
        self.keep_going = keep_going
        self.max_epochs = spec.space.max_epochs
        self.policy: StoppingPolicy = make_policy(spec.stopping.policy, self._policy_options())
        self.rungs = sorted({*self.policy.rungs(self.max_epochs), self.max_epochs})
        fraction = spec.fidelity.data_fraction
        self.data_fractions: Schedule = (
            schedule(self.rungs, self.max_epochs, fraction.min, fraction.eta) if fraction else ()
        )
        base = make_searcher(
            spec.searcher,
            spec.space,
            spec.seed,
            two_objectives=spec.two_objectives,
            **spec.searcher_options,
        )
        prepare = getattr(base, "prepare", None)
        if prepare is not None:  # a searcher that learns from the data itself (darts)
            prepare(self.problem.data, self.problem.classification)
        self.searcher: Searcher = self._cheaper(base)  # wrappers see no data: prepare first
        self.curves: dict[int, list[float]] = {}
        self.finished: set[int] = set()
        self.active: dict[int, _Active] = {}
        self.best: float | None = None
        self.books = Books()
        self.kept = TopValues(spec.ensemble.pool if spec.ensemble else 0)  # the ensemble's pool

    def _cheaper(self, searcher: Searcher) -> Searcher:
        """Proxy screening and warm start, as the spec asks, around the searcher."""
        if self.spec.proxy is not None:
            screen = PoolScreen(
                self.spec.proxy, self.problem, self.store, self.job_id, self.spec.seed, self._spend
            )
            proxy = self.spec.proxy
            searcher = ProxyScreeningSearcher(
                searcher, screen, pool=proxy.pool, n_keep=proxy.n_keep, record=screen.record
            )
        if self.spec.warm_start is not None:
            searcher = WarmStartSearcher(searcher)
        return searcher

    def _spend(self, epochs: float) -> None:
        self.books.spent += epochs

    def _warm_start(self) -> None:
        """Seed the searcher with the source job's best candidates, once per job."""
        warm = self.spec.warm_start
        if warm is None or not isinstance(self.searcher, WarmStartSearcher):
            return
        if self.searcher.seeded:
            return  # looked up at the first start; a resumed job keeps what is left
        with self.store.session() as s:
            trials = db.warm_start_source(s, warm.job_id, warm.top)
            seeds = [Candidate.model_validate(t.params) for t in trials]
        self.searcher.add_seeds([c for c in seeds if self.spec.space.contains(c)])

    def _policy_options(self) -> dict[str, Any]:
        """The spec's options; curve extrapolation of R^2 gets R^2's bounds (below 0 allowed)."""
        options = dict(self.spec.stopping.options)
        if not self.problem.classification and self.spec.stopping.policy in ("lce", "lce+asha"):
            options.setdefault("bounds", R2_BOUNDS)
        if options.get("learned_prior"):  # built here, from the store: policies do no I/O
            options["prior"] = self._learned_prior(options.get("bounds", ACCURACY_BOUNDS))
        return options

    def _learned_prior(self, bounds: tuple[float, float]) -> CurvePrior | None:
        """A curve prior from earlier jobs' finished curves on this data set; None while
        the store holds too few of them."""
        dataset = self.spec.dataset.model_dump(mode="json")
        with self.store.session() as s:
            curves = db.finished_curves(s, dataset=dataset, exclude_job=self.job_id)
        return CurvePrior.build(curves, bounds) if len(curves) >= PRIOR_MIN_CURVES else None

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> str:
        """Run the job to its budget; returns the job's final status."""
        if self.spec.budget.seconds is not None:
            self.books.deadline = time.monotonic() + self.spec.budget.seconds
        self._resume()
        try:
            self._warm_start()
            self.timings.start()
            while True:
                self._fill_slots()
                if self._lost:
                    return self._abandon("cancelled")
                if not self.active:
                    break
                with self.timings.part(TRAINING):
                    results = self.executor.wait()
                for result in results:
                    self._on_rung(result)
                if not self._heartbeat():
                    return self._abandon("cancelled")
            built = self.spec.ensemble is not None and build_ensemble(
                self.store, self.job_id, self.spec, self.problem
            )
            if self.spec.refit and not built:
                self._refit()
        except Exception as exc:
            if not (isinstance(exc, db.StoreUnavailable) or db.is_disconnect(exc)):
                with self.store.session() as s:  # transient ones are the caller's to hand back
                    db.finish_job(
                        s,
                        self.job_id,
                        runner=self.runner,
                        status="failed",
                        error=repr(exc),
                        timings=self.timings.snapshot(),
                    )
            raise
        finally:
            with self.timings.part(TRAINING):
                self.executor.close()
        with self.store.session() as s:
            db.finish_job(s, self.job_id, runner=self.runner, timings=self.timings.snapshot())
        return "finished"

    def _may_retry(self) -> bool:
        return self.books.may_retry(self.spec.budget)

    def _may_start(self) -> bool:
        return self.books.may_start(self.spec.budget)

    def _fill_slots(self) -> None:
        while len(self.active) < self.executor.slots and self._may_retry():
            with self.timings.part(STORE), self.store.session() as s:
                trial = db.claim_retry(s, self.job_id, worker=self.runner)
                if trial is None:
                    if not self._may_start():
                        return
                    try:
                        with self.timings.part(SEARCHER):
                            candidate = self.searcher.ask()  # never one proposed before
                            state = self._state()
                    except SpaceExhaustedError:
                        self.books.exhausted = True
                        return
                    # saved before the trial exists: a pending candidate without a trial
                    # row is known to be lost, one with a row is retried (see _resume)
                    if not db.save_searcher_state(s, self.job_id, state, runner=self.runner):
                        self._lost = True  # cancelled or taken over: start nothing more
                        return
                    n_params = candidate.n_params(self.problem.n_features, self.problem.n_outputs)
                    number = db.count_trials(s, self.job_id)
                    trial = db.start_trial(
                        s,
                        self.job_id,
                        params=candidate.model_dump(mode="json"),
                        worker=self.runner,
                        seed=trial_seed(self.spec.seed, number),
                        n_params=n_params,
                    )
                    self.books.started += 1
                candidate = Candidate.model_validate(trial.params)
                a = _Active(
                    trial.id, trial.number, candidate, trial.attempt, int(trial.n_params or 0)
                )
            assert trial.seed is not None
            self.active[a.number] = a
            self.curves[a.number] = []
            task = TrialTask(
                a.number, candidate, int(trial.seed), self.max_epochs, self.data_fractions
            )
            with self.timings.part(TRAINING):
                self.executor.start(task)
            self._next_rung(a, done=0)

    def _next_rung(self, a: _Active, done: int) -> None:
        target = next(r for r in self.rungs if r > done)
        fraction = fraction_for(self.data_fractions, target)
        if self.spec.budget.epochs is not None:
            left = self.spec.budget.epochs - self.books.spent - self.books.held
            target = min(target, done + max(int(left / fraction + 1e-9), 0))
        if target <= done:
            self._end(a, "pruned", reason="epoch budget spent")
            return
        a.reserved = (target - done) * fraction
        self.books.held += a.reserved
        with self.timings.part(TRAINING):
            self.executor.run(a.number, target)

    def _on_rung(self, result: RungResult) -> None:
        a = self.active[result.number]
        self.books.held -= a.reserved
        self.books.spent += len(result.logs) * result.data_fraction
        points = [
            db.EpochPoint(
                x.epoch, x.train_loss, x.val_loss, x.val_metric, x.seconds, result.data_fraction
            )
            for x in result.logs
        ]
        with self.timings.part(STORE), self.store.session() as s:
            db.record_epochs(s, a.trial_id, points, attempt=a.attempt)
        self.curves[a.number].extend(
            float("nan") if x.val_metric is None else x.val_metric for x in result.logs
        )
        done = result.epochs_done
        if result.status == FAILED:
            self._end(a, "failed", reason=result.error)
        elif result.status == DIVERGED:
            self._end(a, "diverged", reason="training diverged (cost became NaN or inf)")
        elif done >= self.max_epochs:
            self._end(a, "finished")
        else:
            with self.timings.part(STOPPING):
                decision = self.policy.decide(a.number, self._curves(), self.max_epochs)
            if decision.action == STOP:
                self._end(a, "pruned", decision.reason, decision.predicted_final)
            else:
                self._next_rung(a, done)

    def _curves(self) -> Curves:
        curves: dict[Hashable, TrialCurve] = {
            n: TrialCurve(tuple(c), n in self.finished) for n, c in self.curves.items()
        }
        return curves

    def _end(
        self,
        a: _Active,
        status: str,
        reason: str | None = None,
        predicted_final: float | None = None,
    ) -> None:
        del self.active[a.number]
        curve = self.curves[a.number]
        value = _finite(curve[-1]) if curve and status in ("finished", "pruned") else None
        keep = (
            status == "finished" and value is not None and (self.best is None or value > self.best)
        )
        if value is not None and status in ("finished", "pruned"):
            keep = self.kept.admit(value) or keep
        test_metric, payload = None, None
        with self.timings.part(TRAINING):
            if status in ("finished", "pruned"):
                outcome = self.executor.finish(a.number, keep_model=keep)
                test_metric, payload = outcome.test_metric, outcome.model
            else:
                self.executor.discard(a.number)
        with self.timings.part(STORE), self.store.session() as s:
            db.end_trial(
                s,
                a.trial_id,
                status=status,
                val_metric=value,
                test_metric=test_metric,
                predicted_final=predicted_final,
                n_params=a.n_params,
                error=reason,
                attempt=a.attempt,
            )
            if payload is not None:
                db.save_model(
                    s,
                    a.trial_id,
                    self.problem.package(payload),  # with the job's preprocessing
                    meta={"number": a.number, "val_metric": value},
                )
        if status == "finished":
            self.finished.add(a.number)
            self.best = value if keep else self.best
        if status in ("pruned", "diverged"):
            self.books.saved += self.max_epochs - len(curve)
        if status == "failed" and a.attempt < DEFAULT_MAX_ATTEMPTS:
            del self.curves[a.number]
            return  # it will be retried under the same number; tell the searcher then
        self._tell(a.number, a.candidate, status, value, a.n_params, curve)

    def _tell(
        self,
        number: int,
        candidate: Candidate,
        status: str,
        value: float | None,
        n_params: int,
        curve: list[float],
    ) -> None:
        obs = Observation(candidate, status, value, n_params, len(curve), tuple(curve))
        with self.timings.part(SEARCHER):
            self.searcher.tell(candidate, obs)
            self.books.told.add(number)
            state = self._state()
        with self.timings.part(STORE), self.store.session() as s:
            db.save_searcher_state(s, self.job_id, state, runner=self.runner)
        if self.progress is not None:
            self.progress(
                Progress(
                    len(self.books.told),
                    self.spec.budget.trials,
                    self.best,
                    round(self.books.spent),
                    self.books.saved,
                )
            )

    def _refit(self) -> None:
        """Train the chosen trial again on train + validation rows (spec.refit, search/refit.py).

        The choice is the leaderboard's (validation metric), or with spec.selection on
        small data the best of its top trials by k-fold cross-validation (search/
        selection.py), made before and without the refit; a rerun after a crash refits
        again and overwrites the same record.
        """
        selection = self.spec.selection
        with self.timings.part(STORE), self.store.session() as s:
            chosen = db.leaderboard(s, self.job_id, k=selection.top if selection else 1)
            if not chosen:
                return
            contenders = []
            for t in chosen:
                assert t.seed is not None  # every trial records the seed it trained from
                curve = [p.val_metric for p in db.curve(s, t.id, limit=self.max_epochs)]
                candidate = Candidate.model_validate(t.params)
                contenders.append(Contender(t.number, candidate, t.seed, best_epoch(curve)))
            trial_id, value = chosen[0].id, chosen[0].val_metric
        with self.timings.part(REFIT):
            final = final_model(
                contenders,
                self.problem.data,
                self.problem.classification,
                seed=self.spec.seed,
                refit_seeds=self.spec.refit_seeds,
                selection=selection,
            )
        with self.timings.part(STORE), self.store.session() as s:
            # the job's model is its best trial's (db.best_model); when cross-validation
            # chose another, meta's number says which trial's network it is
            db.save_refit(
                s,
                trial_id,
                epochs=final.epochs,
                test_metric=final.test_metric,
                payload=None if final.model is None else self.problem.package(final.model),
                meta={"val_metric": value} | final.meta,
            )

    # -- persistence --------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {"searcher": self.searcher.state(), "told": sorted(self.books.told)}

    def _resume(self) -> None:
        """Rebuild curves, budget books and the searcher from the store (a restarted run)."""
        with self.timings.part(STORE), self.store.session() as s:
            job = db.get_job(s, self.job_id)
            assert job is not None
            state = job.searcher_state or {}
            if state.get("searcher"):
                self.searcher.load_state(state["searcher"])
            self.books.told = set(state.get("told", []))
            # only the candidates the saved searcher still awaits are told: a trial a runner
            # wrote after it lost the job (its state saves no longer landed) is kept, but the
            # searcher never asked for it in the state it resumes from
            saved = state.get("searcher", {}).get("pending", [])
            pending = {c.key(): c for c in map(Candidate.model_validate, saved)}
            trials = db.list_trials(s, self.job_id)
            costs = db.epochs_cost(s, self.job_id)
            self.books.spent += db.proxies_cost(s, self.job_id)
            for t in trials:
                self.books.started += 1
                self.books.spent += costs.get(t.id, 0.0)
                retry = t.status == "failed" and t.attempt < DEFAULT_MAX_ATTEMPTS
                if t.status == "running" or retry:
                    continue  # claim_retry trains it again, then it is told
                points = db.curve(s, t.id, limit=self.max_epochs)
                curve = [float("nan") if p.val_metric is None else p.val_metric for p in points]
                if t.status in ("finished", "pruned", "diverged"):
                    self.curves[t.number] = curve
                if t.status in ("finished", "pruned") and _finite(t.val_metric) is not None:
                    self.kept.admit(float(t.val_metric))  # type: ignore[arg-type]
                if t.status == "finished":
                    self.finished.add(t.number)
                    if t.val_metric is not None and (self.best is None or t.val_metric > self.best):
                        self.best = t.val_metric
                if t.status in ("pruned", "diverged"):
                    self.books.saved += self.max_epochs - len(curve)
                candidate = Candidate.model_validate(t.params)
                if t.number not in self.books.told and candidate.key() in pending:
                    # ended, but the run died before telling
                    value = _finite(t.val_metric) if t.status in ("finished", "pruned") else None
                    self._tell(
                        t.number,
                        candidate,
                        t.status,
                        value,
                        int(t.n_params or 0),
                        curve,
                    )
        started = {Candidate.model_validate(t.params).key() for t in trials}
        for key, lost in pending.items():
            if key not in started:  # asked, then the run died before its trial began
                with self.timings.part(SEARCHER):
                    self.searcher.tell(lost, Observation(lost, "failed", None, 0, 0))

    def _heartbeat(self) -> bool:
        """Go on? False when told to stop or when the job is no longer ours (cancelled). The
        store is asked at most every HEARTBEAT_SECONDS; the write carries the time books."""
        if self.keep_going is not None and not self.keep_going():
            return False
        now = time.monotonic()
        if now - self._last_beat < HEARTBEAT_SECONDS:
            return True
        self._last_beat = now
        with self.timings.part(STORE), self.store.session() as s:
            return db.heartbeat_job(
                s, self.job_id, runner=self.runner, timings=self.timings.snapshot()
            )

    def _abandon(self, why: str) -> str:
        """The job was cancelled or taken over: stop its trials, write nothing more."""
        for a in list(self.active.values()):
            self.executor.discard(a.number)
            with self.timings.part(STORE), self.store.session() as s:
                db.end_trial(s, a.trial_id, status="failed", error=why, attempt=a.attempt)
        self.active.clear()
        return why
