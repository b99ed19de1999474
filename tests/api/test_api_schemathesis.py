"""`schemathesis run --checks all` against a served instance: 0 failures of any kind.

The app is served by waitress on a free port in a thread of this process, over a real
SQLite file, with one admin key; the schemathesis command line fuzzes every operation of
the document that instance publishes (`/v1/openapi.json`) in all its phases (examples,
coverage, fuzzing, stateful) and modes (valid and invalid data), with every check:
no server error, status code, content type, response headers and body as documented,
invalid data refused, valid data accepted, requests without a key refused (`ignored_auth`),
unsupported methods answered 405, and so on. Its exit status is the verdict.

Not every check has something to test here, and that is by design, not silenced:
`use_after_free` and `ensure_resource_availability` need an operation that deletes (the
API has none); `object_level_authorization` needs a second principal owning objects (keys
have roles, not tenants). Positive cases are brought within the few rules OpenAPI cannot
state (issued cursors, stored digests, amounts per currency, …): see `schemathesis_hooks`.

Bounded for CI on 2 cores (`ARREARS_SCHEMATHESIS_EXAMPLES` per operation, small batch
limits so the store the fuzzer fills stays small); raise the count for a deeper run, and set
`ARREARS_SCHEMATHESIS_SEED` for other inputs than CI's.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from arrears.api import create_app
from arrears.api.httpd import create_server
from arrears.api.resources import RESOURCES
from tests.api.apikit import KEYS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = int(os.environ.get("ARREARS_SCHEMATHESIS_EXAMPLES", "8"))
SEED = os.environ.get("ARREARS_SCHEMATHESIS_SEED", "20261122")     # another seed: other inputs
TIMEOUT = 900 * max(1, MAX_EXAMPLES // 8)                          # a deeper run takes longer
LIMITS = {"max_batch_items": 3, "max_batch_accounts": 3, "max_batch_events": 3, "max_page_size": 20,
          "page_size": 10, "work_queue_scan": 50}


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(base URL, app) of the API served by waitress on a free port over a fresh SQLite file."""
    for name in ("ARREARS_API_KEYS", "ARREARS_DATABASE_URL", "ARREARS_POLICY"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'fuzz.db'}",
                      "api": {"keys": {KEYS["admin"]: "admin"}, **LIMITS}})
    server = create_server(app, "127.0.0.1", 0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", app
    finally:
        server.close()
        thread.join(5)
        app.extensions["arrears"].close()


def test_schemathesis_run_checks_all_finds_nothing(served, tmp_path):
    base, app = served
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
           "ARREARS_FUZZ_DIGEST": app.extensions["arrears"].policies.active().digest,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    report = tmp_path / "report.json"
    command = [str(Path(sys.executable).with_name("schemathesis")), "run", f"{base}/v1/openapi.json",
               "--checks", "all", "-H", f"Authorization: Bearer {KEYS['admin']}",
               "--max-examples", str(MAX_EXAMPLES), "--seed", SEED, "--workers", "1",
               "--generation-database", "none", "--request-timeout", "30", "--max-response-time", "30",
               "--no-color", "--report", "junit", "--report-junit-path", str(report)]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    summary = done.stdout[-6000:]
    assert done.returncode == 0, f"schemathesis found problems:\n{done.stdout[-20000:]}\n{done.stderr[-2000:]}"
    # Every operation was fuzzed (schemathesis leaves out the document's own URL, /v1/openapi.json).
    operations = sum(len(r.operations) for r in RESOURCES)
    selected = re.search(r"Selected: (\d+)/(\d+)", summary)
    assert selected and selected.group(1) == selected.group(2) == str(operations - 1), summary
    assert f"Tested: {operations - 1}" in summary, summary
    assert re.search(r"\d+ generated, (\d+) passed", summary), summary
