"""The replay's outputs do not depend on the order of the file's rows; a file whose every row
is rejected replays nothing (exit 2) and says why, per column, with line numbers."""
from __future__ import annotations

import json
import random

from arrears.engine.cli import main
from tests.replay.replaykit import ROOT

EXPORT = ROOT / "examples" / "replay" / "ar_export.csv"
MAP = ROOT / "examples" / "replay" / "ar_export.map.yaml"
PERIOD = ["--from", "2013-01-01", "--to", "2013-06-30"]


def _replay(path, tmp_path, name, capsys) -> tuple[bytes, dict]:
    contacts = tmp_path / f"{name}.contacts.csv"
    assert main(["replay", str(path), "--map", str(MAP), *PERIOD, "--format", "json",
                 "--contacts", str(contacts)]) == 0
    report = json.loads(capsys.readouterr().out)
    return contacts.read_bytes(), report


def test_shuffled_rows_export_identical_contacts(tmp_path, capsys):
    header, *rows = EXPORT.read_text(encoding="utf-8").splitlines()
    random.Random(5).shuffle(rows)
    assert rows != EXPORT.read_text(encoding="utf-8").splitlines()[1:]
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    first, report_a = _replay(EXPORT, tmp_path, "a", capsys)
    second, report_b = _replay(shuffled, tmp_path, "b", capsys)
    assert first == second
    assert first.count(b"\n") - 1 == report_a["total"]["contacts"] > 100
    for key in ("timeline", "total", "kpis", "portfolio"):
        assert report_a[key] == report_b[key]
    lines = first.decode().splitlines()[1:]
    keys = [(line.split(",")[0], line.split(",")[2]) for line in lines]
    assert keys == sorted(keys)                     # by account id, then instant


def test_every_row_rejected_is_exit_2_with_reasons_per_column(tmp_path, capsys):
    header, *rows = EXPORT.read_text(encoding="utf-8").splitlines()
    bad = []
    for i, row in enumerate(rows):
        cells = row.split(",")
        if i % 3 == 0:
            cells[6] = "12.345"                     # InvoiceAmount: finer than cents
        else:
            cells[5] = cells[5].replace("/201", "/1")   # DueDate: 2-digit year, not %Y
        bad.append(",".join(cells))
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([header, *bad]) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    assert main(["replay", str(path), "--map", str(MAP), *PERIOD, "--rejects", str(rejects)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == (f"arrears replay: {path}: nothing replayed: all 400 rows were rejected; "
                        "the reasons by column:")
    heads = [line.split("arrears replay:   ")[1] for line in lines if line.startswith("arrears replay:   ")
             and not line.startswith("arrears replay:     ")]
    columns = {h.split(":")[0]: int(h.split(": ")[1].split()[0].replace(",", "")) for h in heads}
    assert set(columns) <= {"due_date", "amount", "(rest of the account)"}
    assert {"due_date", "amount"} <= set(columns) and sum(columns.values()) == 400
    examples = [line for line in lines if line.startswith("arrears replay:     line ")]
    assert len(examples) <= 3 * len(columns)
    assert any(": due_date: " in e and "is not a date in the format %m/%d/%Y (the file's column DueDate)" in e
               for e in examples)
    assert any(": amount: " in e and "12.345" in e for e in examples)
    first_due = next(e for e in examples if ": due_date: " in e)
    number = int(first_due.split("line ")[1].split(":")[0])
    assert "/1" in bad[number - 2].split(",")[5]     # the line named is the row at fault
    assert len(rejects.read_text().splitlines()) == 400
