"""`arrears users`: add, list, disable, enable, passwd, role, as a real process on a real SQLite file."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from arrears.console.passwords import verify
from arrears.engine.store import Store


def _run(db, *args, stdin: str | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    return subprocess.run([sys.executable, "-m", "arrears.engine", "users", *args, "--db", f"sqlite:///{db}"],
                          input=stdin, capture_output=True, text=True, env=env, timeout=60)


def test_add_list_and_change_users(tmp_path):
    db = tmp_path / "u.db"
    r = _run(db, "add", "maria", "--role", "compliance", "--password-stdin", stdin="a long secret 123\n")
    assert r.returncode == 0 and r.stdout == "added maria (compliance)\n", r.stderr
    assert _run(db, "add", "sam", "--role", "agent", "--password-stdin", stdin="another secret 45\n").returncode == 0
    listing = _run(db, "list")
    assert listing.stdout.splitlines() == ["maria                    compliance  active",
                                           "sam                      agent       active", "2 users"]
    rows = json.loads(_run(db, "list", "--format", "json").stdout)
    assert [(u["username"], u["role"]) for u in rows] == [("maria", "compliance"), ("sam", "agent")]
    assert "password" not in json.dumps(rows) and "argon2" not in json.dumps(rows)
    assert _run(db, "list", "--format", "csv").stdout.splitlines()[0] == \
        "username,role,disabled,created_at,last_login_at"
    assert _run(db, "disable", "sam").stdout == "sam: disabled\n"
    assert _run(db, "role", "maria", "manager").stdout == "maria: role manager\n"
    assert _run(db, "passwd", "maria", "--password-stdin", stdin="a brand new secret\n").returncode == 0
    with Store(f"sqlite:///{db}") as store:
        maria, sam = store.users.get("maria"), store.users.get("sam")
        assert maria.role == "manager" and sam.disabled
        assert verify(maria.password_hash, "a brand new secret") and not verify(maria.password_hash, "a long secret 123")
        kinds = [e for e in ("user.added", "user.updated", "user.password_changed")]
        from sqlalchemy import select

        from arrears.engine.store.schema import audit
        with store.engine.connect() as conn:
            logged = [r.kind for r in conn.execute(select(audit.c.kind, audit.c.body)) if r.kind.startswith("user.")]
            bodies = " ".join(r.body for r in conn.execute(select(audit.c.body)))
    assert logged == ["user.added", "user.added", "user.updated", "user.updated", "user.password_changed"]
    assert set(kinds) <= set(logged) and "secret" not in bodies
    assert _run(db, "enable", "sam").stdout == "sam: enabled\n"


def test_bad_input_is_one_line_and_a_documented_exit_code(tmp_path):
    db = tmp_path / "u.db"
    r = _run(db, "add", "maria", "--role", "compliance", "--password-stdin", stdin="short\n")
    assert r.returncode == 2 and r.stderr == "arrears users add: the password must be at least 12 characters\n"
    r = _run(db, "add", "maria", "--role", "compliance", "--password-stdin", stdin="maria\n")
    assert r.returncode == 2
    r = _run(db, "add", "maria", "--role", "boss", "--password-stdin", stdin="a long secret 123\n")
    assert r.returncode == 2 and "invalid choice: 'boss'" in r.stderr
    r = _run(db, "add", "maria", "--role", "agent", stdin="")         # no terminal, no --password-stdin
    assert r.returncode == 2 and "--password-stdin" in r.stderr
    assert _run(db, "add", "maria", "--role", "agent", "--password-stdin", stdin="a long secret 123\n").returncode == 0
    r = _run(db, "add", "maria", "--role", "agent", "--password-stdin", stdin="a long secret 123\n")
    assert r.returncode == 1 and r.stderr == "arrears users add: the username 'maria' is taken\n"
    r = _run(db, "disable", "nobody")
    assert r.returncode == 1 and r.stderr == "arrears users disable: no user 'nobody'\n"
    for r in (_run(db, "passwd", "nobody", "--password-stdin", stdin="x\n"),):
        assert r.returncode == 1 and "Traceback" not in r.stderr
