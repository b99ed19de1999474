"""`arrears replay FILE --map MAPPING`: a file of another shape read through a mapping.

The file is the synthetic accounts-receivable export (examples/replay/generate_ar_export.py):
US dates, no currency column, extra columns, Yes/No disputes without dates, numeric country
codes, Paper/Electronic billing per invoice. Each quirk is checked against the file's own
cells, read with the csv module alone.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date, datetime

import pytest
from jsonschema import Draft202012Validator

from arrears.engine.cli import main
from arrears.engine.domain.errors import PolicyError
from arrears.engine.policy.validation import load_schema
from arrears.engine.replay import read_replay_csv
from arrears.engine.replay.csvmap import FATE_CSV
from arrears.engine.replay.mapping import SCHEMA, load_mapping
from arrears.engine.store.readers import ACCOUNT_CSV, INVOICE_CSV
from tests.replay.replaykit import ROOT

EXPORT = ROOT / "examples" / "replay" / "ar_export.csv"
MAP = ROOT / "examples" / "replay" / "ar_export.map.yaml"
GENERATOR = ROOT / "examples" / "replay" / "generate_ar_export.py"
YEAR_2013 = ["--from", "2013-01-01", "--to", "2013-12-31"]


def us_date(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


@pytest.fixture(scope="module")
def export_rows() -> list[dict]:
    with EXPORT.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def mapped():
    return read_replay_csv(EXPORT, mapping=load_mapping(MAP))


def test_the_committed_export_is_what_the_generator_writes(tmp_path):
    out = tmp_path / "ar.csv"
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True, timeout=60)
    assert out.read_bytes() == EXPORT.read_bytes()


def test_the_export_has_every_quirk(export_rows):
    header = list(export_rows[0])
    assert "currency" not in header and {"PaperlessDate", "DaysLate", "DaysToSettle"} <= set(header)
    assert any(not r["InvoiceDate"].split("/")[0].startswith("0") and len(r["InvoiceDate"]) < 10
               for r in export_rows)
    assert {r["Disputed"] for r in export_rows} == {"Yes", "No"}
    assert {r["countryCode"] for r in export_rows} <= {"840", "826", "276", "250"}
    by_customer: dict = {}
    for r in export_rows:
        by_customer.setdefault(r["customerID"], set()).add(r["PaperlessBill"])
    assert any(len(v) == 2 for v in by_customer.values())     # billing changes within a customer


def test_every_row_is_read_with_its_quirks_mapped(mapped, export_rows):
    assert mapped.rows == len(export_rows) and not mapped.rejects
    accounts = {a.id: a for a in mapped.accounts}
    assert len(accounts) == len({r["customerID"] for r in export_rows})
    country = {"840": "US", "826": "GB", "276": "DE", "250": "FR"}
    for r in export_rows:
        account = accounts[r["customerID"]]
        assert account.currency == "USD" and account.debtor_type == "business"     # the mapping's defaults
        assert account.jurisdiction == country[r["countryCode"]]
        invoice = next(i for i in account.invoices if i.id == r["invoiceNumber"])
        assert invoice.issued_date == us_date(r["InvoiceDate"]) and invoice.due_date == us_date(r["DueDate"])
        assert str(invoice.amount) == r["InvoiceAmount"]
        fate = mapped.fates[(account.id, r["invoiceNumber"])]
        settled = us_date(r["SettledDate"]) if r["SettledDate"] else None
        assert fate.settled == settled
        if r["Disputed"] == "Yes":
            # raised at the due date, or at the settlement when the invoice was paid before it
            raised = us_date(r["DueDate"]) if settled is None else min(us_date(r["DueDate"]), settled)
            assert (fate.disputed, fate.resolved) == (raised, settled)
        else:
            assert fate.disputed is None and fate.resolved is None


def test_billing_per_invoice_takes_the_latest_invoice(mapped, export_rows):
    latest: dict = {}
    for r in export_rows:
        key = (us_date(r["InvoiceDate"]), r["PaperlessBill"])
        latest[r["customerID"]] = max(latest.get(r["customerID"], key), key)
    channel = {"Paper": "letter", "Electronic": "email"}
    for account in mapped.accounts:
        assert account.contact.preferred_channels == (channel[latest[account.id][1]],)


def test_the_schema_names_the_replay_columns_of_the_code():
    schema = load_schema(SCHEMA)
    Draft202012Validator.check_schema(schema)
    columns = ACCOUNT_CSV + INVOICE_CSV + FATE_CSV
    assert schema["$defs"]["column"]["enum"] == list(columns)
    assert list(schema["properties"]["values"]["properties"]) == list(columns)
    assert list(schema["properties"]["varying"]["properties"]) == list(ACCOUNT_CSV[1:])


def test_mapping_problems_are_located_all_at_once(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  customerID: acount_id\ncurrency: usd\nbogus: 1\n", encoding="utf-8")
    assert main(["replay", str(EXPORT), "--map", str(bad), *YEAR_2013]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{bad}:2:15: 'acount_id' is not allowed" in err and "did you mean 'account_id'?" in err
    assert f"{bad}:3:11: 'usd': expected an ISO 4217 code such as 'USD'" in err
    assert f"{bad}:4:1: unknown key 'bogus'" in err


def test_semantic_mapping_problems(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('columns:\n  a: amount\n  b: amount\nignore: [a]\ndates: {due_date: "%m/%d"}\n',
                   encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_mapping(bad)
    assert [str(p) for p in caught.value.problems] == [
        f"{bad}:3:3: 'b' and 'a' both hold amount",
        f"{bad}:4:10: 'a' is both renamed (columns) and ignored",
        f"{bad}:5:19: '%m/%d' does not read a whole date (it needs a year, a month and a day, e.g. '%m/%d/%Y')"]


def test_a_column_neither_mapped_nor_ignored_replays_nothing(tmp_path, capsys):
    partial = tmp_path / "partial.yaml"
    partial.write_text(MAP.read_text(encoding="utf-8").replace("ignore: [PaperlessDate, DaysToSettle, DaysLate]",
                                                               "ignore: [PaperlessDate]"), encoding="utf-8")
    assert main(["replay", str(EXPORT), "--map", str(partial), *YEAR_2013]) == 2
    err = capsys.readouterr().err
    assert "column(s) DaysToSettle, DaysLate neither mapped nor ignored" in err and "nothing replayed" in err


def test_a_date_not_in_its_format_rejects_the_row_naming_both_columns(tmp_path, capsys):
    text = EXPORT.read_text(encoding="utf-8").splitlines()
    cells = text[1].split(",")
    cells[4] = "2013-01-04"                                   # InvoiceDate in ISO, not US
    text[1] = ",".join(cells)
    path = tmp_path / "ar.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    code = main(["replay", str(path), "--map", str(MAP), *YEAR_2013, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1
    assert (f"{path}:2: issued_date: '2013-01-04' is not a date in the format %m/%d/%Y "
            "(the file's column InvoiceDate)") in err
    report = json.loads(out)
    assert report["rejected"]["count"] >= 1 and report["accounts"] == 59


def test_validate_recognises_a_mapping(tmp_path, capsys):
    assert main(["validate", str(MAP)]) == 0
    assert f"ok  {MAP}  replay mapping, 9 columns renamed, 3 columns ignored" in capsys.readouterr().out
    bare = tmp_path / "export.yaml"                 # no $schema line: told by its keys
    bare.write_text("columns:\n  customerID: acount_id\nignore: [DaysLate]\n", encoding="utf-8")
    assert main(["validate", str(bare)]) == 1
    assert f"{bare}:2:15: 'acount_id' is not allowed" in capsys.readouterr().out
