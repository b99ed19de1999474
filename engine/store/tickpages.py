"""The pages of a distributed tick: what the leader enqueued, and which the workers have done.

    tickpages.queue(engine, tick, "evaluate", [(0, 9_871), (1, 10_002)], run_id=7, now=t)
    with store.tick_page() as conn:            # the worker's page transaction
        ...                                    # the page's own writes
        if not tickpages.finish(conn, tick, "evaluate", 0, "done", counts, worker, t):
            raise PageDone                     # another delivery of this page finished it: roll back
    tickpages.progress(engine, tick, "evaluate")   # {"queued": 1, "done": 1, ...}, summed counts

A page is `queued` until its worker marks it `done` (or `stopped`: the policy changed) in the
page's own write transaction, and only a `queued` page can be finished: a page the broker
delivers twice (a worker died before acknowledging it, a visibility timeout passed) is
written once, and the leader, which polls `progress`, counts it once. The pages a dead
leader's run left queued are `stopped` when the run is recorded abandoned (`abandon`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, func, insert, select, update

from arrears.engine.store.codec import canonical
from arrears.engine.store.db import read_transaction, write_transaction
from arrears.engine.store.schema import tick_pages

KINDS = ("evaluate", "deliver")
KEEP_DAYS = 7               # pages of ticks finished longer ago than this are removed (`prune`)
STATUSES = ("queued", "done", "stopped")
ABANDONED = "its tick's leader stopped before the end: the next tick decides its accounts"


@dataclass
class Progress:
    """Where a distributed tick's pages of one kind stand."""

    statuses: dict = field(default_factory=dict)     # status -> pages
    counts: dict = field(default_factory=dict)       # the finished pages' counts, summed
    lists: dict = field(default_factory=dict)        # list-valued counts (plugin failures), joined
    notes: list = field(default_factory=list)        # why pages stopped
    last_finished: float | None = None

    @property
    def queued(self) -> int:
        """Pages not finished yet."""
        return self.statuses.get("queued", 0)


def queue(engine, tick: str, kind: str, pages: list[tuple[int, int]], *, run_id: int | None,
          now: float) -> None:
    """Record `pages` ((page_no, items) each) of `tick` as queued, in one transaction."""
    if kind not in KINDS:
        raise ValueError(f"bad page kind {kind!r}")
    if not pages:
        return
    rows = [{"tick": tick, "kind": kind, "page_no": int(no), "run_id": run_id, "status": "queued",
             "items": int(items), "queued_at": float(now), "finished_at": None, "worker": None,
             "counts": None} for no, items in pages]
    with write_transaction(engine) as conn:
        conn.execute(insert(tick_pages), rows)


def status(conn: Connection, tick: str, kind: str, page_no: int) -> str | None:
    """The page's status (None if the leader never queued it)."""
    t = tick_pages.c
    return conn.execute(select(t.status).where(t.tick == tick, t.kind == kind, t.page_no == page_no)).scalar()


def finish(conn: Connection, tick: str, kind: str, page_no: int, outcome: str, counts: dict,
           worker: str, now: float) -> bool:
    """Mark a queued page `done` or `stopped` with its `counts`; False if it is not queued
    (another delivery of it finished it first). Call it in the page's own transaction."""
    if outcome not in STATUSES[1:]:
        raise ValueError(f"{outcome!r} is not a final page status")
    t = tick_pages.c
    stmt = (update(tick_pages).where(t.tick == tick, t.kind == kind, t.page_no == page_no, t.status == "queued")
            .values(status=outcome, counts=canonical(counts), worker=worker, finished_at=float(now)))
    return conn.execute(stmt).rowcount == 1


def abandon(conn: Connection, run_ids: list[int], now: float) -> int:
    """Stop the pages still queued of runs recorded abandoned (their leader died); returns how
    many. A leader killed between recording a page and sending its task leaves a page no one
    will send, queued for ever. A task of such a page still at the broker then finds it
    finished and writes nothing: its accounts are still due, and the next tick decides them."""
    if not run_ids:
        return 0
    t = tick_pages.c
    stmt = (update(tick_pages).where(t.run_id.in_(run_ids), t.status == "queued")
            .values(status="stopped", counts=canonical({"stopped": ABANDONED}), finished_at=float(now)))
    return conn.execute(stmt).rowcount


def finish_alone(engine, tick: str, kind: str, page_no: int, outcome: str, counts: dict, worker: str,
                 now: float, *, merge: bool = False) -> bool:
    """`finish` in a transaction of its own (a page that wrote nothing, or whose writes are
    each their own transaction, as a delivery part's). `merge`: if the page was finished
    already, add `counts` to its counts (a delivery part run twice at once: each run counts
    only the rows it claimed itself, so the sum is what the part did); still returns False."""
    with write_transaction(engine) as conn:
        if finish(conn, tick, kind, page_no, outcome, counts, worker, now):
            return True
        if merge:
            t = tick_pages.c
            where = (t.tick == tick, t.kind == kind, t.page_no == page_no)
            row = conn.execute(select(t.counts).where(*where).with_for_update()).first()
            if row is not None and row.counts is not None:
                conn.execute(update(tick_pages).where(*where).values(counts=canonical(_add(json.loads(row.counts),
                                                                                            counts))))
        return False


def _add(old: dict, new: dict) -> dict:
    out = dict(old)
    for name, value in new.items():
        if isinstance(value, (int, float)) and isinstance(out.get(name, 0), (int, float)):
            out[name] = out.get(name, 0) + value
        elif isinstance(value, list):
            out[name] = list(out.get(name) or []) + value
    return out


def progress(engine, tick: str, kind: str) -> Progress:
    """The pages of `tick` of `kind` by status, and the finished ones' counts summed."""
    t = tick_pages.c
    out = Progress()
    with read_transaction(engine) as conn:
        for row in conn.execute(select(t.status, t.counts, t.finished_at).where(t.tick == tick, t.kind == kind)):
            out.statuses[row.status] = out.statuses.get(row.status, 0) + 1
            if row.counts is None:
                continue
            out.last_finished = max(out.last_finished or 0.0, row.finished_at or 0.0)
            for name, value in json.loads(row.counts).items():
                if isinstance(value, list):
                    out.lists.setdefault(name, []).extend(value)
                elif isinstance(value, str):
                    out.notes.append(value)
                elif value is not None:
                    out.counts[name] = out.counts.get(name, 0) + value
    return out


def prune(engine, now: float, keep_days: float = KEEP_DAYS) -> int:
    """Remove the finished pages queued more than `keep_days` days before `now`; returns how
    many. (A page still queued that long stays: `arrears status` shows it.)"""
    t = tick_pages.c
    with write_transaction(engine) as conn:
        return conn.execute(delete(tick_pages).where(t.status != "queued",
                                                     t.queued_at < now - keep_days * 86400)).rowcount


def queued_pages(engine, tick: str, kind: str) -> list[int]:
    """The numbers of the pages of `tick` of `kind` still queued."""
    t = tick_pages.c
    with read_transaction(engine) as conn:
        return list(conn.execute(select(t.page_no).where(t.tick == tick, t.kind == kind, t.status == "queued")
                                 .order_by(t.page_no)).scalars())


def in_flight(engine) -> dict[str, int]:
    """Queued pages of every kind, over all ticks (for /metrics)."""
    t = tick_pages.c
    with read_transaction(engine) as conn:
        rows = conn.execute(select(t.kind, func.count()).where(t.status == "queued").group_by(t.kind)).all()
    return {kind: 0 for kind in KINDS} | {kind: int(n) for kind, n in rows}


def workers(engine, since: float) -> list[dict]:
    """The workers that finished pages after `since` (wall clock): worker, pages, items, last."""
    t = tick_pages.c
    stmt = (select(t.worker, func.count(), func.sum(t["items"]), func.max(t.finished_at))
            .where(t.worker.is_not(None), t.finished_at >= since).group_by(t.worker).order_by(t.worker))
    with read_transaction(engine) as conn:
        return [{"worker": w, "pages": int(n), "items": int(items or 0), "last": last}
                for w, n, items, last in conn.execute(stmt)]
