"""Every `arrears` command follows one convention (README.md, "The command line"): `--format`
with `text` (the default) and `json`, `csv` where the output is a table; `--db` with one default
wherever a database is opened; old spellings only as documented aliases with a deprecation line;
counted nouns in the right number. Through the real parser and the real commands on real files
and SQLite stores."""
from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pytest

import arrears.engine.cli as cli
from arrears.engine.cli import main
from arrears.engine.cli.options import DATABASE_DEFAULT
from arrears.engine.domain.words import plural

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "default.yaml"
ACCOUNT = ROOT / "examples" / "account.json"
SAMPLE = ROOT / "examples" / "replay" / "sample.csv"
# The commands whose output is a table, so `csv` too; and the ones without `--format`: `serve`
# and `worker` print no result, only their log.
TABLES = {"kpis", "goals", "outbox unknown", "users list", "keys list"}
NO_FORMAT = {"serve", "worker"}
# The commands that open no database (so no `--db`). (`validate` opens one only when asked, for
# its warnings: `--db`, `--against active`.)
NO_DATABASE = {"test", "explain", "plugins", "replay", "ladder", "experiment validate"}


def _leaves(parser: argparse.ArgumentParser, prefix: str = ""):
    """(command name, its parser) for every runnable subcommand, actions of `audit`/`outbox` included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                inner = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
                yield from (_leaves(sub, f"{prefix}{name} ") if inner else [(f"{prefix}{name}", sub)])


LEAVES = dict(_leaves(cli.build_parser()))


def _option(parser, flag):
    return next((a for a in parser._actions if flag in a.option_strings), None)


def test_every_command_is_audited():
    assert set(LEAVES) == {"validate", "test", "explain", "import", "audit verify", "plugins", "tick", "serve",
                           "worker", "status", "outbox unknown", "outbox resolve", "simulate", "replay", "kpis", "goals", "report",
                           "ladder", "users add", "users list", "users disable", "users enable",
                           "users passwd", "users role", "keys create", "keys list", "keys revoke",
                           "experiment validate", "experiment start", "experiment status", "experiment stop",
                           "experiment resume", "experiment promote"}


@pytest.mark.parametrize("command", sorted(set(LEAVES) - NO_FORMAT))
def test_format_is_text_by_default_json_and_csv_for_tables(command):
    action = _option(LEAVES[command], "--format")
    expected = ("text", "json", "csv") if command in TABLES else ("text", "json")
    assert action is not None and action.default == "text"
    assert action.formats == expected
    assert action.metavar == "{" + ",".join(expected) + "}"


@pytest.mark.parametrize("command", sorted(set(LEAVES) - NO_DATABASE))
def test_db_has_one_name_and_one_default(command):
    action = _option(LEAVES[command], "--db")
    assert action is not None and action.option_strings == ["--db", "--database"]
    assert action.help == f"database URL (default: {DATABASE_DEFAULT})"
    assert _option(LEAVES[command], "--config") is not None      # where that default may come from


def test_the_commands_without_a_database_have_no_db():
    assert all(_option(LEAVES[c], "--db") is None for c in NO_DATABASE)


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A clean environment in tmp_path with a store holding two imported accounts."""
    for name in [n for n in os.environ if n.startswith("ARREARS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    account = json.loads(ACCOUNT.read_text(encoding="utf-8"))
    lines = [json.dumps({**account, "id": f"ACME-{i}"}) for i in (1, 2)]
    (tmp_path / "accounts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(POLICY, tmp_path / "default.yaml")
    shutil.copy(ROOT / "policies" / "default_test.yaml", tmp_path / "default_test.yaml")
    db = f"sqlite:///{tmp_path / 'arrears.db'}"
    assert main(["import", "accounts.jsonl", "--db", db]) == 0
    return {"db": db, "tmp": tmp_path}


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


PERIOD = ("--from", "2026-10-01", "--to", "2026-10-31")
JSON_RUNS = {
    "validate": ("validate", "default.yaml"),
    "test": ("test", "default_test.yaml"),
    "explain": ("explain", "--policy", "default.yaml", "--account", ACCOUNT, "--at", "2026-11-23T10:00:00Z"),
    "import": ("import", "accounts.jsonl", "--db", "{db}"),
    "audit verify": ("audit", "verify", "--db", "{db}"),
    "plugins": ("plugins", "--no-entrypoints"),
    "tick": ("tick", "--db", "{db}", "--no-dispatch", "--at", "2026-11-23T10:00:00Z"),
    "outbox unknown": ("outbox", "unknown", "--db", "{db}"),
    "kpis": ("kpis", *PERIOD, "--db", "{db}"),
    "goals": ("goals", "--db", "{db}", "--at", "2026-11-23"),
    "report": ("report", *PERIOD, "--out", "report.html", "--db", "{db}"),
    "users list": ("users", "list", "--db", "{db}"),
    "keys list": ("keys", "list", "--db", "{db}"),
    "keys create": ("keys", "create", "--role", "integrator", "--label", "billing", "--db", "{db}"),
}


@pytest.mark.parametrize("command", sorted(JSON_RUNS))
def test_format_json_prints_one_json_document(world, capsys, command):
    argv = [str(a).format(**world) for a in JSON_RUNS[command]]
    code, out, err = _run(capsys, *argv, "--format", "json")
    assert code == 0, err
    json.loads(out)


def test_outbox_resolve_answers_in_json(world, capsys):
    """An unknown row settled with --format json (the row made unknown with SQL, as a crash would)."""
    import sqlite3
    assert main(["tick", "--db", world["db"], "--no-dispatch", "--at", "2026-11-23T10:00:00Z"]) == 0
    capsys.readouterr()
    with sqlite3.connect(world["tmp"] / "arrears.db") as conn:
        (row,) = conn.execute("SELECT id FROM outbox ORDER BY id LIMIT 1").fetchone() or pytest.skip("no contact")
        conn.execute("UPDATE outbox SET status = 'unknown', claimed_by = 'dead', claimed_at = 1 WHERE id = ?",
                     (row,))
    code, out, err = _run(capsys, "outbox", "resolve", row, "--as", "failed", "--by", "ops", "--db", world["db"],
                          "--format", "json")
    assert code == 0, err
    assert json.loads(out) == {"id": row, "outcome": "failed", "by": "ops", "provider_id": None,
                               "audit": "delivery.resolved.failed"}


@pytest.mark.parametrize("command", sorted(TABLES))
def test_format_csv_prints_a_table_with_a_header(world, capsys, command):
    argv = [str(a).format(**world) for a in JSON_RUNS[command]]
    code, out, err = _run(capsys, *argv, "--format", "csv")
    assert code == 0, err
    header = out.splitlines()[0].split(",")
    assert len(header) > 3 and all(header)


def test_an_unknown_format_is_a_usage_error(world, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["audit", "verify", "--db", world["db"], "--format", "yaml"])
    assert stopped.value.code == 2
    assert "invalid choice: 'yaml' (choose from text, json)" in capsys.readouterr().err


# --- old spellings: documented aliases with a deprecation line -----------------------------------

@pytest.mark.parametrize("argv", [
    ("kpis", *PERIOD, "--db", "{db}"),
    ("goals", "--db", "{db}", "--at", "2026-11-23"),
])
def test_format_table_still_works_as_text_with_a_deprecation_line(world, capsys, argv):
    argv = [str(a).format(**world) for a in argv]
    code, text, err = _run(capsys, *argv)
    assert (code, err) == (0, "")
    code, table, err = _run(capsys, *argv, "--format", "table")
    assert code == 0 and table == text
    assert err == f"arrears {argv[0]}: warning: --format table is deprecated; use --format text\n"


def test_tick_json_still_works_with_a_deprecation_line(world, capsys):
    code, out, err = _run(capsys, "tick", "--db", world["db"], "--no-dispatch", "--json")
    assert code == 0 and json.loads(out)["evaluated"] == 2
    assert err == "arrears tick: warning: --json is deprecated; use --format json\n"


def test_import_format_jsonl_still_names_the_file_format_with_a_deprecation_line(world, capsys):
    (world["tmp"] / "accounts.txt").write_text((world["tmp"] / "accounts.jsonl").read_text())
    code, out, err = _run(capsys, "import", "accounts.txt", "--db", world["db"], "--format", "jsonl")
    assert code == 0 and "accounts.txt: 2 accounts stored (0 new, 0 changed, 2 unchanged)" in out
    assert err == "arrears import: warning: --format jsonl is deprecated; use --input-format jsonl\n"
    code, out, _ = _run(capsys, "import", "accounts.txt", "--db", world["db"], "--input-format", "jsonl",
                        "--format", "json")
    assert code == 0 and json.loads(out)["format"] == "jsonl"


# --- one database default ----------------------------------------------------------------------------

def test_every_command_finds_the_database_of_the_config_file(world, capsys, monkeypatch):
    """import and audit verify read the config file's database_url as tick and kpis do (before,
    they ignored it and wrote to ./arrears.db)."""
    tmp = world["tmp"]
    (tmp / "arrears.toml").write_text('database_url = "sqlite:///configured.db"\n', encoding="utf-8")
    monkeypatch.setenv("ARREARS_CONFIG", str(tmp / "arrears.toml"))
    assert _run(capsys, "import", "accounts.jsonl")[0] == 0
    assert (tmp / "configured.db").exists()
    code, out, _ = _run(capsys, "audit", "verify")
    assert code == 0 and out.startswith("OK: 1 entry, ")
    code, out, _ = _run(capsys, "kpis", *PERIOD, "--format", "json")
    assert code == 0 and json.loads(out)
    monkeypatch.setenv("ARREARS_DATABASE_URL", world["db"])       # the environment before the file
    code, out, _ = _run(capsys, "audit", "verify", "--format", "json")
    assert code == 0 and json.loads(out)["entries"] == 1


# --- counted nouns ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("count, noun, words", [
    (0, "problem", "0 problems"), (1, "problem", "1 problem"), (2, "entry", "2 entries"), (1, "entry", "1 entry"),
    (3, "currency", "3 currencies"), (2, "day", "2 days"), (1_234, "account", "1,234 accounts"),
    (2, "plugin error", "2 plugin errors"), (2, "analysis", "2 analyses"),
])
def test_plural(count, noun, words):
    assert plural(count, noun, "analyses" if noun == "analysis" else None) == words


def test_one_of_a_thing_is_singular_in_the_summaries(world, capsys):
    (world["tmp"] / "one.jsonl").write_text((world["tmp"] / "accounts.jsonl").read_text().splitlines()[0] + "\n")
    code, out, _ = _run(capsys, "import", "one.jsonl", "--db", world["db"])
    assert code == 0 and "one.jsonl: 1 account stored (0 new, 0 changed, 1 unchanged); 0 records rejected" in out
    assert _run(capsys, "audit", "verify", "--db", world["db"])[1].startswith("OK: 1 entry, ")
    code, out, _ = _run(capsys, "report", "--from", "2026-10-01", "--to", "2026-10-31", "--out", "r.html",
                        "--db", world["db"], "--no-goals")
    assert code == 0 and out == "wrote r.html (1 currency, 1 period)\n"
    code, out, _ = _run(capsys, "validate", "default.yaml")
    assert out.splitlines()[-1] == "1 file checked, all valid"
