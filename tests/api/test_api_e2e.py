"""End to end: the API served by waitress in a real process on a port of its own choosing,
driven over HTTP."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.api.apikit import AT, KEYS, ROOT, account, events
from tests.serving import read_until_listening
from tests.waiting import wait_until

SERVER = """
import json, sys
from arrears.api import create_app
from arrears.api.server import serve
config = json.loads(sys.argv[1])
serve(create_app(config), "127.0.0.1", config.pop("port"), threads=8, workers=config.pop("workers"))
"""


class Http:
    """A tiny urllib client for one server (at `base`, e.g. http://127.0.0.1:43817)."""

    def __init__(self, base: str):
        self.base = base

    def __call__(self, method: str, path: str, body=None, role="admin", headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if role:
            req.add_header("Authorization", f"Bearer {KEYS[role]}")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()


def _started(proc) -> Http:
    """A client of the server `proc` (started on port 0, its own pick), once it answers /healthz;
    fails at once if it exits, after two minutes if it hangs."""
    base, log = read_until_listening(proc)
    if base is None:
        proc.kill()
        pytest.fail(f"the server never said where it listens (status {proc.wait()}): {''.join(log)}")
    http = Http(base)

    def healthy() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with status {proc.returncode}: {''.join(log)}")
        return http("GET", "/healthz", role=None)[0] == 200

    try:
        wait_until(healthy, 120, 0.1, what="the server to answer /healthz", ignore=(OSError,))
    except BaseException:
        proc.kill()
        raise
    return http


@pytest.fixture(params=[1, 2], ids=["one-process", "two-processes"])
def server(request, tmp_path):
    config = {"database_url": f"sqlite:///{tmp_path / 'e2e.db'}", "port": 0, "workers": request.param,
              "api": {"keys": {key: role for role, key in KEYS.items()}}}
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(config)], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, text=True)
    http = _started(proc)
    yield http
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    proc.stderr.close()


def test_an_integrator_session_over_http(server):
    status, _, body = server("PUT", "/v1/accounts/ACME-0042", account(), role="integrator")
    assert status == 201
    pay = {"type": "payment", "at": "2026-11-20T10:00:00Z", "amount": "100.00"}
    first = server("POST", "/v1/accounts/ACME-0042/events", pay, headers={"Idempotency-Key": "psp-1"})
    again = server("POST", "/v1/accounts/ACME-0042/events", pay, headers={"Idempotency-Key": "psp-1"})
    assert first[0] == again[0] == 201 and first[2] == again[2]
    assert again[1]["Idempotent-Replayed"] == "true"
    status, _, body = server("GET", f"/v1/accounts/ACME-0042/decision?at={AT}&trace=true")
    decision = json.loads(body)
    assert status == 200 and decision["balance"]["amount"] == "4960.50" and decision["trace"]
    status, _, body = server("POST", "/v1/decide", {"account": account(), "events": events(), "at": AT})
    assert status == 200 and json.loads(body)["account_id"] == "ACME-0042"
    assert server("GET", f"/v1/work-queue?at={AT}", role="agent")[0] == 200


def test_errors_and_operations_over_http(server):
    status, headers, body = server("POST", "/v1/decide", {"account": {"id": "X"}})
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["errors"][0]["pointer"] == "/account/currency"
    assert server("GET", "/v1/decisions", role=None)[0] == 401
    status, headers, body = server("GET", "/metrics", role=None)
    assert status == 200 and b"arrears_http_requests_total" in body
    status, _, body = server("GET", "/v1/openapi.json", role=None)
    assert status == 200 and json.loads(body)["openapi"] == "3.1.0"


def test_python_dash_m_api_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    env["ARREARS_API_KEYS"] = f"{KEYS['integrator']}:integrator"
    proc = subprocess.Popen([sys.executable, "-m", "arrears.api.server", "--db", f"sqlite:///{tmp_path / 'm.db'}",
                             "--port", "0", "--threads", "4"], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        http = _started(proc)
        assert http.base.startswith("http://127.0.0.1:")                  # where it said it listens
        assert http("GET", "/v1/decisions", role="integrator")[0] == 200
        assert http("GET", "/v1/policies", role="integrator")[0] == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        proc.stderr.close()
