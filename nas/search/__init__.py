"""The search: the driver's loop (ask, train in rungs, record, stop or continue, tell),
the trials it trains, the executors that train them, cheaper evaluations (data fraction,
proxies), the refit of the chosen trial, the ensemble of the best trials, and the job
runner that drives queued jobs."""

from nas.search.driver import Progress, SearchDriver, trial_seed
from nas.search.ensemble import Ensemble
from nas.search.problem import Problem, load_problem, local_executor, submit_and_claim

__all__ = [
    "Ensemble",
    "Problem",
    "Progress",
    "SearchDriver",
    "load_problem",
    "local_executor",
    "submit_and_claim",
    "trial_seed",
]
