"""Benchmark: bulk events (POST /v1/events:batch) on the real waitress server over loopback.

    python bench/events.py [--accounts 20000] [--events 100000] [--batch 5000] [--clients 1]
                           [--database sqlite:///…] [--json]

Starts the API (`arrears.api.httpd.create_server`, waitress) in its own process on a free
port over a fresh SQLite file (or `--database`), stores `--accounts` accounts through
`POST /v1/accounts:batch`, then sends `--events` payments, `--batch` items per request,
spread across all the accounts (each with its own idempotency key), from `--clients`
threads, and prints events/s over the whole send (every item checked `stored`), the
mean request time and the CPU seconds the server used. A second pass resends the first
batch to time a retry (every item `duplicate`).

The client runs on the same machine and takes CPU from the server: the figure is what
this machine does with both.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key-0123456789abcdef"
SERVER = """
import json, sys
from arrears.api import create_app
from arrears.api.httpd import create_server
config = json.loads(sys.argv[1])
port = config.pop("port")
server = create_server(create_app(config), "127.0.0.1", port, threads=8)
print("ready", flush=True)
server.run()
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(conn, path: str, body) -> tuple[int, dict]:
    """POST JSON on a keep-alive connection; (status, parsed body)."""
    data = json.dumps(body).encode()
    conn.request("POST", path, data, {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def accounts(n: int) -> list[dict]:
    """`n` small accounts with one overdue invoice each."""
    return [{"id": f"B-{i:07d}", "currency": "GBP",
             "invoices": [{"id": "I1", "amount": "500.00", "due_date": "2026-09-01"}]} for i in range(n)]


def batches(n_events: int, n_accounts: int, size: int) -> list[dict]:
    """Request bodies: payments spread across the accounts, each item keyed."""
    items = [{"account_id": f"B-{i % n_accounts:07d}", "idempotency_key": f"pay-{i}",
              "event": {"type": "payment", "at": "2026-11-20T10:00:00Z", "amount": "1.00",
                        "invoice_id": "I1"}} for i in range(n_events)]
    return [{"items": items[i:i + size]} for i in range(0, len(items), size)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--database")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="arrears-bench-events-")
    port = free_port()
    config = {"database_url": args.database or f"sqlite:///{tmp}/bench.db", "port": port,
              "api": {"keys": {KEY: "integrator"}, "max_bulk_events": max(args.batch, 1),
                      "max_batch_accounts": 5000, "batcher_enabled": False}}
    server = subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(config)], stdout=subprocess.PIPE,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert server.stdout.readline().strip() == b"ready", "the server did not start"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        accts = accounts(args.accounts)
        for i in range(0, len(accts), 5000):
            status, body = post(conn, "/v1/accounts:batch", {"accounts": accts[i:i + 5000]})
            assert status == 200, body
        bodies = batches(args.events, args.accounts, args.batch)
        times: list[float] = []
        todo = list(enumerate(bodies))
        lock = threading.Lock()

        def client():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            while True:
                with lock:
                    if not todo:
                        return
                    _, body = todo.pop(0)
                t0 = time.perf_counter()
                status, out = post(c, "/v1/events:batch", body)
                times.append(time.perf_counter() - t0)
                assert status == 200 and out["stored"] == len(body["items"]), (status, str(out)[:300])

        cpu0, t0 = cpu_seconds(server.pid), time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(server.pid) - cpu0
        r0 = time.perf_counter()
        status, out = post(conn, "/v1/events:batch", bodies[0])
        retry = time.perf_counter() - r0
        assert status == 200 and out["duplicates"] == len(bodies[0]["items"]), str(out)[:300]
        result = {"events": args.events, "accounts": args.accounts, "batch": args.batch,
                  "clients": args.clients,
                  "seconds": round(elapsed, 2), "events_per_second": round(args.events / elapsed),
                  "mean_request_ms": round(1000 * sum(times) / len(times), 1),
                  "server_cpu_seconds": round(cpu, 2), "retry_of_one_batch_ms": round(1000 * retry, 1),
                  "loadavg": os.getloadavg()[0]}
    finally:
        server.terminate()
        server.wait(10)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['events']} events over {result['accounts']} accounts, {result['batch']} per request, "
              f"{result['clients']} client(s): {result['events_per_second']} events/s "
              f"({result['seconds']} s; {result['mean_request_ms']} ms a request; server CPU "
              f"{result['server_cpu_seconds']} s; a retried batch {result['retry_of_one_batch_ms']} ms; "
              f"load {result['loadavg']:.1f})")
    return result


if __name__ == "__main__":
    main()
