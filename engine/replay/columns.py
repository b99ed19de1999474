"""Small column helpers of the replay: growing typed columns, CSR gathers, object arrays."""
from __future__ import annotations

import numpy as np


class GrowingColumns:
    """Typed numpy columns appended to in chunks, with amortised doubling (no per-row Python).

    `view()` is the rows not yet taken; `take()` returns them and starts afresh.
    """

    def __init__(self, **dtypes):
        self.dtypes = {name: np.dtype(dt) for name, dt in dtypes.items()}
        self.cols = {name: np.empty(1024, dtype=dt) for name, dt in self.dtypes.items()}
        self.size = 0

    def empty(self) -> dict:
        """Zero-length columns of the right types."""
        return {name: np.empty(0, dtype=dt) for name, dt in self.dtypes.items()}

    def extend(self, **values) -> None:
        """Append equal-length arrays, one per column."""
        m = len(next(iter(values.values())))
        if not m:
            return
        end = self.size + m
        if end > len(next(iter(self.cols.values()))):
            cap = max(end, 2 * len(next(iter(self.cols.values()))))
            for name, col in self.cols.items():
                grown = np.empty(cap, dtype=col.dtype)
                grown[:self.size] = col[:self.size]
                self.cols[name] = grown
        for name, value in values.items():
            self.cols[name][self.size:end] = value
        self.size = end

    def view(self) -> dict:
        """The rows appended since the last `take` (views, not copies)."""
        return {name: col[:self.size] for name, col in self.cols.items()}

    def take(self) -> dict:
        """The rows appended since the last `take` (copies); the columns are emptied."""
        out = {name: col[:self.size].copy() for name, col in self.cols.items()}
        self.size = 0
        return out


def gather(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entries of `rows` in CSR offsets `ptr`: (entry indexes, position of their row in `rows`).

    Entries come row by row in the order of `rows`, each row's in stored order.
    """
    start, stop = ptr[rows], ptr[rows + 1]
    counts = stop - start
    total = int(counts.sum())
    pos = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    if not total:
        return np.empty(0, dtype=np.int64), pos
    # index = start of its row + rank within the row
    first = np.cumsum(counts) - counts
    idx = np.arange(total, dtype=np.int64) - np.repeat(first - start, counts)
    return idx, pos


def obj_array(values: list) -> np.ndarray:
    """An object array that keeps tuples and frozensets as single elements."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
