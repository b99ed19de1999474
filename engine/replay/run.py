"""The replay's day loop: the live tick's evaluation and delivery, on a simulated clock.

At every tick with anything due (see `arrears.engine.replay.clock`), the due accounts are cut
from the simulated history as the store would hold them then, decided column-wise by
`decide_batch`, exactly as `arrears.engine.tick.evaluate` does, and summarised by the tick's own
`arrears.engine.tick.columns.summarise`. A contact the decision allows now goes out now: it is
recorded as a `contact_attempt` with outcome `sent` (the replay assumes delivery), which
makes the account due again at the next tick, as the delivery event does in the store.
Pages hold whole debtors, as the tick's do (`arrears.engine.replay.pages`). That is a live
tick with a zero horizon, a dispatcher that always succeeds, and no
debtor response other than the payments, disputes and write-offs the file records.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np

from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain import tzutil
from arrears.engine.domain.batch import KIND_CODES, NO_DAY, day_to_date, epoch_day
from arrears.engine.domain.clock import FAR, from_epoch
from arrears.engine.policy.compiler import CompiledPolicy
from arrears.engine.replay.clock import Clock
from arrears.engine.replay.csvmap import ReplayInput
from arrears.engine.replay.history import History
from arrears.engine.replay.pages import DebtorPages
from arrears.engine.replay.record import Recorder
from arrears.engine.tick import columns

DAY = 86400
DEFAULT_TICK = 86400          # seconds between simulated ticks: one a day, at 00:00 UTC
DEFAULT_BATCH = 10_000        # accounts per decided page, as the tick's default


@dataclass
class ReplayRun:
    """A finished replay: its inputs, the simulated history and the record of the period."""

    data: ReplayInput
    policy: CompiledPolicy
    start: date
    end: date
    simulated_from: date
    tick: int
    history: History
    record: Recorder
    ticks: int = 0
    evaluations: int = 0      # every evaluation, warm-up included
    seconds: float = 0.0


def warmup_day(hist: History, start_day: int) -> int:
    """First local day to simulate: the invoice date of the oldest invoice still open at
    the start of the period, so the engine's own earlier contacts shape its state there."""
    closed = np.minimum(np.where(hist.inv_settled == NO_DAY, FAR, hist.inv_settled),
                        np.where(hist.inv_written_off == NO_DAY, FAR, hist.inv_written_off))
    live = (closed >= start_day) & (hist.inv_issued < start_day)
    return int(min(start_day, hist.inv_issued[live].min(initial=start_day)))


def replay(data: ReplayInput, policy, start: date, end: date, *, tick: int = DEFAULT_TICK,
           batch_size: int = DEFAULT_BATCH, progress=None) -> ReplayRun:
    """Replay `data` under `policy` over the local days `start..end` (both included).

    `progress(days_done, days_total, evaluations)` is called as simulated days pass.
    """
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    if tick <= 0 or DAY % tick:
        raise ValueError(f"the tick must divide a day into whole seconds, got {tick}")
    started = time.perf_counter()
    hist = History(data, policy)
    start_day, end_day = epoch_day(start), epoch_day(end)
    first_day = warmup_day(hist, start_day)
    run = ReplayRun(data, policy, start, end, simulated_from=day_to_date(first_day),
                    tick=tick, history=hist, record=Recorder(hist.n, start_day, end_day))
    rows = np.arange(hist.n)
    end_at = hist.midnight(rows, np.full(hist.n, end_day + 1))
    clock = Clock(hist.n, tick, *_wakeups(hist, end_at), end_at)
    channel_of = _channel_tables(policy)
    pager = DebtorPages(hist.base.debtor)      # a debtor's accounts are decided in one page
    if hist.n:
        begin = int(hist.midnight(rows, np.full(hist.n, first_day)).min())
        first = now = clock.first_tick(begin)
        total_days, last_day = (int(end_at.max()) - first) // DAY + 1, None
        while now is not None:
            day = (now - first) // DAY
            if day != last_day:           # a new simulated (UTC) day
                hist.settle_contacts()
                run.record.end_of_day()
                if progress is not None:
                    progress(min(day, total_days), total_days, run.evaluations)
                last_day = day
            due = clock.due(now)
            for page in pager.pages(due, batch_size, now < clock.end_at):
                _evaluate(run, clock, channel_of, page, now)
            run.ticks += bool(len(due))
            now = clock.next_tick(now)
        if progress is not None:
            progress(total_days, total_days, run.evaluations)
    hist.settle_contacts()
    run.record.end_of_day()
    run.seconds = time.perf_counter() - started
    return run


def _evaluate(run: ReplayRun, clock: Clock, channel_of, rows: np.ndarray, now: int) -> None:
    """Decide one page at `now`, send what goes out before the next tick, schedule the rest."""
    hist = run.history
    db = decide_batch(hist.batch(rows, now), run.policy, from_epoch(now))
    cols = columns.summarise(db)
    run.evaluations += len(rows)
    queued = np.flatnonzero(cols.action_ok & (cols.not_before < now + run.tick))
    acct = rows[queued]
    send_at = np.maximum(cols.not_before[queued], now)
    # The dispatcher's re-check: a change recorded before the send time cancels the
    # contact (the account is due at the next tick anyway); so does the end of the replay.
    go = ~clock.changes_between(acct, now, send_at) & (send_at < clock.end_at[acct])
    sent, send_at = queued[go], send_at[go]
    stage, chan = db.steps.step[sent], db.guarded.channel[sent]
    kinds, codes = channel_of[0][stage, chan], channel_of[1][stage, chan]
    days = tzutil.local_days(hist.zones, hist.base.tz[rows[sent]], send_at)
    run.record.page(db, rows, sent, send_at, days, codes)
    clock.evaluated(rows, cols.next_eval)
    if sent.size:
        hist.add_contacts(rows[sent], send_at, kinds, stage)
        clock.changed(rows[sent], now)


def _channel_tables(policy) -> tuple[np.ndarray, np.ndarray]:
    """(channel kind code, policy channel number) per (stage, channel position in the stage)."""
    names = list(policy.channels)
    width = max((len(s.channels) for s in policy.stages), default=1)
    kinds = np.full((max(len(policy.stages), 1), width), -1, dtype=np.int8)
    codes = np.full(kinds.shape, -1, dtype=np.int16)
    for s in policy.stages:
        for i, name in enumerate(s.channels):
            kinds[s.index, i] = KIND_CODES[policy.channels[name]]
            codes[s.index, i] = names.index(name)
    return kinds, codes


def _wakeups(hist: History, end_at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(account, instant) of every recorded change: invoices issued, recorded events."""
    b = hist.base
    acct = np.concatenate((b.inv_acct.astype(np.int64), hist.s_acct.astype(np.int64)))
    at = np.concatenate((hist.visible_at, hist.s_at))
    keep = at < end_at[acct]
    return acct[keep], at[keep]
