"""Benchmark of the tick on a SQLite file (not collected by pytest: run it as a script).

    python bench/tick.py [--accounts 100000] [--db /tmp/tick-100k.db] [--workers K] [--profile]

1. Generates N accounts with histories (bench/portfolio.py) into the database, in a
   child process and only if the file does not hold them yet (not timed; reuse a file
   with --db: generating 1M accounts takes several minutes).
2. A first full tick with every account due and no decision stored yet (every decision
   is new), evaluate-and-queue only (`--no-dispatch`): wall time, accounts/s, peak RSS.
3. A full re-evaluation with every account due again but nothing changed (no decision
   rows to write): the steady-state cost per evaluated account.
4. An incremental tick with 1% of the accounts due (an event appended to every 100th).
`--experiment` measures a champion/challenger experiment's cost instead: a full tick and a full
re-evaluation with one strategy, then the same with two (a challenger, the default policy with
SMS first, deciding half the debtors), and the ratios (`--repeat N`: each re-evaluation N times, the
best kept: on a shared machine the least disturbed run); then planning alone (five pages read and
decided, nothing written, best of three CPU times) with one strategy and with two, which
`--profile` profiles (docs/experiments.md gives the figures).
`--profile` prints where the first full tick spends its time (cProfile; the ticking process
only). Each tick's line gives the CPU time of the ticking process and of its worker processes
and the load average before it: the machine may be shared, and the full tick is CPU-bound.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 22, 15, tzinfo=timezone.utc)
CHUNK = 50_000


def generate_into(url: str, n: int, seed: int = 1) -> None:
    """Store `n` generated accounts and their histories, CHUNK at a time (bounded memory)."""
    from portfolio import generate_account

    from arrears.engine.store import Store
    rng = random.Random(seed)
    with Store(url, synchronous="OFF") as store:
        for start in range(0, n, CHUNK):
            pairs = [generate_account(rng, i, NOW.date()) for i in range(start, min(n, start + CHUNK))]
            store.upsert_accounts([a for a, _ in pairs], now=NOW)
            store.append_events([(a.id, e, None) for a, h in pairs for e in h], now=NOW)
            print(f"  generated {min(n, start + CHUNK):,}/{n:,}", file=sys.stderr, flush=True)


def _count(store) -> int:
    return store.counts()["accounts"]


def _reset(store, *, forget_decisions: bool) -> None:
    """Make every account due; optionally forget every stored decision and queued contact."""
    with store.engine.begin() as conn:
        if forget_decisions:
            conn.exec_driver_sql("DELETE FROM outbox")
            conn.exec_driver_sql("DELETE FROM decisions")
            conn.exec_driver_sql("UPDATE accounts SET next_evaluation_at = NULL, decision_key = NULL, "
                                 "decision_id = NULL")
        else:
            conn.exec_driver_sql("UPDATE accounts SET next_evaluation_at = NULL")
        conn.exec_driver_sql("DELETE FROM leases")


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its waited-for children (the workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _timed_tick(store, policy, now, label: str, profile: bool = False, batch_size: int = 10_000,
                workers: int | None = None):
    from arrears.engine.tick import run_tick
    prof = cProfile.Profile(time.process_time) if profile else None  # CPU: the machine is shared
    load = os.getloadavg()[0]
    cpu0 = _cpu()
    if prof:
        prof.enable()
    summary = run_tick(store, policy, now, batch_size=batch_size, workers=workers)
    if prof:
        prof.disable()
    mine, kids = (b - a for a, b in zip(cpu0, _cpu()))
    summary.cpu = mine + kids
    rate = summary.evaluated / summary.duration if summary.duration else 0
    print(f"{label}: {summary.duration:.2f} s wall, CPU {mine:.2f} s ticking process + {kids:.2f} s workers, "
          f"{summary.evaluated:,} evaluated ({rate:,.0f} accounts/s), {summary.decisions_written:,} decisions, "
          f"{summary.actions_queued:,} queued (load average before: {load:.2f})", flush=True)
    return summary, prof


def _peak_rss() -> str:
    """Peak RSS of this process and of the largest worker, in MiB."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kid = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return f"{me:,.0f} MiB ticking process, {kid:,.0f} MiB largest worker"


def main(argv=None) -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--db", default=None, help="SQLite file, reused if it holds the accounts already")
    ap.add_argument("--profile", action="store_true",
                    help="profile the first full tick (with --experiment: the two-strategy planning)")
    ap.add_argument("--batch-size", type=int, default=10_000, help="accounts per page (default 10 000)")
    ap.add_argument("--workers", type=int, default=None,
                    help="worker processes planning pages (default: the tick chooses; 0: none)")
    ap.add_argument("--experiment", action="store_true",
                    help="one strategy against two (a challenger on half the debtors): ticks and their ratio")
    ap.add_argument("--repeat", type=int, default=1,
                    help="with --experiment: run each re-evaluation this many times and keep the best")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    path = args.db or os.path.join(tempfile.mkdtemp(), "tick-bench.db")
    url = f"sqlite:///{path}"
    if args.generate_only:
        generate_into(url, args.accounts)
        return

    from arrears.engine.policy.load import load_policy
    from arrears.engine.store import Store
    from arrears.policies import DEFAULT_POLICY

    with Store(url) as store:
        have = _count(store)
    if have != args.accounts:
        if have:
            sys.exit(f"{path} holds {have:,} accounts, not {args.accounts:,}: use another --db")
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate-only", "--accounts", str(args.accounts),
                        "--db", path], check=True)
        print(f"generated {args.accounts:,} accounts into {path} in {time.perf_counter() - started:.0f} s "
              "(not counted)", flush=True)
    policy = load_policy(DEFAULT_POLICY)
    store = Store(url)
    if args.experiment:
        _experiment(store, policy, args)
        return
    _reset(store, forget_decisions=True)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    full, prof = _timed_tick(store, policy, NOW, "full tick, every decision new", args.profile, args.batch_size,
                             args.workers)
    print(f"  peak RSS {_peak_rss()} (ticking process before the tick: {rss0:,.0f} MiB)")
    _reset(store, forget_decisions=False)
    _timed_tick(store, policy, NOW + timedelta(seconds=20), "full re-evaluation, decisions unchanged",
                batch_size=args.batch_size, workers=args.workers)
    from arrears.engine.domain.model import Event
    one_pct = [f"ACC{i:08d}" for i in range(0, args.accounts, 100)]
    note = Event("note", NOW + timedelta(seconds=25))
    store.append_events([(aid, note, None) for aid in one_pct], now=NOW)
    inc, _ = _timed_tick(store, policy, NOW + timedelta(seconds=30),
                         f"incremental tick, {len(one_pct):,} due (1%)", batch_size=args.batch_size,
                         workers=args.workers)
    print(f"  incremental / full: {inc.duration / full.duration:.1%}")
    print(f"db size {os.path.getsize(path) / 2**20:,.0f} MiB; peak RSS {_peak_rss()}")
    store.close()
    if prof:
        stats = pstats.Stats(prof).strip_dirs()
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(30)


def _experiment(store, policy, args) -> None:
    """One strategy, then two (half the debtors on a challenger): full tick and re-evaluation each."""
    from sqlalchemy import text

    from arrears.engine.experiments import lifecycle
    from arrears.engine.policy.load import load_policy
    from arrears.policies import DEFAULT_POLICY

    text_ = DEFAULT_POLICY.read_text(encoding="utf-8")
    challenger_text = text_.replace('version: "1.0.0"', 'version: "1.1.0-bench"').replace(
        "      channels: [email, sms, letter]\n      template: friendly_reminder",
        "      channels: [sms, email, letter]\n      template: friendly_reminder")
    challenger = load_policy(challenger_text, filename="challenger.yaml")
    with store.engine.begin() as conn:
        for table in ("experiment_assignments", "experiments"):
            conn.execute(text(f"DELETE FROM {table}"))
    store.record_policy(policy.name, policy.version, policy.digest, text_, now=NOW)
    store.record_policy(challenger.name, challenger.version, challenger.digest, challenger_text, activate=False,
                        now=NOW)
    figures = {}
    for strategies in (1, 2):
        if strategies == 2:
            spec = (f"name: bench\nchampion: {{share: 50}}\nchallengers:\n  - {{name: sms-first, policy: "
                    f"'{challenger.digest}', share: 50}}\nstart: 2026-11-01\nend: 2027-03-01\n"
                    f"primary_metric: {{kpi: cure_rate, minimum_detectable_effect: 2, baseline: 30}}\n")
            lifecycle.start(store, "bench.yaml", text=spec, by="bench", now=NOW)
        _reset(store, forget_decisions=True)
        full, _ = _timed_tick(store, policy, NOW, f"{strategies} strategy: full tick, every decision new",
                              batch_size=args.batch_size, workers=args.workers)
        agains = []
        for run in range(args.repeat):
            _reset(store, forget_decisions=False)
            again, _ = _timed_tick(store, policy, NOW + timedelta(seconds=20 + run),
                                   f"{strategies} strategy: full re-evaluation, decisions unchanged",
                                   batch_size=args.batch_size, workers=args.workers)
            agains.append(again)
        figures[strategies] = (full.duration, min(a.duration for a in agains), full.cpu, min(a.cpu for a in agains))
    ratio = [two / one for one, two in zip(figures[1], figures[2])]
    print(f"two strategies / one: full tick {ratio[0]:.2f}x wall, {ratio[2]:.2f}x CPU; "
          f"re-evaluation {ratio[1]:.2f}x wall, {ratio[3]:.2f}x CPU")
    _planning(store, policy, args)
    store.experiments.end("bench", by="bench", now=NOW)
    store.close()


def _planning(store, policy, args, pages: int = 5, runs: int = 3) -> None:
    """Planning alone (read and decide `pages` pages, nothing written) with one strategy and with
    two, in this process: the best of `runs` CPU times each, so other work on the machine counts
    least. `--profile` prints where the two-strategy planning spends its time."""
    from arrears.engine.domain.clock import as_epoch
    from arrears.engine.experiments.live import Strategies
    from arrears.engine.tick.evaluate import DuePages
    from arrears.engine.tick.pageplan import plan_page

    now = NOW + timedelta(seconds=40)
    _reset(store, forget_decisions=False)
    due = DuePages(store, as_epoch(now), args.batch_size)
    todo = [page for page in (due.next() for _ in range(pages)) if page is not None]
    strategies = Strategies.load(store, policy, now)

    def plan(with_strategies) -> float:
        start = time.process_time()
        for page in todo:
            plan_page(store, policy, page, now, 86_400, strategies=with_strategies)
        return time.process_time() - start
    plan(None), plan(strategies)          # warm: time-zone tables, compiled SQL
    one = min(plan(None) for _ in range(runs))
    two = min(plan(strategies) for _ in range(runs))
    print(f"planning {len(todo)} pages of {args.batch_size:,} (CPU, best of {runs}): one strategy {one:.2f} s, "
          f"two {two:.2f} s, {two / one:.2f}x, +{(two - one) / len(todo):.3f} s a page")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        plan(strategies)
        prof.disable()
        pstats.Stats(prof).strip_dirs().sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
