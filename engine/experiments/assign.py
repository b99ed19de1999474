"""Each debtor's strategy: a deterministic, sticky draw from the experiment's salt and the debtor id.

A debtor's draw is the first 8 bytes of SHA-256(salt, 0x1f, debtor id) read as an unsigned
64-bit number, so uniform on 0 .. 2**64 - 1 and independent of every other debtor's; the
strategies' shares cut that range into consecutive intervals (the champion's first), at
exact fractions of 2**64. The same salt and debtor give the same strategy in every process,
on every machine, forever; a new salt gives an independent split. The tick records each
debtor's strategy at its first evaluation (`arrears.engine.store.experiments`), so a later
change of eligibility cannot move it either.
"""
from __future__ import annotations

import hashlib
from fractions import Fraction

import numpy as np

INELIGIBLE = "ineligible"       # the arm of a debtor that does not meet the eligibility: the champion decides
_RANGE = 1 << 64


def draws(salt: str, debtors) -> np.ndarray:
    """Each debtor's draw, uint64 (see the module docstring)."""
    prefix = salt.encode("utf-8") + b"\x1f"
    sha = hashlib.sha256
    return np.fromiter((int.from_bytes(sha(prefix + str(d).encode("utf-8")).digest()[:8], "big") for d in debtors),
                       dtype=np.uint64, count=len(debtors))


def bounds(shares) -> np.ndarray:
    """The upper ends (exclusive) of each strategy's interval of draws but the last, uint64."""
    out, total = [], Fraction(0)
    for share in list(shares)[:-1]:
        total += Fraction(share)
        out.append(min(int(total * _RANGE), _RANGE - 1))
    return np.asarray(out, dtype=np.uint64)


def arms(experiment, debtors) -> np.ndarray:
    """The strategy name (object array) of each of `debtors` under `experiment`, ignoring eligibility."""
    names = np.asarray([arm.name for arm in experiment.arms], dtype=object)
    index = np.searchsorted(bounds(arm.share for arm in experiment.arms), draws(experiment.salt, debtors),
                            side="right")
    return names[index]
