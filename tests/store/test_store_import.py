"""`arrears import`: JSON Lines and CSV, rejected rows with line numbers, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from arrears.engine.cli import main
from arrears.engine.store import Store

pytestmark = pytest.mark.also_postgresql

ACCOUNTS_JSONL = """\
{"id": "A1", "currency": "EUR", "timezone": "Europe/Paris", "invoices": [{"id": "I1", "amount": "100.00", "due_date": "2026-10-01"}]}
{"id": "A2", "currency": "EUR", "invoices": [{"id": "I1", "amount": "12.345", "due_date": "2026-10-01"}]}
this is not json

{"id": "A3", "currency": "eur"}
{"id": "A4", "currency": "GBP", "contact": {"email": "x@example.com"}, "tags": ["vip"]}
"""

ACCOUNTS_CSV = """\
account_id,currency,debtor_type,timezone,email,tags,invoice_id,amount,due_date,issued_date
B1,EUR,consumer,Europe/Paris,b1@example.com,vip|new,I1,10.00,2026-10-01,2026-09-01
B2,USD,business,America/New_York,,,I1,abc,2026-10-01,
B1,,,,,,I2,20.00,2026-11-01,
B2,,,,,,I2,5.00,2026-10-01,
B3,USD,consumer,,,,,,,
B4,USD,consumer,,,,I1,5,2026-13-01,
B5,USD,martian,,,,,,,
B6,USD,consumer,,,,I1,1,2026-01-01,
B6,EUR,,,,,I2,1,2026-01-01,
B7,JPY,consumer,,,,I1,1.5,2026-01-01,
"""

EVENTS_CSV = """\
account_id,type,at,amount,invoice_id,channel,stage,outcome,until,event_key,instalments
B1,payment,2026-10-05T10:00:00Z,5.00,I1,,,,,pay-1,
B1,payment,2026-10-05T10:00:00Z,5.00,I1,,,,,pay-1,
B1,promise_to_pay,2026-10-06T10:00:00Z,20,,,,,2026-10-20,p-1,
B1,payment_plan,2026-10-07T10:00:00Z,,,,,,,plan-1,2026-11-01=12.50|2026-12-01=12.50
ZZ,payment,2026-10-05T10:00:00Z,50.00,,,,,,,
B1,payment,2026-10-05T10:00:00Z,50.001,,,,,,,
B1,contact_attempt,2026-10-05T10:00:00Z,,,email,,sent,,,
B1,contact_attempt,2026-10-05T10:00:00Z,,,,,,,,
"""


@pytest.fixture
def files(tmp_path):
    """Write the sample files into tmp_path and return it."""
    (tmp_path / "accounts.jsonl").write_text(ACCOUNTS_JSONL, encoding="utf-8")
    (tmp_path / "accounts.csv").write_text(ACCOUNTS_CSV, encoding="utf-8")
    (tmp_path / "events.csv").write_text(EVENTS_CSV, encoding="utf-8")
    return tmp_path


def _import(capsys, *args) -> tuple[int, list[str], str]:
    code = main(["import", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_jsonl_accounts_bad_lines_are_reported_good_ones_stored(files, db_url, capsys):
    code, out, _ = _import(capsys, files / "accounts.jsonl", "--db", db_url)
    assert code == 1
    path = files / "accounts.jsonl"
    assert out[:3] == [
        f"{path}:2: account.invoices[0].amount: 12.345 has more decimal places than EUR allows (2)",
        f"{path}:3: not valid JSON: Expecting value (column 1)",
        f"{path}:5: account.currency: expected an ISO 4217 currency code such as 'EUR', got 'eur'"]
    assert "2 accounts stored (2 new, 0 changed, 0 unchanged); 3 records rejected" in out[3]
    with Store(db_url) as s:
        assert sorted(s.acct_nos(["A1", "A2", "A3", "A4"])) == ["A1", "A4"]
        assert s.get_account("A4")[0].tags == frozenset({"vip"})


def test_csv_accounts_group_rows_and_reject_whole_accounts(files, db_url, capsys, tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    code, out, _ = _import(capsys, files / "accounts.csv", "--db", db_url, "--rejects", rejects)
    assert code == 1
    lines = {int(o.split(":")[1]): o.split(": ", 1)[1] for o in out[:-1]}
    assert lines == {
        3: "amount: expected a decimal amount such as \"12.50\", got 'abc'",
        5: "account 'B2' not stored: line 3 was rejected",
        7: "due_date: expected a date (YYYY-MM-DD), got '2026-13-01'",
        8: "debtor_type: expected one of consumer, business; got 'martian'",
        10: "currency: 'EUR' differs from 'USD' on line 9 of the same account",
        9: "account 'B6' not stored: line 10 was rejected",
        11: "amount: 1.5 has more decimal places than JPY allows (0)",
    }
    written = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in written] == [3, 5, 7, 8, 9, 10, 11]
    assert written[0]["record"]["amount"] == "abc"
    with Store(db_url) as s:
        assert sorted(s.acct_nos([f"B{i}" for i in range(1, 8)])) == ["B1", "B3"]
        b1, _ = s.get_account("B1")
        assert [(i.id, str(i.amount)) for i in b1.invoices] == [("I1", "10.00"), ("I2", "20.00")]
        assert b1.tags == frozenset({"vip", "new"}) and b1.contact.email == "b1@example.com"
        assert str(b1.invoices[0].issued_date) == "2026-09-01"


def test_csv_events_with_duplicates_unknown_accounts_and_plans(files, db_url, capsys):
    _import(capsys, files / "accounts.csv", "--db", db_url)
    code, out, _ = _import(capsys, files / "events.csv", "--db", db_url)
    assert code == 1
    path = files / "events.csv"
    assert out[:3] == [f"{path}:6: account_id: unknown account 'ZZ'",
                       f"{path}:7: amount: 50.001 has more decimal places than EUR allows (2)",
                       f"{path}:9: channel: is required for a contact_attempt event"]
    assert "4 events stored, 1 duplicate of stored events ignored; 3 records rejected" in out[3]
    with Store(db_url) as s:
        _, events = s.get_account("B1")
    plan = [e for e in events if e.type == "payment_plan"][0]
    assert [(str(d), str(a)) for d, a in plan.instalments] == [("2026-11-01", "12.50"),
                                                               ("2026-12-01", "12.50")]
    # Importing the same file again: keyed events are recognised, keyless ones are new.
    code, out, _ = _import(capsys, files / "events.csv", "--db", db_url)
    assert "1 event stored, 4 duplicates of stored events ignored" in out[-1]


def test_jsonl_events_and_kind_detection(tmp_path, db_url, capsys):
    acc = tmp_path / "a.ndjson"
    acc.write_text('{"id": "A", "currency": "EUR"}\n', encoding="utf-8")
    ev = tmp_path / "e.jsonl"
    ev.write_text('{"account_id": "A", "type": "note", "at": "2026-01-01T00:00:00Z", "event_key": "n1"}\n'
                  '{"account_id": "A", "type": "payment", "at": "2026-01-01T00:00:00Z"}\n'
                  '{"account_id": "A", "type": "note", "at": "2026-01-02T00:00:00Z", "id": "n2"}\n'
                  '["A"]\n', encoding="utf-8")
    assert _import(capsys, acc, "--db", db_url)[0] == 0
    code, out, _ = _import(capsys, ev, "--db", db_url)
    assert code == 1
    assert out[:2] == [f"{ev}:2: event.amount: is required for a payment event",
                       f"{ev}:4: event: expected an object, got a list"]
    assert "2 events stored" in out[2]
    assert _import(capsys, ev, "--db", db_url, "--kind", "events")[2] == ""


def test_an_event_id_is_imported_once_whatever_its_event_key(tmp_path, db_url, capsys):
    """Issue 11 item 19 on the import path: a payment whose id is stored already (under
    another event_key, or none) is a duplicate; the same id with another amount is rejected."""
    acc = tmp_path / "a.jsonl"
    acc.write_text('{"id": "A", "currency": "GBP"}\n', encoding="utf-8")
    pay = '{"account_id": "A", "type": "payment", "at": "2026-01-01T00:00:00Z", "id": "pay-1", '
    ev = tmp_path / "e.jsonl"
    ev.write_text(pay + '"amount": "100.00", "event_key": "psp-1"}\n', encoding="utf-8")
    again = tmp_path / "again.jsonl"
    again.write_text(pay + '"amount": "100.00"}\n' + pay + '"amount": "100.00", "event_key": "psp-2"}\n'
                     + pay + '"amount": "60.00", "event_key": "psp-3"}\n', encoding="utf-8")
    assert _import(capsys, acc, "--db", db_url)[0] == 0
    assert _import(capsys, ev, "--db", db_url)[0] == 0
    code, out, _ = _import(capsys, again, "--db", db_url)
    assert code == 1
    assert out[0] == (f"{again}:3: id: this event_key or event id was already recorded for the account "
                      "with different content")
    assert "0 events stored, 2 duplicates of stored events ignored; 1 record rejected" in out[-1]
    with Store(db_url) as s:
        assert [str(e.amount) for e in s.get_account("A")[1]] == ["100.00"]


def test_a_contact_name_is_imported_from_csv_and_jsonl_and_checked(tmp_path, db_url, capsys):
    csv_file = tmp_path / "named.csv"
    csv_file.write_text("account_id,currency,name,invoice_id,amount,due_date\n"
                        "N1,EUR,Zoë O'Brien,I1,1.00,2026-01-01\n"
                        "N2,EUR," + "x" * 201 + ",I2,1.00,2026-01-01\n",
                        encoding="utf-8")
    code, out, _ = _import(capsys, csv_file, "--db", db_url)
    assert code == 1 and any("named.csv:3: name: must be at most 200 characters" in line
                             for line in out), out
    jsonl = tmp_path / "named.jsonl"
    jsonl.write_text('{"id": "N3", "currency": "EUR", "contact": {"name": "Ada Lovelace"}, "invoices": []}\n'
                     '{"id": "N4", "currency": "EUR", "contact": {"name": "Ada\\nLovelace"}, '
                     '"invoices": []}\n',
                     encoding="utf-8")
    code, out, _ = _import(capsys, jsonl, "--db", db_url)
    said = "named.jsonl:2: account.contact.name: must be on one line"
    assert code == 1 and any(said in line for line in out), out
    with Store(db_url) as s:
        assert s.get_account("N1")[0].contact.name == "Zoë O'Brien"
        assert s.get_account("N3")[0].contact.name == "Ada Lovelace"
        assert s.counts()["accounts"] == 2                  # N2 and N4 were not stored


def test_a_clean_file_exits_zero(tmp_path, db_url, capsys):
    path = tmp_path / "ok.csv"
    path.write_text("\ufeffaccount_id,currency,invoice_id,amount,due_date\r\nC1,EUR,I1,1.00,2026-01-01\r\n",
                    encoding="utf-8")
    code, out, _ = _import(capsys, path, "--db", db_url)
    assert code == 0 and "1 account stored (1 new" in out[-1]
    code, out, _ = _import(capsys, path, "--db", db_url)
    assert code == 0 and "0 changed, 1 unchanged" in out[-1]


@pytest.mark.parametrize("name, content, message", [
    ("missing.csv", None, "no such file"),
    ("bytes.csv", b"account_id,currency\nA\xff,EUR\n", "line 2 is not UTF-8"),
    ("header.csv", b"account,currency\nA,EUR\n", "unknown column(s) account; missing column(s) account_id"),
    ("file.txt", b"{}", "cannot tell the format"),
    ("empty.csv", b"", "the file is empty"),
])
def test_unusable_files_exit_2_and_store_nothing(tmp_path, db_url, capsys, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code, _, err = _import(capsys, path, "--db", db_url)
    assert code == 2 and message in err and "nothing stored" in err
    with Store(db_url) as s:
        assert s.counts()["accounts"] == 0 and s.counts()["audit"] == 0


def test_undecodable_bytes_after_good_lines_store_nothing(tmp_path, db_url, capsys, monkeypatch):
    import arrears.engine.store.importing as importing
    monkeypatch.setattr(importing, "CHUNK", 2)      # good chunks were already written when it fails
    path = tmp_path / "late.jsonl"
    good = "".join(f'{{"id": "A{i}", "currency": "EUR"}}\n' for i in range(7))
    path.write_bytes(good.encode() + b'{"id": "\xc3\x28", "currency": "EUR"}\n')
    code, _, err = _import(capsys, path, "--db", db_url)
    assert code == 2 and "line 8 is not UTF-8" in err
    with Store(db_url) as s:
        assert s.counts()["accounts"] == 0


def test_default_database_url_from_environment(tmp_path, capsys, monkeypatch):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "A", "currency": "EUR"}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARREARS_DATABASE_URL", raising=False)
    assert _import(capsys, path)[0] == 0
    assert (tmp_path / "arrears.db").exists()
    other = tmp_path / "other.db"
    monkeypatch.setenv("ARREARS_DATABASE_URL", f"sqlite:///{other}")
    assert _import(capsys, path)[0] == 0
    with Store(f"sqlite:///{other}") as s:
        assert s.counts()["accounts"] == 1


def test_progress_bar_goes_to_stderr_only_when_asked(tmp_path, db_url, capsys):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "A", "currency": "EUR"}\n', encoding="utf-8")
    assert "100%" not in _import(capsys, path, "--db", db_url)[2]
    code, out, err = _import(capsys, path, "--db", db_url, "--progress")
    assert "100%" in err and "[" in err and not any("100%" in o for o in out)


def test_console_script_end_to_end(tmp_path, db_url):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "A", "currency": "EUR"}\n{"id": 1}\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "arrears.engine", "import", str(path), "--db", db_url],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and f"{path}:2: account.id" in run.stdout
    run = subprocess.run([sys.executable, "-m", "arrears.engine", "audit", "verify", "--db", db_url],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.startswith("OK: 1 entry,")
