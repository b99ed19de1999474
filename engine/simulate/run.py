"""`simulate`: decide every stored account under two policies at one instant and compare.

Pages of accounts are read in acct_no order, each page in one read snapshot, with the
tick's loader (`Store.batches`: `arrears.engine.store.batchload.load_batch`); each page is
decided column-wise by both policies (`arrears.engine.decisions.core.decide_batch`) from the
same `Batch`, then compared (`arrears.engine.simulate.tally`). Unlike the tick it pages
over *every* account, not only the due ones, and it writes nothing: no decision, no outbox
row, no audit entry, no `next_evaluation_at`. Only read transactions are opened.
"""
from __future__ import annotations

from datetime import datetime

from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain.clock import as_epoch
from arrears.engine.policy.compiler import CompiledPolicy
from arrears.engine.simulate.capacity import Capacity
from arrears.engine.simulate.report import SimulationReport
from arrears.engine.simulate.tally import Tally

DEFAULT_BATCH = 10_000     # accounts per page, as the tick's default
DEFAULT_SAMPLE = 20


def simulate(store, active: CompiledPolicy, candidate: CompiledPolicy, at: datetime, *,
             batch_size: int = DEFAULT_BATCH, sample: int = DEFAULT_SAMPLE, progress=None,
             capacity: Capacity | None = None) -> SimulationReport:
    """Compare `candidate` with `active` over every account in `store` at the instant `at`.

    `sample`: how many accounts each sample (stage changes, newly suppressed, newly
    released) shows; `progress(done, total)` is called after each page; `capacity`: the
    daily capacity per delivery kind (default: every kind unlimited). Read-only.
    """
    as_epoch(at)                                     # refuses a naive `at` before any work
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 0:
        raise ValueError(f"sample must be a whole number >= 0, got {sample!r}")
    tally = Tally(active, candidate, capacity or Capacity(), sample)
    total = store.account_count() if progress else 0
    for batch in store.batches(batch_size):
        tally.add(decide_batch(batch, active, at), decide_batch(batch, candidate, at))
        if progress:
            progress(tally.accounts, max(total, tally.accounts))
    return tally.report(at)

