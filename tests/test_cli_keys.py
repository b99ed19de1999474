"""`arrears keys create|list|revoke` on a real SQLite store."""
from __future__ import annotations

import contextlib
import csv
import io
import json

import pytest

from arrears.engine.cli import main
from arrears.engine.store import Store
from arrears.engine.store.apikeys import digest_of


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'arrears.db'}"


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_prints_the_key_once_and_only_its_digest_is_kept(db, capsys):
    code, out, err = _run(capsys, "keys", "create", "--role", "integrator", "--label", "billing", "--db", db)
    key = out.strip()
    assert code == 0 and key.startswith("ark_") and "shown once" in err and key not in err
    with Store(db) as store:
        (row,) = store.api_keys.listing()
        assert row.digest == digest_of(key) and row.created_by == "cli"
    for fmt in ("text", "json", "csv"):
        code, out, _ = _run(capsys, "keys", "list", "--db", db, "--format", fmt)
        assert code == 0 and key not in out and row.digest not in out and row.key_id in out
    rows = list(csv.DictReader(io.StringIO(_run(capsys, "keys", "list", "--db", db, "--format", "csv")[1])))
    assert rows[0]["label"] == "billing" and rows[0]["revoked_at"] == ""
    assert _run(capsys, "keys", "list", "--db", db)[1].splitlines()[-1] == "1 key"


def test_revoke_then_again_and_an_unknown_id_are_1(db, capsys):
    _run(capsys, "keys", "create", "--role", "agent", "--label", "phones", "--db", db)
    code, out, _ = _run(capsys, "keys", "revoke", "1", "--db", db, "--format", "json")
    assert code == 0 and json.loads(out)["revoked_by"] == "cli"
    code, out, err = _run(capsys, "keys", "revoke", "1", "--db", db)
    assert code == 1 and out == "" and "already revoked" in err
    code, _, err = _run(capsys, "keys", "revoke", "7", "--db", db)
    assert code == 1 and err.strip() == "arrears keys revoke: no key 7"
    assert "revoked" in _run(capsys, "keys", "list", "--db", db)[1]


@pytest.mark.parametrize("argv", [("--role", "boss", "--label", "x"), ("--role", "agent", "--label", "  ")])
def test_bad_arguments_are_2(db, capsys, argv):
    with pytest.raises(SystemExit) if argv[1] == "boss" else contextlib.nullcontext():
        code, _, _ = _run(capsys, "keys", "create", *argv, "--db", db)
        assert code == 2

