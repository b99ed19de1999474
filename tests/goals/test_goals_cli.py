"""`arrears goals` end to end: a real SQLite file, the goals file found by flag, env or config."""
from __future__ import annotations

import json

import pytest

from arrears.engine.cli import main
from tests.goals.goalkit import NINETY_PLUS, goals_file


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("ARREARS_DATABASE_URL", "ARREARS_POLICY", "ARREARS_CONFIG", "ARREARS_GOALS"):
        monkeypatch.delenv(name, raising=False)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output(tmp_path, store, db_url, capsys):
    path = goals_file(tmp_path, NINETY_PLUS)
    code, out, err = run(capsys, "goals", "--goals", str(path), "--db", db_url, "--at", "2026-02-15",
                         "--format", "json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["at"] == "2026-02-15" and report["source"] == str(path)
    g, = report["goals"]
    assert (g["status"], g["current"]["value"], g["expected"]) == ("on-track", "1200.00", "1348.31")


def test_table_output(tmp_path, store, db_url, capsys):
    code, out, _ = run(capsys, "goals", "--goals", str(goals_file(tmp_path, NINETY_PLUS)), "--db", db_url,
                       "--at", "2026-03-10")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Goals on 2026-03-10 (") and lines[2].split() == [
        "STATUS", "GOAL", "METRIC", "BASELINE", "CURRENT", "EXPECTED", "TARGET"]
    assert lines[3].split() == ["off-track", "ninety-plus", "90+", "balance", "(GBP)", "1500.00", "GBP", "on",
                                "2026-01-01", "1400.00", "GBP", "on", "2026-03-10", "1270.79", "GBP", "<=",
                                "1200.00", "GBP", "by", "2026-03-31"]
    assert "90+ balance down 20% by 31 March" in out and lines[-1] == "1 off-track"


def test_goals_file_from_the_environment_and_from_the_config_file(tmp_path, store, db_url, capsys, monkeypatch):
    sub = tmp_path / "conf"
    sub.mkdir()
    goals_file(sub, NINETY_PLUS, "mine.yaml")
    config = sub / "arrears.toml"
    config.write_text(f'database_url = "{db_url}"\ngoals = "mine.yaml"\n', encoding="utf-8")
    code, out, _ = run(capsys, "goals", "--config", str(config), "--at", "2026-02-15", "--format", "json")
    assert code == 0 and json.loads(out)["source"] == str(sub.resolve() / "mine.yaml")
    other = goals_file(tmp_path, NINETY_PLUS.replace("ninety-plus", "from-env"), "env.yaml")
    monkeypatch.setenv("ARREARS_GOALS", str(other))        # the environment beats the config file
    code, out, _ = run(capsys, "goals", "--config", str(config), "--at", "2026-02-15", "--format", "json")
    assert code == 0 and json.loads(out)["goals"][0]["id"] == "from-env"


def test_problems_in_the_goals_file_are_printed_and_exit_1(tmp_path, store, db_url, capsys):
    path = goals_file(tmp_path, NINETY_PLUS.replace('"90+"', '"91+"').replace("-20", "-20, value: 3"))
    code, out, err = run(capsys, "goals", "--goals", str(path), "--db", db_url)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        (f"{path}:4:22: unknown aging bucket '91+'; did you mean '90+'? (the policy's buckets: current, 1-30, "
        "31-60, 61-90, 90+)"),
        (f"{path}:6:13: give exactly one of `value` (the level to reach) and `change_percent` (the change from "
        "the baseline level); found value and change_percent")]


@pytest.mark.parametrize("argv, status, message", [
    (["--at", "2026-02-30"], 2, "arrears goals: --at: expected a date (YYYY-MM-DD), got '2026-02-30'"),
    (["--db", "sqlite:///{tmp}/none.db"], 3, "arrears goals: no database file at {tmp}/none.db"),
])
def test_bad_arguments(tmp_path, store, db_url, capsys, argv, status, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--db" not in argv:
        argv += ["--db", db_url]
    code, out, err = run(capsys, "goals", *argv)
    assert (code, out, err.strip()) == (status, "", message.replace("{tmp}", str(tmp_path)))
