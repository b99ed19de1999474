"""Benchmark of the distributed tick: PostgreSQL, Redis, 1 and 2 `arrears worker` processes.

    python bench/distributed.py [--accounts 20000] [--pg URL] [--broker URL] [--batch-size 5000]

Not collected by pytest: run it as a script. Without `--pg`/`--broker` it starts a throwaway
PostgreSQL cluster and Redis server of its own (tests/pgcluster.py, tests/redisserver.py;
Debian's `postgresql` and `redis-server`). The accounts are generated once (bench/portfolio.py,
not timed). Then, for 1 and for 2 workers (each `--concurrency 1`):

1. a full tick, every account due and no decision stored (evaluate and queue, no delivery);
2. an incremental tick with 1% of the accounts due (an event appended to every 100th).

Each line gives the wall time, accounts/s, the CPU seconds of the leader, of the workers
(their pool processes included) and of PostgreSQL's own processes (a throwaway cluster's
postmaster and its children, read from /proc) per 10 000 accounts, rows written and WAL bytes per page
(PostgreSQL's `pg_current_wal_lsn` before and after), and the load average before it: the
machine may be shared. The last line is the second worker's scaling efficiency,
(accounts/s with 2) / (2 x accounts/s with 1).
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
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from tick import NOW, generate_into  # bench/tick.py: the same portfolio

ARREARS = Path(sys.executable).with_name("arrears")
CLK = os.sysconf("SC_CLK_TCK")


def _session_cpu(session: int) -> float:
    """CPU seconds (user + system) of every live process in `session` (a worker and its pool)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:          # field 6 of stat: the session id
            total += (int(fields[11]) + int(fields[12])) / CLK
    return total


def _server_cpu(postmaster: int | None) -> float:
    """CPU seconds of a PostgreSQL server: its postmaster, the children it has reaped (its
    exited backends, `cutime`/`cstime`) and its live children (backends, WAL writer,
    checkpointer...). 0.0 when the server is not ours to read (`--pg`)."""
    if postmaster is None:
        return 0.0
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15]) / CLK     # utime, stime, cutime, cstime
        elif int(fields[1]) == postmaster:                        # field 4 of stat: the parent
            total += (int(fields[11]) + int(fields[12])) / CLK
    return total


def _reset(store) -> None:
    """Every account due, no decision or contact stored. The outbox is truncated, not deleted
    from: PostgreSQL checks each deleted decision against the outbox's rows (no index on
    `outbox.decision_id`), and deleted rows stay in that scan until vacuumed."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE accounts SET next_evaluation_at = NULL, decision_key = NULL, decision_id = NULL")
        conn.exec_driver_sql("TRUNCATE outbox")
        conn.exec_driver_sql("DELETE FROM decisions")
        conn.exec_driver_sql("DELETE FROM leases")


def _wal(store) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").scalar())


def _start_workers(n: int, db: str, broker: str, config: Path, logs: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        log = (logs / f"worker-{n}-{i}.log").open("wb")
        procs.append(subprocess.Popen([str(ARREARS), "worker", "--db", db, "--broker", broker, "--config",
                                       str(config), "--concurrency", "1"], stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))
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


def _timed(runtime, now, label: str, procs, postmaster: int | None) -> float:
    store = runtime.store
    load = os.getloadavg()[0]
    cpu_leader = resource.getrusage(resource.RUSAGE_SELF)
    cpu_workers = sum(_session_cpu(p.pid) for p in procs)
    cpu_server = _server_cpu(postmaster)
    wal = _wal(store)
    _, summary = runtime.run(now, "cli")
    wal = _wal(store) - wal
    server = _server_cpu(postmaster) - cpu_server
    me = resource.getrusage(resource.RUSAGE_SELF)
    leader = me.ru_utime + me.ru_stime - cpu_leader.ru_utime - cpu_leader.ru_stime
    workers = sum(_session_cpu(p.pid) for p in procs) - cpu_workers
    n = max(summary.evaluated, 1)
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("SELECT count(*) FROM tick_pages WHERE kind = 'evaluate' AND run_id = "
                                     "(SELECT max(run_id) FROM tick_pages)").scalar() or 1
    rate = summary.evaluated / summary.duration if summary.duration else 0.0
    rows = summary.evaluated + summary.decisions_written + summary.actions_queued
    print(f"{label}: {summary.duration:.2f} s wall, {summary.evaluated:,} evaluated ({rate:,.0f} accounts/s), "
          f"CPU per 10k accounts {leader * 1e4 / n:.2f} s leader + {workers * 1e4 / n:.2f} s workers + "
          f"{server * 1e4 / n:.2f} s PostgreSQL, "
          f"{pages} pages: {rows / pages:,.0f} rows and {wal / pages / 2**20:,.2f} MiB WAL a page "
          f"(load average before: {load:.2f})", flush=True)
    return rate


def main(argv=None) -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--pg", help="admin URL of a PostgreSQL server (default: a throwaway cluster)")
    ap.add_argument("--broker", help="Redis broker URL (default: a throwaway server)")
    ap.add_argument("--batch-size", type=int, default=5_000, help="accounts per page (default 5 000)")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="arrears-bench-dist-"))
    tmp.chmod(0o755)                   # the server user (as root: postgres) must reach its cluster
    cluster = server = None
    try:
        if args.pg is None:
            from tests.pgcluster import Cluster
            cluster = Cluster(tmp / "pg")
            args.pg = cluster.start()
        if args.broker is None:
            from tests.redisserver import RedisServer
            server = RedisServer(tmp / "redis")
            args.broker = server.start()
        _run(args, tmp, cluster.pid() if cluster is not None else None)
    finally:
        if cluster is not None:
            cluster.stop()
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args, tmp: Path, postmaster: int | None) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from arrears.engine.domain.model import Event
    from arrears.engine.store import Store
    from arrears.engine.tick.service import Runtime
    from arrears.engine.tick.settings import load_settings

    name = f"arrears_bench_{args.accounts}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).scalar():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    db = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    with Store(db) as store:
        have = store.counts()["accounts"]
    if have != args.accounts:
        if have:
            sys.exit(f"{name} holds {have:,} accounts, not {args.accounts:,}")
        started = time.perf_counter()
        generate_into(db, args.accounts)
        print(f"generated {args.accounts:,} accounts in {time.perf_counter() - started:.0f} s (not counted)")
    config = tmp / "arrears.toml"
    config.write_text(f"[tick]\nbatch_size = {args.batch_size}\n\n[scale]\npage_timeout = 600\n")
    rates = {}
    for n in (1, 2):
        procs = _start_workers(n, db, args.broker, config, tmp)
        runtime = Runtime(load_settings(db=db, broker=args.broker, config=str(config), environ={}), dispatch=False)
        try:
            _reset(runtime.store)
            rates[n] = _timed(runtime, NOW, f"{n} worker(s): full tick, every decision new", procs,
                              postmaster)
            one_pct = [f"ACC{i:08d}" for i in range(0, args.accounts, 100)]
            runtime.store.append_events([(aid, Event("note", NOW + timedelta(seconds=25)), None) for aid in one_pct],
                                        now=NOW)
            _timed(runtime, NOW + timedelta(seconds=30), f"{n} worker(s): incremental tick, 1% due", procs,
                   postmaster)
        finally:
            runtime.close()
            _stop(procs)
    print(f"scaling efficiency of the second worker: {rates[2] / (2 * rates[1]):.0%} "
          f"({rates[1]:,.0f} -> {rates[2]:,.0f} accounts/s; {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
