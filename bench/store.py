"""Benchmark of the store on a SQLite file (not collected by pytest: run it as a script).

    python bench/store.py [--accounts 100000] [--events 1000000] [--db /tmp/bench.db]

Prints: bulk upsert of N generated accounts (and a no-op re-upsert), append of M events
(with and without idempotency keys), the due-page scan, and `load_batch` throughput
compared with `Batch.from_objects` over the same accounts.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from portfolio import generate  # noqa: E402

from arrears.engine import Batch  # noqa: E402
from arrears.engine.domain.model import Event  # noqa: E402
from arrears.engine.store import Store  # noqa: E402

NOW = datetime(2026, 11, 22, 15, tzinfo=timezone.utc)


def _timed(label: str, fn, n: int | None = None, unit: str = "rows"):
    # CPU time is printed too: on a shared machine it is the steadier figure.
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = f" ({n / took:,.0f} {unit}/s wall, {n / cpu:,.0f}/s CPU)" if n else ""
    print(f"{label}: {took:.2f} s wall, {cpu:.2f} s CPU{rate}", flush=True)
    return result


def extra_events(accounts, total: int) -> list:
    """`total` small events spread over the accounts (notes and contact outcomes)."""
    out = []
    start = NOW - timedelta(days=400)
    for k in range(total):
        acc = accounts[k % len(accounts)]
        at = start + timedelta(minutes=k)
        if k % 2:
            ev = Event("note", at)
        else:
            ev = Event("contact_outcome", at, channel="call", outcome="no_answer", stage="personal_call")
        out.append((acc.id, ev, f"bench-{k}" if k % 4 == 0 else None))
    return out


def main(argv=None) -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--db", default=None, help="SQLite file (default: a fresh temporary file)")
    args = ap.parse_args(argv)
    path = args.db or os.path.join(tempfile.mkdtemp(), "bench.db")
    accounts, histories = generate(args.accounts, 1, NOW.date())
    n = len(accounts)
    store = Store(f"sqlite:///{path}")
    _timed(f"upsert {n:,} accounts ({sum(len(a.invoices) for a in accounts):,} invoices)",
           lambda: store.upsert_accounts(accounts, now=NOW), n, "accounts")
    _timed(f"re-upsert {n:,} unchanged accounts", lambda: store.upsert_accounts(accounts, now=NOW),
           n, "accounts")
    history = [(a.id, e, None) for a, h in zip(accounts, histories) for e in h]
    _timed(f"append {len(history):,} history events", lambda: store.append_events(history, now=NOW),
           len(history), "events")
    more = extra_events(accounts, args.events)
    _timed(f"append {len(more):,} events (a quarter with keys)",
           lambda: store.append_events(more, now=NOW), len(more), "events")
    dup = _timed(f"re-append the same {len(more):,} events",
                 lambda: store.append_events(more, now=NOW), len(more), "events")
    print(f"  -> {dup.stored:,} stored again (keyless), {len(dup.duplicates):,} duplicates ignored")

    # load_batch on the original portfolio only: a fresh store without the extra events.
    store.close()
    path2 = path + ".2"
    store = Store(f"sqlite:///{path2}")
    store.upsert_accounts(accounts, now=NOW)
    store.append_events(history, now=NOW)
    page = _timed("due_accounts (all due, one page)", lambda: store.due_accounts(NOW.timestamp(), n + 1),
                  n, "accounts")
    _timed(f"load_batch {n:,} accounts", lambda: store.load_batch(page.acct_nos), n, "accounts")
    chunk = 10_000
    _timed(f"load_batch in pages of {chunk:,}",
           lambda: [store.load_batch(page.acct_nos[i:i + chunk]) for i in range(0, n, chunk)],
           n, "accounts")
    _timed(f"Batch.from_objects {n:,} accounts (for comparison)",
           lambda: Batch.from_objects(accounts, histories), n, "accounts")
    _timed("audit verify", store.verify_audit)
    print(f"db size: {os.path.getsize(path) / 2**20:,.0f} MiB (with the extra events); "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    store.close()


if __name__ == "__main__":
    main()
