"""`arrears replay --store URL`: the replayed history as a store holds it.

What the store gets (arrears.engine.store.replaystore.write_history writes it):

- the accounts and their invoices issued by the end of the period (`--to`);
- the file's recorded events up to the end of the period, each at the start of its day in
  the debtor's zone, as the replay had them: `payment` and `write_off` of the whole invoice,
  `dispute_opened`, `dispute_resolved`;
- every contact the replay sent, warm-up included, as a `contact_attempt` with outcome `sent`
  on the channel kind it went out on, with its stage;
- one decision per change of stage the replay made, at the start of the debtor's local day
  it was decided on (which is what the KPIs read from decisions: the stage of each day).

Events carry keys (`replay:payment:INVOICE`, `replay:contact:INSTANT:STAGE` ...), and the
record time is the end of the period, so two stores of one replay hold the same rows.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES, epoch_day
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.model import CHANNEL_KINDS, Event
from arrears.engine.domain.money import from_minor
from arrears.engine.store.replaystore import write_history

_TYPES = {code: name for name, code in EVENT_CODES.items()}


def store_run(run, store, source: str = "") -> dict:
    """Write `run`'s history to `store` (an empty one); returns what was stored."""
    hist = run.history
    rows = np.arange(hist.n)
    end_at = hist.midnight(rows, np.full(hist.n, epoch_day(run.end) + 1)) if hist.n else np.zeros(0, np.int64)
    accounts = [dataclasses.replace(a, invoices=tuple(i for i in a.invoices if i.issued_date <= run.end))
                for a in run.data.accounts]
    events = _recorded(hist, end_at) + _contacts(hist, end_at)
    p = run.policy
    decisions = _decisions(run, end_at)
    now = int(end_at.max(initial=0))
    head = {"file": source, "from": run.start.isoformat(), "to": run.end.isoformat(),
            "policy": {"name": p.name, "version": p.version, "digest": p.digest}}
    return write_history(store, accounts, events, decisions, now=now, source=head)


def _recorded(hist, end_at: np.ndarray) -> list:
    """The file's events up to the end of the period."""
    b, out = hist.base, []
    for acct, at, code, amount, inv in zip(hist.s_acct.tolist(), hist.s_at.tolist(), hist.s_type.tolist(),
                                           hist.s_amount.tolist(), hist.s_inv.tolist()):
        if at >= end_at[acct]:
            continue
        kind, invoice = _TYPES[code], str(b.inv_id[inv])
        cur = b.currency[acct]
        ev = Event(type=kind, at=from_epoch(at), invoice_id=invoice,
                   amount=from_minor(amount, cur) if kind in ("payment", "write_off") else None)
        out.append((b.ids[acct], ev, f"replay:{kind}:{invoice}"))
    return out


def _contacts(hist, end_at: np.ndarray) -> list:
    """Every contact the replay sent before the end of the period (warm-up included)."""
    c, b, out = hist.all_contacts(), hist.base, []
    for acct, at, kind, stage in zip(c["acct"].tolist(), c["at"].tolist(), c["kind"].tolist(),
                                     c["stage"].tolist()):
        if at >= end_at[acct]:
            continue
        name = hist.stage_ids[stage]
        ev = Event(type="contact_attempt", at=from_epoch(at), channel=CHANNEL_KINDS[kind], stage=name,
                   outcome="sent")
        out.append((b.ids[acct], ev, f"replay:contact:{at}:{name}"))
    return out


def _decisions(run, end_at: np.ndarray) -> list:
    """One decision per change of stage, at the start of the local day it was made on."""
    hist, s = run.history, run.record.stages.view()
    if not len(s["acct"]):
        return []
    at = hist.midnight(s["acct"], s["day"].astype(np.int64))
    digest, out = run.policy.digest, []
    for acct, when, stage in zip(s["acct"].tolist(), at.tolist(), s["stage"].tolist()):
        if when >= end_at[acct]:
            continue
        name = hist.stage_ids[stage]
        out.append((hist.base.ids[acct], when, digest, name, {"source": "replay", "stage": name}))
    return out
