"""`arrears replay` end to end: outputs, determinism across processes, errors, exit status."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from arrears.engine.cli import main
from tests.replay.replaykit import GENERATOR, ROOT, SAMPLE, write_csv

MARCH = ["--from", "2025-03-01", "--to", "2025-03-31"]


def test_text_report_has_every_section(capsys):
    assert main(["replay", str(SAMPLE), *MARCH]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"replay of {SAMPLE}: 64 accounts, 300 invoices (0 rows rejected)\n")
    for heading in ("period ", "contacts by stage and channel", "accounts held back, by rule",
                    "portfolio (from the file)", "KPIs 2025-03-01 to 2025-03-31", "assumptions: "):
        assert heading in out
    assert "\n2025-03 " in out and "\ntotal " in out
    assert "evaluations (" in err and "/s)" in err            # timings go to stderr only


@pytest.mark.slow
def test_json_is_identical_across_processes(tmp_path):
    """Byte for byte, whatever the hash seed: no set or dict order leaks into the output."""
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-m", "arrears.engine", "replay", str(SAMPLE), *MARCH, "--by", "week",
                               "--format", "json", "--contacts", str(tmp_path / f"c{seed}.csv")],
                              capture_output=True, cwd=ROOT, env=env, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr.decode()
        outputs.append((proc.stdout, (tmp_path / f"c{seed}.csv").read_bytes()))
    assert outputs[0] == outputs[1]
    report = json.loads(outputs[0][0])
    assert [p["period"] for p in report["timeline"]][:2] == ["2025-W09", "2025-W10"]
    rows = list(csv.reader(outputs[0][1].decode().splitlines()))
    assert rows[0][:3] == ["account_id", "day", "at"]
    assert len(rows) - 1 == report["total"]["contacts"] > 0
    assert all("2025-03-01" <= r[1] <= "2025-03-31" for r in rows[1:])


def test_rejected_rows_are_reported_and_the_rest_replayed(tmp_path, capsys):
    path = write_csv(tmp_path, [
        "A1,consumer,GB-ENG,Europe/London,GBP,I1,2025-01-01,2025-01-31,500.00,,,,,",
        "B1,consumer,GB-ENG,Europe/London,GBP,J1,2025-01-01,2025-01-31,80.00,2024-12-01,,,,",
    ])
    rejects = tmp_path / "rejects.jsonl"
    code = main(["replay", str(path), "--from", "2025-01-01", "--to", "2025-02-28", "--format", "json",
                 "--rejects", str(rejects)])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"{path}:3: settled_date: 2024-12-01 is before the invoice date 2025-01-01" in err
    report = json.loads(out)
    assert report["accounts"] == 1 and report["rejected"]["count"] == 1
    assert report["rejected"]["rows"] == [{"line": 3, "reason": "settled_date: 2024-12-01 is before the "
                                                                "invoice date 2025-01-01"}]
    (line,) = rejects.read_text().splitlines()
    assert json.loads(line)["record"]["account_id"] == "B1"


@pytest.mark.parametrize("args, message", [
    (["--from", "2025-02-01", "--to", "2025-01-01"], "--from 2025-02-01 is after --to 2025-01-01"),
    (["--from", "2025-13-01", "--to", "2025-12-31"], "--from: expected a date"),
    (["--from", "2025-01-01", "--to", "2025-01-31", "--tick-hours", "5"], "--tick-hours must divide 24"),
    (["--from", "2025-01-01", "--to", "2025-01-31", "--policy", "no-such-policy.yaml"], "no-such-policy.yaml"),
])
def test_bad_arguments_replay_nothing(capsys, args, message):
    assert main(["replay", str(SAMPLE), *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err


def test_an_unusable_file_replays_nothing(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("customer,amount\nA,1\n", encoding="utf-8")
    assert main(["replay", str(path), "--from", "2025-01-01", "--to", "2025-01-31"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"arrears replay: {path}: CSV header: unknown column(s) customer")
    assert err.rstrip().endswith("(nothing replayed)")


def test_the_committed_sample_is_what_the_generator_writes(tmp_path):
    out = tmp_path / "sample.csv"
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True, timeout=120)
    assert out.read_bytes() == SAMPLE.read_bytes()
    other = tmp_path / "other.csv"
    subprocess.run([sys.executable, str(GENERATOR), "--seed", "8", "--invoices", "50", "--out", str(other)],
                   check=True, timeout=120)
    lines = other.read_text().splitlines()
    assert lines[0] == SAMPLE.read_text().splitlines()[0] and len(lines) - 1 == 50


def test_costs_from_the_config_file_and_kpis_by_stage(tmp_path, capsys):
    path = write_csv(tmp_path, ["A1,consumer,GB-ENG,Europe/London,GBP,I1,2025-01-01,2025-01-31,500.00,2025-03-20,,,,",
                                "B1,consumer,GB-ENG,Europe/London,GBP,J1,2025-01-01,2025-01-31,90.00,,,,,"])
    config = tmp_path / "arrears.yaml"
    config.write_text('kpis:\n  costs:\n    GBP: {email: "0.10", letter: "1.00", call: "2.50"}\n', encoding="utf-8")
    assert main(["replay", str(path), "--from", "2025-01-01", "--to", "2025-04-30", "--format", "json",
                 "--config", str(config), "--group-by", "stage"]) == 0
    report = json.loads(capsys.readouterr().out)
    (total,) = report["kpis"]["total"]
    actions = report["total"]["actions"]
    spent = sum(n * {"email": 0.10, "letter": 1.00, "call": 2.50}[ch]
                for by_channel in actions.values() for ch, n in by_channel.items())
    assert float(total["figures"]["collection_costs"]["amount"]) == pytest.approx(spent)
    assert total["kpis"]["cost_to_collect"]["value"] is not None
    groups = {g["group"] for g in report["kpis"]["groups"]}
    assert groups and groups <= {s for s in actions} | {"(none)"}


def test_the_timeline_periods_offered_are_the_engines():
    """`--by` spells out the engine's periods (importing the replay package would slow `arrears --help`)."""
    from arrears.engine.cli.replay import PERIODS
    from arrears.engine.replay.timeline import PERIODS as ENGINE_PERIODS
    assert PERIODS == ENGINE_PERIODS
