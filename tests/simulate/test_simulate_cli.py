"""`arrears simulate`: against the store's active version or the configured file, text and
JSON output, capacity from the config file, and every error path (exit 1, nothing written)."""
from __future__ import annotations

import json

import pytest

from arrears.engine.cli import main
from arrears.engine.policy.load import load_policy
from tests.simulate.simkit import AT, CALL_AT_3, CALL_AT_30, POLICY, edit, snapshot


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("ARREARS_DATABASE_URL", "ARREARS_POLICY", "ARREARS_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def files(tmp_path):
    """The active policy and two candidates as files."""
    paths = {}
    for name, text in (("active.yaml", POLICY), ("call30.yaml", CALL_AT_30), ("call3.yaml", CALL_AT_3)):
        paths[name] = tmp_path / name
        paths[name].write_text(text, encoding="utf-8")
    return paths


def simulate(capsys, *args) -> tuple[int, str, str]:
    code = main(["simulate", "--at", AT, *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_against_the_stored_active_version(store, db_url, files, capsys):
    old = load_policy(POLICY, filename="active.yaml")
    store.record_policy(old.name, old.version, old.digest, POLICY)
    before = snapshot(store)
    code, out, err = simulate(capsys, "--candidate", files["call30.yaml"], "--database", db_url,
                              "--format", "json", "--sample", "1")
    assert code == 0, err
    report = json.loads(out)
    assert report["policies"]["active"]["digest"] == old.digest
    assert report["changes"]["transitions"] == [{"from": "call", "to": "reminder", "accounts": 1},
                                                {"from": None, "to": "reminder", "accounts": 1}]
    assert len(report["changes"]["sample"]) == 1
    assert "no policy is active" not in err
    assert snapshot(store) == before                       # nothing stored, nothing audited


def test_text_against_the_configured_file_when_none_is_active(store, db_url, files, capsys):
    code, out, err = simulate(capsys, "--candidate", files["call30.yaml"], "--db", db_url,
                              "--policy", files["active.yaml"])
    assert code == 0, err
    assert f"no policy is active in the database; using {files['active.yaml']}" in err
    assert "Stage changes: 2 accounts" in out and "call -> reminder: 1" in out


def test_capacity_comes_from_the_config_file_and_the_flag_overrides_it(store, db_url, files, tmp_path, capsys):
    config = tmp_path / "arrears.toml"
    config.write_text(f'database_url = "{db_url}"\npolicy = "active.yaml"\n\n[channels.call]\n'
                      f'queue_db = "{tmp_path / "q.db"}"\ndaily_capacity = 1\n', encoding="utf-8")
    code, out, err = simulate(capsys, "--candidate", files["call3.yaml"], "--config", config, "--format", "json")
    assert code == 0, err
    [call] = [r for r in json.loads(out)["contacts"]["by_kind"] if r["kind"] == "call"]
    assert (call["capacity"], call["active"], call["candidate"], call["candidate_over"]) == (1, 1, 2, 1)
    code, out, _ = simulate(capsys, "--candidate", files["call3.yaml"], "--config", config, "--format", "json",
                            "--capacity", "call=5")
    [call] = [r for r in json.loads(out)["contacts"]["by_kind"] if r["kind"] == "call"]
    assert (call["capacity"], call["candidate_over"]) == (5, 0)
    assert not (tmp_path / "q.db").exists()                 # no channel was set up, nothing queued


def test_a_candidate_with_errors_is_reported_as_file_line_col(store, db_url, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(edit(("days_past_due: 20", "days_past_due: twenty"), ("tone: neutral", "tone: rude")),
                   encoding="utf-8")
    code, out, err = simulate(capsys, "--candidate", bad, "--db", db_url)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) >= 2 and all(line.startswith(f"{bad}:") for line in lines)
    text = bad.read_text().splitlines()
    for line in lines:
        number = int(line.split(":")[1])
        assert text[number - 1].strip().startswith(("days_past_due", "tone")), line


@pytest.mark.parametrize("setup, status, message", [
    ("missing-db", 3, "no database file at"),
    ("missing-candidate", 2, "no such file"),
    ("bad-at", 2, "--at"),
    ("empty-db", 3, "has no Arrears schema"),
])
def test_unusable_inputs_exit_2_or_3_and_create_nothing(setup, status, message, files, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'none.db'}"
    args = ["--candidate", files["call30.yaml"], "--db", url]
    if setup == "missing-candidate":
        args[1] = tmp_path / "nope.yaml"
    if setup == "empty-db":
        import sqlite3
        sqlite3.connect(tmp_path / "none.db").close()
    if setup == "bad-at":
        code = main(["simulate", "--at", "yesterday", *map(str, args)])
        out, err = capsys.readouterr()
    else:
        code, out, err = simulate(capsys, *args)
    assert code == status and message in err and out == ""
    if setup != "empty-db":
        assert not (tmp_path / "none.db").exists()


def test_a_broken_stored_active_policy_is_an_error(store, db_url, files, capsys):
    store.record_policy("small", "0", "sha256:broken", "metadata: [unclosed\n")
    code, _, err = simulate(capsys, "--candidate", files["call30.yaml"], "--db", db_url)
    assert code == 1 and "the active policy does not load" in err and "<stored policy small 0>:2:1: YAML syntax error" in err


@pytest.mark.parametrize("args", [["--capacity", "call"], ["--capacity", "call=-1"], ["--sample", "x"],
                                  ["--format", "yaml"]])
def test_bad_arguments_are_usage_errors(args, files, db_url, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--candidate", str(files["call30.yaml"]), "--db", db_url, *args])
    assert exc.value.code == 2


def test_several_candidates_each_against_the_active_one(store, db_url, files, capsys):
    old = load_policy(POLICY, filename="active.yaml")
    store.record_policy(old.name, old.version, old.digest, POLICY)
    code, out, err = simulate(capsys, "--candidate", files["call30.yaml"], "--candidate", files["call3.yaml"],
                              "--database", db_url, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    for name, report in zip(("call30.yaml", "call3.yaml"), data["candidates"]):
        code, single, _ = simulate(capsys, "--candidate", files[name], "--database", db_url, "--format", "json")
        assert code == 0 and json.loads(single) == report        # each exactly as if simulated alone
    assert len(data["candidates"]) == 2
    assert [s["file"] for s in data["summary"]] == [str(files["call30.yaml"]), str(files["call3.yaml"])]
    for report, line in zip(data["candidates"], data["summary"]):
        assert line["stage_changes"] == report["changes"]["stage"]
        assert line["contacts_candidate"] == sum(c["candidate"] for c in report["contacts"]["by_channel"])
    code, out, _ = simulate(capsys, "--candidate", files["call30.yaml"], "--candidate", files["call3.yaml"],
                            "--database", db_url)
    assert code == 0 and out.count("== candidate ") == 2 and "candidates side by side" in out
