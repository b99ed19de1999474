"""Benchmark of the web console's pages on a large store (not collected by pytest: run it as a script).

    python bench/console.py [--accounts 100000] [--db /tmp/console-bench.db] [--requests 30]

Generates the portfolio (as bench/tick.py does; a --db holding it already is reused), runs one
full tick at the bench's instant so decisions and today's call queue exist (not with --reuse),
computes the dashboard snapshots (timed: it is what `arrears serve` does after the ticks, not per
request; the first run of a day reads every account), then changes 1% of the accounts, ticks
and computes the dashboard again with what the first run kept (timed: the refresh after a
tick, which reads only the accounts that changed), then times each page through the app as a logged-in user: median and 95th percentile of
`--requests` requests, wall time per request. The target is under 300 ms per page at 1M accounts.
Last, the workbench's what-if (`--whatif-only`: only it): the request that starts the job, and
the background job to its result, polled as the page does.
`--refresh-only` measures the dashboard's refreshes alone, in this fresh process against a stored
file (no full tick first, no pages): the memory each adds to the process (its peak RSS less the
RSS before it, so the bench's own data building is not counted), CPU and wall time.

    python bench/console.py --accounts 1000000 --db /tmp/console-1m.db --refresh-only
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password 01"


def _timed(client, path: str, n: int) -> tuple[float, float, int]:
    took = []
    status = 0
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        took.append(time.perf_counter() - start)
        status = response.status_code
    took.sort()
    return statistics.median(took) * 1000, took[max(0, int(len(took) * 0.95) - 1)] * 1000, status


def _cpu() -> float:
    """CPU seconds (user + system) of this process: the machine may be shared, wall time is not all ours."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def _rss() -> float:
    """This process's resident memory now, in MiB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _peak() -> float:
    """This process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _log_in(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    return client


def _whatif(app, store) -> None:
    """Time the workbench's what-if of a candidate (the shipped policy with 5 grace days) against
    the active one: the request (it only starts the job) and the background job to its result."""
    from arrears.policies import DEFAULT_POLICY
    client = _log_in(app)
    page = client.get("/policies").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    source = DEFAULT_POLICY.read_text(encoding="utf-8").replace('version: "1.0.0"', 'version: "9.9.9"', 1) \
        .replace("default_days: 3", "default_days: 5", 1)
    cpu, started = _cpu(), time.perf_counter()
    answer = client.post("/policies/whatif", data={"csrf_token": token, "source": source, "tests": ""})
    asked = time.perf_counter() - started
    digest = re.search(r'hx-get="/policies/whatif/(sha256:[0-9a-f]+)"', answer.get_data(as_text=True))[1]
    polls = []
    while not app.extensions["arrears.whatif"].wait(digest, 1.0):
        t = time.perf_counter()
        client.get(f"/policies/whatif/{digest}", headers={"HX-Request": "true"})
        polls.append(time.perf_counter() - t)
    took = time.perf_counter() - started
    job = app.extensions["arrears.whatif"].status(digest)
    print(f"what-if request: HTTP {answer.status_code} in {asked * 1000:.0f} ms; the job: {job['state']} "
          f"({job.get('error') or ''}), {job['done']:,} accounts in {took:.1f} s wall, "
          f"{_cpu() - cpu:.1f} s CPU "
          f"(load average {os.getloadavg()[0]:.1f}); progress polls: {len(polls)}, median "
          f"{statistics.median(polls) * 1000 if polls else 0:.0f} ms; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB", flush=True)


def main(argv=None) -> None:
    """Build or reuse the store, tick, compute the dashboard, time the pages; print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--db", default=None, help="SQLite file, reused if it holds the accounts already")
    ap.add_argument("--requests", type=int, default=30, help="requests per page (default 30)")
    ap.add_argument("--reuse", action="store_true", help="the --db is ticked already: no full tick first")
    ap.add_argument("--no-tick", action="store_true",
                    help="skip the 1%% change, the incremental tick and the dashboard's refresh after it")
    ap.add_argument("--pages-only", action="store_true",
                    help="time the pages only: no dashboard computed (its pages answer 'not computed yet')")
    ap.add_argument("--refresh-only", action="store_true",
                    help="the --db is ticked already: only the dashboard's refreshes (memory added, CPU)")
    ap.add_argument("--whatif-only", action="store_true",
                    help="time only the workbench's what-if job (no dashboard, no pages)")
    args = ap.parse_args(argv)
    path = args.db or os.path.join(tempfile.mkdtemp(), "console-bench.db")
    url = f"sqlite:///{path}"

    from arrears.api import create_app
    from arrears.console.dashboard import Kept, refresh
    from arrears.console.passwords import hash_password
    from arrears.engine.cli import main as arrears
    from arrears.engine.store import Store

    with Store(url) as store:
        have = store.account_count()
    if have != args.accounts:
        if have:
            sys.exit(f"{path} holds {have:,} accounts, not {args.accounts:,}: use another --db")
        started = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "bench" / "tick.py"), "--generate-only", "--accounts",
                        str(args.accounts), "--db", path], check=True)
        print(f"generated {args.accounts:,} accounts in {time.perf_counter() - started:.0f} s (not counted)")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    if not args.reuse and not args.refresh_only:
        started = time.perf_counter()
        arrears(["tick", "--db", url, "--at", now.isoformat(), "--no-dispatch", "--format", "json"])
        print(f"full tick at {now.isoformat()}: {time.perf_counter() - started:.1f} s (not counted)")
    store = Store(url)
    if store.users.get("bench") is None:
        store.users.add("bench", "admin", hash_password(PASSWORD), by="bench")
    app = create_app({"database_url": url}, store=store)
    if args.whatif_only:
        _whatif(app, store)
        store.close()
        return
    kept = Kept()
    app.extensions["arrears"].policies.active()          # loaded before the RSS is taken
    rss, peak_before = _rss(), _peak()
    cpu = _cpu()
    if args.pages_only:
        meta = {"segments": list(app.extensions["arrears"].policies.active().segments)}
        args.no_tick = True
    else:
        meta = refresh(app.extensions["arrears"], date.today(), kept=kept)
        print("dashboard computed, every account read (the first run of a day): "
              f"{meta['seconds']:.1f} s wall, "
              f"{_cpu() - cpu:.1f} s CPU (load average {os.getloadavg()[0]:.1f}) for "
              f"{meta['accounts']:,} accounts and {len(meta['segments'])} segments ({meta['start']} to "
              f"{meta['end']}); peak RSS {_peak():,.0f} MiB, "
              f"{_peak() - max(rss, 0):,.0f} MiB over the {rss:,.0f} MiB before it"
              f"{'' if peak_before <= rss else f' (the peak before it was {peak_before:,.0f} MiB)'}; "
              f"{_rss():,.0f} MiB RSS after it", flush=True)
    if not args.no_tick:
        from arrears.engine.domain.model import Event
        one_pct = [f"ACC{i:08d}" for i in range(0, args.accounts, 100)]
        noted = datetime.now(timezone.utc).replace(microsecond=0)
        store.append_events([(aid, Event("note", noted), None) for aid in one_pct], now=noted)
        started = time.perf_counter()
        arrears(["tick", "--db", url, "--at", noted.isoformat(), "--no-dispatch", "--format", "json"])
        print(f"incremental tick, {len(one_pct):,} accounts changed (1%): {time.perf_counter() - started:.1f} s "
              "(not counted)")
        cpu, rss = _cpu(), _rss()
        meta = refresh(app.extensions["arrears"], date.today(), kept=kept)
        print(f"dashboard computed again after that tick: {meta['seconds']:.1f} s wall, {_cpu() - cpu:.1f} s CPU "
              f"(load average {os.getloadavg()[0]:.1f}; {meta['read']:,} accounts read); "
              f"peak RSS {_peak():,.0f} MiB (it was {rss:,.0f} MiB before it)", flush=True)
    if args.refresh_only:
        store.close()
        return
    client = _log_in(app)
    middle = f"ACC{args.accounts // 2:08d}"
    contact = store.get_account(middle)[0].contact
    email = contact.email or "nobody@example.com"   # searched in any case
    name = contact.name or "Ada Lovelace"
    pages = {"accounts search (id prefix)": f"/accounts?q={middle[:-2]}",
             "accounts search (email)": f"/accounts?email={email.upper()}",
             "accounts search (name, full)": f"/accounts?name={name.upper()}",
             "accounts search (name, 3 letters)": f"/accounts?name={name[:3].lower()}",
             "accounts search (name, later word)": f"/accounts?name={name.split()[-1][:4].upper()}",
             "accounts search (stage)": "/accounts?stage=legal_warning",
             "accounts search (status held)": "/accounts?status=held",
             "accounts search (segment)": "/accounts?segment=punctual",
             "account page (decided now)": f"/accounts/{middle}",
             "work queue": "/queue",
             "dashboard": "/dashboard",
             "dashboard report (kept page)": "/dashboard/report",
             "dashboard of a segment": f"/dashboard?segment={meta['segments'][0]}" if meta["segments"] else "/dashboard",
             "its report (kept page)": f"/dashboard/report?segment={meta['segments'][0]}" if meta["segments"]
             else "/dashboard/report",
             "policy workbench": "/policies",
             "audit log": "/admin/audit",
             "tick runs": "/admin/ticks",
             "users": "/admin/users"}
    print(f"{args.accounts:,} accounts; {args.requests} requests per page; wall ms per request")
    for name, path_ in pages.items():
        median, p95, status = _timed(client, path_, args.requests)
        print(f"  {name:<30} median {median:7.1f} ms   p95 {p95:7.1f} ms   (HTTP {status})", flush=True)
    _whatif(app, store)
    store.close()


if __name__ == "__main__":
    main()
