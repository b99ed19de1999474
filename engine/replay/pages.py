"""The replay's pages of due accounts, each holding whole debtors, as the live tick's.

A per-debtor rule (a `frequency_cap` with `scope: debtor`) counts the contacts of every
account of the debtor in the page, so a debtor whose accounts fall in different pages
would escape it. As the tick does (`arrears.engine.store.debtors`), a page holds every
account of each debtor in it, the due ones and the others: a debtor's accounts are
decided together at each tick at which any of them is due.
"""
from __future__ import annotations

import numpy as np


class DebtorPages:
    """Cuts the due rows of a replay into pages of whole debtors."""

    def __init__(self, debtor: np.ndarray):
        """`debtor`: each account's debtor key (its `debtor_id`, else its own id)."""
        _, code, counts = np.unique(np.asarray(debtor, dtype=str), return_inverse=True, return_counts=True)
        self.code = code.reshape(-1).astype(np.int64)
        self.shared = counts[self.code] > 1          # accounts whose debtor has other accounts
        self.members = np.argsort(self.code, kind="stable")     # rows by debtor, then row
        self.ptr = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.ptr[1:])

    def pages(self, due: np.ndarray, size: int, live: np.ndarray) -> list[np.ndarray]:
        """Pages (each strictly increasing rows) of the `due` rows (increasing) and their
        debtors' other accounts that are still `live` (a mask over every row), each page
        about `size` rows and never splitting a debtor."""
        shared = due[self.shared[due]]
        if not len(shared):
            return [due[i:i + size] for i in range(0, len(due), size)]
        groups = np.unique(self.code[shared])
        extra = np.concatenate([self.members[self.ptr[g]:self.ptr[g + 1]] for g in groups.tolist()])
        rows = np.union1d(due, extra[live[extra]])
        if len(rows) <= size:
            return [rows]
        code = self.code[rows]
        order = np.lexsort((rows, code))              # by debtor, then row
        by_debtor, codes = rows[order], code[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        at = np.searchsorted(starts, np.arange(size, len(by_debtor), size))
        cuts = np.unique(starts[at[at < len(starts)]])
        return [np.sort(page) for page in np.split(by_debtor, cuts) if len(page)]
