"""`arrears serve --demo` keeps its demo key across restarts of the same database: two real starts
on one SQLite file print the same key, and the second process accepts it."""
from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from arrears.engine.cli.serve import demo_key
from tests.serving import read_until_listening

KEY_LINE = re.compile(r"demo API key \(admin\): (\S+)")


def _status(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.loads(response.read())
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _start(tmp_path, db: str, check_key: str | None = None) -> str:
    """Start `arrears serve --demo` on `db`, read its key, ask the API with `check_key` (or the
    key printed), stop it; returns the key it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    proc = subprocess.Popen([sys.executable, "-m", "arrears.engine", "serve", "--demo", "--no-scheduler",
                             "--port", "0", "--db", db], stderr=subprocess.PIPE, text=True, env=env,
                            cwd=tmp_path)
    try:
        base, log = read_until_listening(proc)
        key = next((m[1] for m in map(KEY_LINE.search, log) if m), None)
        assert base and key, "".join(log)
        url = f"{base}/v1/decisions?limit=1"
        assert _status(url, check_key or key) == 200
        assert _status(url, "demo-" + "x" * 24) == 401          # not any key: this one
        return key
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


@pytest.mark.slow
def test_two_starts_on_one_sqlite_file_print_the_same_key(tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    first = _start(tmp_path, db)
    second = _start(tmp_path, db, check_key=first)
    assert first == second
    assert _start(tmp_path, f"sqlite:///{tmp_path / 'other.db'}") != first    # a database of its own


def test_the_key_is_kept_beside_the_database_readable_by_its_owner_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'arrears.db'}"
    key, kept = demo_key(url)
    assert kept == tmp_path / "arrears.db.demo-key"
    assert re.fullmatch(r"demo-[A-Za-z0-9_-]{24}", key)
    assert kept.read_text(encoding="ascii") == key + "\n"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert demo_key(url) == (key, kept)


def test_a_damaged_key_file_gets_a_new_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'arrears.db'}"
    (tmp_path / "arrears.db.demo-key").write_text("not a key\n", encoding="ascii")
    key, kept = demo_key(url)
    assert key != "not a key" and kept.read_text(encoding="ascii") == key + "\n"


def test_without_a_database_file_a_new_key_each_start_and_no_file(tmp_path):
    first, kept = demo_key("sqlite://")
    assert kept is None and first != demo_key("sqlite://")[0]
    assert list(tmp_path.iterdir()) == []
