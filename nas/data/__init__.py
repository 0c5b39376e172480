"""Data: built-in and CSV data sets, uploads, and the one split of a job's rows."""

from nas.data.builtin import BUILTINS, SYNTHETIC, SYNTHETIC_ROWS, load_builtin, synthetic
from nas.data.dataset import DataError, Dataset, Split, from_npz, split, to_npz
from nas.data.reader import load_csv

__all__ = [
    "BUILTINS",
    "SYNTHETIC",
    "SYNTHETIC_ROWS",
    "DataError",
    "Dataset",
    "Split",
    "from_npz",
    "load_builtin",
    "load_csv",
    "split",
    "synthetic",
    "to_npz",
]
