"""Benchmark: the HTTP API on the real waitress server over loopback.

    python bench/api.py [--duration 10] [--connections 64] [--threads 64] [--workers 1]
                        [--client wrk|python] [--clients 1] [--accounts 2000]
                        [--mix portfolio|example] [--no-batching] [--only decide|stored]
                        [--trace] [--batch-wait-ms 2] [--key config|stored]

Starts `arrears.api.server` in its own process(es) on a free port with a fresh SQLite database
holding `--accounts` accounts (generated across jurisdictions by bench/portfolio.py, or
copies of examples/account.json with `--mix example`), then for each endpoint drives
it for `--duration` seconds from `--connections` keep-alive connections and prints
requests/s and latency percentiles (after a 2 s warm-up):

- POST /v1/decide with an account and its history in the body (stateless);
- GET /v1/accounts/{id}/decision for stored accounts (reads the account and history).

`--key stored` authenticates with a key kept in the database (`arrears keys create`: looked up by
its digest, the answer reused for a second) instead of one from the configuration.
`--trace` asks for each decision's trace (`?trace=true`). Each line also shows the CPU
the server process(es) used per request (Linux; from /proc), which depends less on what
else the machine runs than requests/s does, split by thread: the I/O loop (waitress's main
thread), the batches (the micro-batcher's thread: reading stored accounts, `decide_batch`) and
the request threads (WSGI, Flask, JSON, checks, answers); and the load average before the run.

The load comes from `wrk` when it is installed (`apt-get install wrk`; a C client that
needs little CPU), else from Python threads with http.client (`--client python`,
spread over `--clients` processes). Either runs on the same machine and takes CPU from
the server: the figures are what this machine does with both, not the server alone.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from portfolio import generate  # noqa: E402

KEY = "bench-key-0123456789abcdef"
SERVER = """
import json, sys
from arrears.api import create_app
from arrears.api.server import serve
config = json.loads(sys.argv[1])
serve(create_app(config), "127.0.0.1", config.pop("port"), config.pop("threads"), workers=config.pop("workers"))
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, port: int, threads: int, batching: bool, workers: int = 1,
                 batch_wait_ms: float | None = None):
    """The API server process, once /healthz answers."""
    api = {"keys": {KEY: "admin"}, "batcher_enabled": batching}
    if batch_wait_ms is not None:
        api["batcher_max_wait_ms"] = batch_wait_ms
    config = {"database_url": db_url, "port": port, "threads": threads, "workers": workers, "api": api}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(config)], cwd=ROOT,
                            stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def example_portfolio(n: int):
    """`n` copies of examples/account.json with its history (one jurisdiction, one zone)."""
    from arrears.engine import Account, Event
    data = json.loads((ROOT / "examples" / "account.json").read_text())
    history = [Event.from_dict(e) for e in json.loads((ROOT / "examples" / "events.json").read_text())]
    return [Account.from_dict({**data, "id": f"EX{i:06d}"}) for i in range(n)], [history] * n


def seed(db_url: str, n: int, mix: str = "portfolio"):
    """Store `n` accounts with their histories; return request bodies for /v1/decide.

    `portfolio`: generated accounts across eight jurisdictions and five time zones;
    `example`: copies of the example account (the cheapest realistic case).
    """
    from arrears.api.serialize import account_to_dict, event_to_dict
    from arrears.engine.store import Store
    accounts, histories = generate(n, seed=11) if mix == "portfolio" else example_portfolio(n)
    with Store(db_url) as store:
        store.upsert_accounts(accounts)
        store.append_events([(a.id, e, None) for a, h in zip(accounts, histories) for e in h])
    bodies = [json.dumps({"account": account_to_dict(a), "events": [event_to_dict(e) for e in h]})
              for a, h in zip(accounts, histories)]
    return [a.id for a in accounts], bodies


def _worker(port, requests, deadline, out, offset):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    lat, errors, i = [], 0, offset
    while time.perf_counter() < deadline:
        method, path, body = requests[i % len(requests)]
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        lat.append(time.perf_counter() - t0)
        errors += not ok
    out.append((lat, errors))


def _client(port, requests, connections, start_at, duration, queue, seed_offset):
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + duration
    out: list = []
    threads = [threading.Thread(target=_worker, args=(port, requests, deadline, out, seed_offset + k * 7919))
               for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(([x for lat, _ in out for x in lat], sum(e for _, e in out)))


def drive(port, requests, connections, clients, duration) -> dict:
    """Run the load; requests/s, percentiles (ms) and errors."""
    queue = mp.Queue()
    start_at = time.time() + 0.5
    per = [connections // clients + (1 if k < connections % clients else 0) for k in range(clients)]
    procs = [mp.Process(target=_client, args=(port, requests, per[k], start_at, duration, queue, k * 104729))
             for k in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    lat = sorted(x for r in results for x in r[0])
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000   # noqa: E731
    return {"requests": len(lat), "rps": len(lat) / duration, "p50": pct(0.50), "p95": pct(0.95),
            "p99": pct(0.99), "errors": sum(r[1] for r in results)}


WRK_SCRIPT = """
local bodies = {%s}
local paths = {%s}
local method = "%s"
local headers = {["Authorization"] = "Bearer %s", ["Content-Type"] = "application/json"}
local i = math.random(1, #paths)
request = function()
  i = i %% #paths + 1
  return wrk.format(method, paths[i], headers, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.duration))
end
"""


def _lua(text) -> str:
    return "nil" if text is None else "[==[" + text.decode() + "]==]"


def drive_wrk(port, requests, connections, duration) -> dict:
    """Run the load with wrk (a C load generator: far less client CPU than Python)."""
    method = requests[0][0]
    script = WRK_SCRIPT % (",".join(_lua(b) for _, _, b in requests) if method == "POST" else "",
                           ",".join(f'"{p}"' for _, p, _ in requests), method, KEY)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s", "-s", f.name,
                   f"http://127.0.0.1:{port}"]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    n, errors, p50, p95, p99, micros = map(int, out.split("RESULT")[1].split())
    return {"requests": n, "rps": n / (micros / 1e6), "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000,
            "errors": errors}


BATCHER = "arrears-batcher"     # the micro-batcher thread's name for the OS (arrears.api.batcher)


def cpu_by_thread(pid: int) -> dict | None:
    """CPU time (user + system, seconds) of process `pid` and all its descendants, by thread:
    `io` (each process's main thread: waitress's I/O loop, or a watching parent), `batches` (the
    micro-batcher: reading stored accounts and evaluating batches) and `requests` (the request
    threads: HTTP parsing in WSGI, JSON, checks, answers); None if unknown (not Linux)."""
    out = {"io": 0.0, "batches": 0.0, "requests": 0.0}
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            base = f"/proc/{pid}/task/{task}"
            fields = Path(f"{base}/stat").read_text().rsplit(")", 1)[1].split()
            kind = ("io" if int(task) == pid else
                    "batches" if Path(f"{base}/comm").read_text().strip() == BATCHER else "requests")
            out[kind] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for child in Path(f"{base}/children").read_text().split():
                for k, v in (cpu_by_thread(int(child)) or {}).items():
                    out[k] += v
        return out
    except (OSError, ValueError, IndexError):
        return None


def cpu_line(before: dict | None, after: dict | None, requests: int) -> str:
    """`server CPU x ms/req (I/O threads a, batches b, request threads c)`, or "" if unknown."""
    if before is None or after is None or not requests:
        return ""
    per = {k: (after[k] - before[k]) / requests * 1000 for k in after}
    return (f"   server CPU {sum(per.values()):.2f} ms/req (I/O {per['io']:.2f}, batches {per['batches']:.2f}, "
            f"request threads {per['requests']:.2f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=64, help="waitress threads per process (the server default)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (arrears.api.workers)")
    parser.add_argument("--clients", type=int, default=1, help="client processes")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--no-batching", action="store_true")
    parser.add_argument("--only", choices=("decide", "stored"))
    parser.add_argument("--mix", choices=("portfolio", "example"), default="portfolio",
                        help="accounts: generated across jurisdictions, or copies of examples/account.json")
    parser.add_argument("--trace", action="store_true", help="ask for each decision's trace (?trace=true)")
    parser.add_argument("--batch-wait-ms", type=float, help="api.batcher_max_wait_ms (default: the server's)")
    parser.add_argument("--client", choices=("python", "wrk"),
                        default="wrk" if shutil.which("wrk") else "python",
                        help="load generator (default: wrk when installed)")
    parser.add_argument("--key", choices=("config", "stored"), default="config",
                        help="authenticate with the configured key or with one kept in the database")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        ids, bodies = seed(db_url, args.accounts, args.mix)
        if args.key == "stored":
            global KEY
            from arrears.engine.store import Store
            with Store(db_url) as store:
                KEY, _ = store.api_keys.create("admin", "bench", by="bench")
        port = free_port()
        server = start_server(db_url, port, args.threads, not args.no_batching, args.workers,
                              args.batch_wait_ms)
        try:
            query = "?trace=true" if args.trace else ""
            suites = {"decide": ("POST /v1/decide", [("POST", f"/v1/decide{query}", b.encode()) for b in bodies]),
                      "stored": ("GET /v1/accounts/{id}/decision",
                                 [("GET", f"/v1/accounts/{i}/decision{query}", None) for i in ids])}
            client = "wrk" if args.client == "wrk" else f"{args.clients} Python client process(es)"
            print(f"{os.cpu_count()} CPUs; {args.workers} server process(es) x {args.threads} waitress threads; "
                  f"{args.connections} keep-alive "
                  f"connections from {client}; micro-batching "
                  f"{'off' if args.no_batching else 'on'}; {args.mix} accounts; trace "
                  f"{'on' if args.trace else 'off'}; {args.key} key; {args.duration:.0f} s per endpoint")
            for name, (label, requests) in suites.items():
                if args.only and name != args.only:
                    continue
                load = os.getloadavg()[0]
                if args.client == "wrk":
                    drive_wrk(port, requests, args.connections, 2)                  # warm-up
                    cpu0 = cpu_by_thread(server.pid)
                    r = drive_wrk(port, requests, args.connections, int(args.duration))
                else:
                    drive(port, requests, args.connections, args.clients, 2.0)      # warm-up
                    cpu0 = cpu_by_thread(server.pid)
                    r = drive(port, requests, args.connections, args.clients, args.duration)
                cpu = cpu_line(cpu0, cpu_by_thread(server.pid), r["requests"])
                print(f"{label:34s} {r['rps']:8.0f} req/s   p50 {r['p50']:6.1f} ms   p95 {r['p95']:6.1f} ms"
                      f"   p99 {r['p99']:6.1f} ms   errors {r['errors']}{cpu}   (load before {load:.2f})")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as resp:
                names = ("arrears_decide_batch_size_sum", "arrears_decide_batch_size_count")
                sizes = dict(line.split()[0].rsplit("_", 1)[1:] + line.split()[1:]
                             for line in resp.read().decode().splitlines() if line.startswith(names))
            if float(sizes.get("count", 0)):
                which = " (the counters of one of the processes)" if args.workers > 1 else ""
                print(f"  micro-batches: {float(sizes['sum']) / float(sizes['count']):.1f} accounts on average "
                      f"over {float(sizes['count']):.0f} batches{which}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
