"""`arrears serve --demo` as a real process: the API and the tick together, demo data, a key."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.serving import read_until_listening
from tests.waiting import wait_until

pytestmark = pytest.mark.slow
KEY_LINE = re.compile(r"demo API key \(admin\): (\S+)")


def _get(url: str, key: str | None = None):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-api-processes"])
def test_serve_demo_answers_with_decisions_from_its_first_tick(tmp_path, workers):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    proc = subprocess.Popen([sys.executable, "-m", "arrears.engine", "serve", "--demo", "--port", "0",
                             "--workers", str(workers), "--db", f"sqlite:///{tmp_path / 'demo.db'}"],
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        base, log = read_until_listening(proc)
        key = next((m[1] for m in map(KEY_LINE.search, log) if m), None)
        assert base and key and "loaded 500 demo accounts" in "".join(log), "".join(log)
        assert _get(f"{base}/healthz")[1]["status"] == "ok"
        items = wait_until(lambda: _get(f"{base}/v1/decisions?limit=5", key)[1]["items"],
                           120, 0.2, what="decisions from the demo's first tick")
        assert items[0]["policy_digest"].startswith("sha256:")
        status, account = _get(f"{base}/v1/accounts/{items[0]['account_id']}", key)
        assert status == 200 and account["account"]["id"] == items[0]["account_id"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
