"""Benchmark of the distributed tick: PostgreSQL, Redis, 1 and 2 `arrears worker` processes.

    python bench/distributed.py [--accounts 20000] [--batch-size 5000] [--pg URL | --cluster DIR]
                                [--broker URL]

Not collected by pytest: run it as a script. Without `--pg`/`--broker` it starts a throwaway
PostgreSQL cluster and Redis server of its own (tests/pgcluster.py, tests/redisserver.py;
Debian's `postgresql` and `redis-server`); `--cluster DIR` keeps its cluster in DIR, running,
for the next run (stop it with `python -m tests.pgcluster stop DIR`), and `--generate-only` makes
the portfolio there and stops (to measure later, on a quieter machine).

The accounts are generated once (bench/portfolio.py, through the store's bulk path: COPY) into
the database `arrears_bench_N`, which later runs against the same server reuse. Each worker
count runs on a fresh file copy of it (`CREATE DATABASE ... TEMPLATE`, dropped afterwards), so
both start from the same state: every account due, no decision stored (a copy takes seconds,
where the earlier reset, deleting the decisions and contacts row by row, took minutes at
100,000). Then, for 1 and for 2 workers (each `--concurrency 1`):

1. a full tick, every account due and no decision stored (evaluate and queue, no delivery);
2. an incremental tick with 1% of the accounts due (an event appended to every 100th).

Each line gives the wall time, accounts/s, the CPU seconds of the leader, of the workers
(their pool processes included) and of PostgreSQL's own processes (the cluster's postmaster and
its children, read from /proc) per 10 000 accounts, rows written and WAL bytes per page
(PostgreSQL's WAL position before and after), and the load average before and after it: the
machine may be shared. Under it, the audit chain head's lock as sampled every 20 ms from
`pg_stat_activity` while the tick ran: the share of the tick's wall time a worker's page
transaction held it (its write transaction takes it first and keeps it to its commit), and the
seconds per page it was held and worker sessions waited for it. The last line is the second
worker's scaling efficiency, (accounts/s with 2) / (2 x accounts/s with 1).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from tick import NOW, generate_into  # bench/tick.py: the same portfolio

ARREARS = Path(sys.executable).with_name("arrears")
CLK = os.sysconf("SC_CLK_TCK")


def _proc_stats():
    """(pid, the fields of /proc/PID/stat after the command name) of every live process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            yield int(stat.parent.name), stat.read_text().rsplit(")", 1)[1].split()
        except OSError:                        # the process ended meanwhile
            continue


def _session_cpu(session: int) -> float:
    """CPU seconds (user + system) of every live process in `session` (a worker and its pool)."""
    return sum((int(f[11]) + int(f[12])) / CLK for _pid, f in _proc_stats()
               if int(f[3]) == session)        # field 6 of stat: the session id


def _server_cpu(postmaster: int | None) -> float:
    """CPU seconds of a PostgreSQL server: its postmaster, the children it has reaped (its
    exited backends, `cutime`/`cstime`) and its live children (backends, WAL writer,
    checkpointer...). 0.0 when the server is not ours to read (`--pg`)."""
    if postmaster is None:
        return 0.0
    total = 0.0
    for pid, fields in _proc_stats():
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15]) / CLK     # utime, stime, cutime, cstime
        elif int(fields[1]) == postmaster:                        # field 4 of stat: the parent
            total += (int(fields[11]) + int(fields[12])) / CLK
    return total


WORKER_APP = "arrears-bench-worker"         # the workers' sessions' application_name
# The throwaway cluster's settings (tests/pgcluster.py: fsync, synchronous_commit and
# full_page_writes off) with the memory of a server that holds a million accounts.
CLUSTER_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "4GB"}


class HeadLockSampler:
    """Samples the database's sessions every `every` seconds in a thread (`pgadmin.backends`):
    how long a worker's write transaction held the audit head's row lock, and the seconds
    worker sessions spent waiting for a lock, summed over sessions."""

    def __init__(self, engine, every: float = 0.02):
        self.engine, self.every = engine, every
        self.samples = self.held = self.waiting = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        from arrears.engine.store import pgadmin
        while not self._stop.wait(self.every):
            workers = [b for b in pgadmin.backends(self.engine) if b.application == WORKER_APP]
            self.samples += 1
            self.held += any(b.writing and not b.lock_wait for b in workers)
            self.waiting += sum(b.lock_wait for b in workers)

    def line(self, pages: int, wall: float) -> str:
        """The samples in words: the share of the tick's `wall` seconds the head was held, and
        the seconds a page held it and waited (shares of the samples times the wall time: a
        sample takes a query, so they come a little less often than `every`)."""
        if not self.samples:
            return "  head lock: no samples"
        held, waiting = self.held / self.samples, self.waiting / self.samples
        return (f"  head lock ({self.samples} samples in {wall:.1f} s): held by a worker's page transaction "
                f"{held:.0%} of the tick, {held * wall / pages:.2f} s a page; worker sessions waited for a "
                f"lock {waiting * wall / pages:.2f} s a page")


def _start_workers(n: int, db: str, broker: str, config: Path, logs: Path) -> list[subprocess.Popen]:
    db = f"{db}{'&' if '?' in db else '?'}application_name={WORKER_APP}"
    procs = []
    for i in range(n):
        log = (logs / f"worker-{n}-{i}.log").open("wb")
        argv = [str(ARREARS), "worker", "--db", db, "--broker", broker, "--config", str(config),
                "--concurrency", "1"]
        procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    for i, proc in enumerate(procs):
        path = logs / f"worker-{n}-{i}.log"
        deadline = time.monotonic() + 120
        while b" ready." not in path.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"worker did not start:\n{path.read_text()[-2000:]}")
            time.sleep(0.1)
    return procs


def _stop(procs) -> None:
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _timed(runtime, now, label: str, procs, postmaster: int | None, sampler_store) -> float:
    from arrears.engine.store import pgadmin, tickpages
    store = runtime.store
    load = os.getloadavg()[0]
    cpu_leader = resource.getrusage(resource.RUSAGE_SELF)
    cpu_workers = sum(_session_cpu(p.pid) for p in procs)
    cpu_server = _server_cpu(postmaster)
    wal, since = pgadmin.wal_bytes(store.engine), time.time()
    with HeadLockSampler(sampler_store.engine) as sampler:
        _, summary = runtime.run(now, "cli")
    wal = pgadmin.wal_bytes(store.engine) - wal
    server = _server_cpu(postmaster) - cpu_server
    me = resource.getrusage(resource.RUSAGE_SELF)
    leader = me.ru_utime + me.ru_stime - cpu_leader.ru_utime - cpu_leader.ru_stime
    workers = sum(_session_cpu(p.pid) for p in procs) - cpu_workers
    n = max(summary.evaluated, 1)
    split = [w["pages"] for w in tickpages.workers(store.engine, since)]
    pages = max(sum(split), 1)
    rate = summary.evaluated / summary.duration if summary.duration else 0.0
    rows = summary.evaluated + summary.decisions_written + summary.actions_queued
    print(f"{label}: {summary.duration:.2f} s wall, {summary.evaluated:,} evaluated "
          f"({rate:,.0f} accounts/s), "
          f"CPU per 10k accounts {leader * 1e4 / n:.2f} s leader + {workers * 1e4 / n:.2f} s workers + "
          f"{server * 1e4 / n:.2f} s PostgreSQL, "
          f"{pages} pages ({' + '.join(map(str, split))} by worker): {rows / pages:,.0f} rows and "
          f"{wal / pages / 2**20:,.2f} MiB WAL a page (load average before: {load:.2f}, after: "
          f"{os.getloadavg()[0]:.2f})", flush=True)
    print(sampler.line(pages, summary.duration), flush=True)
    return rate


def main(argv=None) -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--pg", help="admin URL of a PostgreSQL server (default: a throwaway cluster)")
    ap.add_argument("--cluster", type=Path, metavar="DIR",
                    help="the throwaway cluster in DIR, started if it is not running and left running: "
                         "the generated portfolio is kept for the next run")
    ap.add_argument("--broker", help="Redis broker URL (default: a throwaway server)")
    ap.add_argument("--batch-size", type=int, default=5_000, help="accounts per page (default 5 000)")
    ap.add_argument("--generate-only", action="store_true",
                    help="generate the portfolio (with --pg or --cluster: for later runs) and stop")
    args = ap.parse_args(argv)
    if args.pg and args.cluster:
        sys.exit("--pg and --cluster: give one of them")
    if args.generate_only and not (args.pg or args.cluster):
        sys.exit("--generate-only keeps the portfolio only in a server that stays: give --pg or --cluster")
    tmp = Path(tempfile.mkdtemp(prefix="arrears-bench-dist-"))
    tmp.chmod(0o755)                   # the server user (as root: postgres) must reach its cluster
    cluster = server = None
    try:
        if args.pg is None:
            from tests.pgcluster import Cluster
            cluster = Cluster(args.cluster.resolve() if args.cluster else tmp / "pg", CLUSTER_SETTINGS)
            if args.cluster and cluster.pid() is not None:
                args.pg = cluster.url
            else:
                args.pg = cluster.start(detach=args.cluster is not None)
        if args.generate_only:
            _portfolio(args.pg, args.accounts)
            return
        if args.broker is None:
            from tests.redisserver import RedisServer
            server = RedisServer(tmp / "redis")
            args.broker = server.start()
        _run(args, tmp, cluster.pid() if cluster is not None else None)
    finally:
        if cluster is not None and args.cluster is None:
            cluster.stop()
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _portfolio(admin: str, n: int) -> str:
    """The name of the database holding the generated portfolio of `n` accounts: made now, or
    by an earlier run against this server. Vacuumed and analysed once, as a database in use
    would be, so the copies start alike and no tick pays for the load's first vacuum."""
    from arrears.engine.store import Store, pgadmin

    name = f"arrears_bench_{n}"
    if not pgadmin.database_exists(admin, name):
        pgadmin.create_database(admin, name)
    db = pgadmin.database_url(admin, name)
    with Store(db) as store:
        have = store.counts()["accounts"]
    if have == n:
        print(f"reusing the {n:,} accounts of {name}", flush=True)
        return name
    if have:
        sys.exit(f"{name} holds {have:,} accounts, not {n:,}: drop it, or ask for {have}")
    started = time.perf_counter()
    generate_into(db, n)
    generated = time.perf_counter() - started
    pgadmin.vacuum(db)
    print(f"generated {n:,} accounts in {generated:.0f} s, vacuumed and analysed in "
          f"{time.perf_counter() - started - generated:.0f} s (not counted; load average "
          f"{os.getloadavg()[0]:.2f})", flush=True)
    return name


def _run(args, tmp: Path, postmaster: int | None) -> None:
    from arrears.engine.domain.model import Event
    from arrears.engine.store import Store, pgadmin
    from arrears.engine.tick.service import Runtime
    from arrears.engine.tick.settings import load_settings

    template = _portfolio(args.pg, args.accounts)
    config = tmp / "arrears.toml"
    config.write_text(f"[tick]\nbatch_size = {args.batch_size}\n\n[scale]\npage_timeout = 600\n")
    rates = {}
    for n in (1, 2):
        name = f"{template}_run"
        pgadmin.drop_database(args.pg, name)
        started = time.perf_counter()
        db = pgadmin.create_database(args.pg, name, template=template)
        print(f"{n} worker(s): a fresh copy of {template} in {time.perf_counter() - started:.1f} s",
              flush=True)
        procs = _start_workers(n, db, args.broker, config, tmp)
        settings = load_settings(db=db, broker=args.broker, config=str(config), environ={})
        runtime = Runtime(settings, dispatch=False)
        sampler = Store(db, upgrade=False)
        try:
            rates[n] = _timed(runtime, NOW, f"{n} worker(s): full tick, every decision new", procs,
                              postmaster, sampler)
            one_pct = [f"ACC{i:08d}" for i in range(0, args.accounts, 100)]
            note = Event("note", NOW + timedelta(seconds=25))
            runtime.store.append_events([(aid, note, None) for aid in one_pct], now=NOW)
            _timed(runtime, NOW + timedelta(seconds=30), f"{n} worker(s): incremental tick, 1% due", procs,
                   postmaster, sampler)
        finally:
            sampler.close()
            runtime.close()
            _stop(procs)
            pgadmin.drop_database(args.pg, name)
    print(f"scaling efficiency of the second worker: {rates[2] / (2 * rates[1]):.0%} "
          f"({rates[1]:,.0f} -> {rates[2]:,.0f} accounts/s; {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
