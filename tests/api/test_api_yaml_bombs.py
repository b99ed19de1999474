"""Hostile policy texts against a real served instance: its memory (RSS from /proc) stays put.

32 billion-laughs bombs sent at once to `POST /v1/policies:validate` once grew the server
from 87 to 1,047 MiB. They are now refused on the composed tree before anything is
expanded, texts are compiled one at a time (`api.policytext.COMPILES_AT_ONCE`), and a
policy body over 1 MiB is refused before it is read.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from arrears.engine.policy.yamlsrc import MAX_NODES
from tests.serving import read_until_listening

pytestmark = pytest.mark.slow

KEY = "bomb-test-key-0123456789abcdef0123"
GROWTH_LIMIT_MIB = 50
DEFAULT_POLICY = (Path(__file__).resolve().parents[2] / "policies" / "default.yaml").read_bytes()


def _laughs() -> bytes:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return ("\n".join(lines) + "\nmetadata: *a8\n").encode()


def _written_out() -> bytes:
    """No alias at all: as many nodes as the limit allows, written out (about 60 KiB)."""
    return ("metadata: [" + ",".join(["a"] * (MAX_NODES + 10)) + "]\n").encode()


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def _post(base: str, body: bytes, timeout: float = 300):
    req = urllib.request.Request(f"{base}/v1/policies:validate", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/yaml"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`arrears serve --no-scheduler` on a port of its own choosing: (pid, base URL)."""
    tmp = tmp_path_factory.mktemp("bombs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    env["ARREARS_API_KEYS"] = f"{KEY}:compliance"
    proc = subprocess.Popen([sys.executable, "-m", "arrears.engine", "serve", "--no-scheduler", "--port",
                             "0", "--db", f"sqlite:///{tmp / 'bombs.db'}"],
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp)
    try:
        base, log = read_until_listening(proc)
        assert base, "".join(log)
        # Warm up: modules imported and caches filled by a valid policy and by one of each refusal.
        assert _post(base, DEFAULT_POLICY)[1]["valid"] is True
        assert not _post(base, _laughs())[1]["valid"]
        assert not _post(base, _written_out())[1]["valid"]
        yield proc.pid, base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def _flood(server, body: bytes, requests: int):
    """Send `requests` copies of `body` at once; (answers, RSS growth at its peak in MiB)."""
    pid, base = server
    before = _rss_mib(pid)
    peak, done = [before], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mib(pid))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(requests) as pool:
            answers = list(pool.map(lambda _: _post(base, body), range(requests)))
    finally:
        done.set()
        watcher.join()
    return answers, max(peak[0], _rss_mib(pid)) - before


def test_32_alias_bombs_at_once_cost_the_server_almost_nothing(server):
    answers, growth = _flood(server, _laughs(), 32)
    for status, doc in answers:
        assert status == 200 and doc["valid"] is False
        (problem,) = doc["problems"]
        assert problem["detail"] == f"refused: document expands to more than {MAX_NODES} nodes (alias bomb?)"
        assert (problem["line"], problem["column"]) == (5, 5)      # a4: the first level past the limit
    assert growth < GROWTH_LIMIT_MIB, f"the server grew by {growth:.0f} MiB"


def test_documents_of_the_most_nodes_allowed_at_once_stay_bounded(server):
    answers, growth = _flood(server, _written_out(), 6)
    for status, doc in answers:
        assert status == 200
        assert doc["problems"][0]["detail"] == f"refused: document has more than {MAX_NODES} nodes"
    assert growth < GROWTH_LIMIT_MIB, f"the server grew by {growth:.0f} MiB"


def test_a_policy_body_over_1_mib_is_refused_before_it_is_read(server):
    status, doc = _post(server[1], b"a: 1\n" + b"# padding\n" * 200_000)
    assert status == 413
    assert doc["detail"] == "a policy text may be at most 1048576 bytes (1 MiB)"
