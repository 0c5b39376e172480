"""nas-service: neural architecture search for tabular data.

The core package: the NumPy trainer (nas.nn), data sets, search spaces, searchers,
learning-curve stopping, the search driver and the SQL store. It never imports Ray or
FastAPI; those live in workers/ and api/.
"""

__version__ = "0.1.0"
