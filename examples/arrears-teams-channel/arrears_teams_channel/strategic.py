"""A fact for policies: is the debtor on the strategic-customer list kept in the CRM?

The account managers keep the list in the CRM; a nightly export writes it as a text file
with one debtor id per line (blank lines and `#` comments are ignored), and the
environment variable ``ARREARS_TEAMS_STRATEGIC_FILE`` names that file. Policies test it
as ``{fact: x_teams_strategic_customer, eq: true}``.

The column is computed for a whole batch at once (one file read per change of the file,
one vectorised lookup per batch). If the variable is unset or the file cannot be read,
computing raises: the engine then treats the fact as unknown for that batch, records the
failure and goes on (see docs/plugin-guide.md), so a policy says which way an unknown
falls with ``exists``.
"""
from __future__ import annotations

import functools
import os

import numpy as np

from arrears.engine.facts.catalogue import BOOL
from arrears.plugins.facts import PluginFact

ENV = "ARREARS_TEAMS_STRATEGIC_FILE"
NAME = "x_teams_strategic_customer"


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int, size: int) -> np.ndarray:
    """The sorted debtor ids in the file (cached per path and version of the file)."""
    with open(path, encoding="utf-8") as fh:
        ids = {line.split("#", 1)[0].strip() for line in fh}
    ids.discard("")
    return np.array(sorted(ids), dtype=str)


def strategic_debtors(path: str) -> np.ndarray:
    """The debtor ids on the list at `path`, re-read when the file changes."""
    stat = os.stat(path)
    return _read(path, stat.st_mtime_ns, stat.st_size)


def strategic_customer(facts) -> np.ndarray:
    """True for the accounts whose debtor is on the list (one bool per account of the batch)."""
    path = os.environ.get(ENV)
    if not path:
        raise LookupError(f"set {ENV} to the strategic-customer list (one debtor id per line)")
    # `facts.b.debtor` is the debtor id, or the account id when the account has none.
    debtors = np.asarray(facts.b.debtor, dtype=str) if facts.n else np.empty(0, dtype=str)
    return np.isin(debtors, strategic_debtors(path))


FACT = PluginFact(
    NAME, BOOL,
    "The debtor is on the account managers' strategic-customer list (a CRM export named by "
    f"${ENV}).",
    strategic_customer)
