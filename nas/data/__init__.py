"""Data: built-in and CSV data sets (one reader, pandas), uploads, the one split of a job's
rows, and the preprocessing fitted on its training rows that travels with the model."""

from nas.data.builtin import BUILTINS, SYNTHETIC, SYNTHETIC_ROWS, load_builtin, synthetic
from nas.data.dataset import DataError, Dataset, Split, from_npz, split, split_rows, to_npz
from nas.data.preprocess import Prepared, check_drop, check_refusals, fit_preprocessing, prepare
from nas.data.reader import load_csv, read_csv, read_rows

__all__ = [
    "BUILTINS",
    "SYNTHETIC",
    "SYNTHETIC_ROWS",
    "DataError",
    "Dataset",
    "Prepared",
    "Split",
    "check_drop",
    "check_refusals",
    "fit_preprocessing",
    "from_npz",
    "load_builtin",
    "load_csv",
    "prepare",
    "read_csv",
    "read_rows",
    "split",
    "split_rows",
    "synthetic",
    "to_npz",
]
