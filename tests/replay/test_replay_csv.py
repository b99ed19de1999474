"""The replay CSV: column mapping, each invoice's fate, and bad rows reported by line."""
from __future__ import annotations

from datetime import date

import pytest

from arrears.engine.replay import read_replay_csv
from arrears.engine.store.readers import Unusable
from tests.replay.replaykit import write_csv

GOOD = "A1,consumer,GB-ENG,Europe/London,GBP,I1,2025-01-01,2025-01-31,120.50,2025-02-10,,,,"


def test_fates_are_read_per_invoice(tmp_path):
    path = write_csv(tmp_path, [
        GOOD,
        "A1,,,,,I2,2025-02-01,2025-03-03,80.00,,2025-09-01,,,",
        "A1,,,,,I3,2025-03-01,2025-03-31,15.00,,,yes,,",
        "A1,,,,,I4,2025-03-01,2025-03-31,15.00,,,,2025-04-02,2025-04-20",
    ])
    data = read_replay_csv(path)
    assert data.rejects == [] and data.rows == 4
    (account,) = data.accounts
    assert account.id == "A1" and account.currency == "GBP" and account.jurisdiction == "GB-ENG"
    assert [i.id for i in account.invoices] == ["I1", "I2", "I3", "I4"]
    f = data.fates
    assert f[("A1", "I1")].settled == date(2025, 2, 10) and f[("A1", "I1")].disputed is None
    assert f[("A1", "I2")].written_off == date(2025, 9, 1) and f[("A1", "I2")].line == 3
    # A dispute flag without a date opens the dispute on the invoice date.
    assert f[("A1", "I3")].disputed == date(2025, 3, 1) and f[("A1", "I3")].resolved is None
    # A dispute date implies the flag.
    assert (f[("A1", "I4")].disputed, f[("A1", "I4")].resolved) == (date(2025, 4, 2), date(2025, 4, 20))


@pytest.mark.parametrize("line, reason", [
    ("A1,consumer,GB,,GBP,I1,2025-01-01,2025-01-31,10,2024-12-31,,,,",
     "settled_date: 2024-12-31 is before the invoice date 2025-01-01"),
    ("A1,consumer,GB,,GBP,I1,2025-01-01,2025-01-31,10,2025-02-01,2025-03-01,,,",
     "written_off_date: an invoice is settled or written off, not both"),
    ("A1,consumer,GB,,GBP,I1,2025-01-01,2025-01-31,10,2025-02-30,,,,",
     "settled_date: expected a date (YYYY-MM-DD), got '2025-02-30'"),
    ("A1,consumer,GB,,GBP,I1,2025-01-01,2025-01-31,10,,,maybe,,",
     "disputed: expected true or false (also yes/no, 1/0), got 'maybe'"),
    ("A1,consumer,GB,,GBP,I1,2025-01-01,2025-01-31,10,,,,,2025-02-01",
     "dispute_resolved_date: given for an invoice that is not disputed"),
    ("A1,consumer,GB,,GBP,I1,2025-01-01,2025-01-31,10,,,,2025-03-01,2025-02-01",
     "dispute_resolved_date: 2025-02-01 is before the dispute was raised (2025-03-01)"),
    ("A1,consumer,GB,,GBP,I1,,2025-01-31,10,,,,,",
     "issued_date: is required: the invoice date, when the invoice enters the replay"),
    ("A1,consumer,GB,,GBP,I1,2025-01-01,2025-01-31,10.001,,,,,",
     "amount"),                                     # finer than the pound's minor unit
    ("A1,consumer,GB,Mars/Olympus,GBP,I1,2025-01-01,2025-01-31,10,,,,,",
     "timezone: unknown IANA time zone 'Mars/Olympus'"),
])
def test_a_bad_row_is_rejected_with_its_line_and_column(tmp_path, line, reason):
    path = write_csv(tmp_path, [GOOD.replace("A1", "A0"), line])
    data = read_replay_csv(path)
    assert [a.id for a in data.accounts] == ["A0"]
    (reject,) = data.rejects
    assert reject.line == 3
    assert reject.reason.startswith(reason), reject.reason


def test_an_account_is_replayed_whole_or_not_at_all(tmp_path):
    path = write_csv(tmp_path, [
        GOOD,
        "A1,,,,,I2,2025-02-01,2025-03-03,80.00,not-a-date,,,,",
        "A1,,,,EUR,I3,2025-03-01,2025-03-31,15.00,,,,,",
        "B2,business,DE,Europe/Berlin,EUR,J1,2025-01-01,2025-01-31,99.00,,,,,",
    ])
    data = read_replay_csv(path)
    assert [a.id for a in data.accounts] == ["B2"]
    by_line = {r.line: r.reason for r in data.rejects}
    assert sorted(by_line) == [2, 3, 4]
    assert by_line[3].startswith("settled_date: expected a date")
    assert by_line[4].startswith("currency: 'EUR' differs from 'GBP' on line 2")
    assert by_line[2] == "account 'A1' not replayed: line 3 was rejected"


def test_the_header_must_name_known_columns_and_the_invoice_date(tmp_path):
    with pytest.raises(Unusable, match="unknown column.*paid_on"):
        read_replay_csv(write_csv(tmp_path, [], header="account_id,currency,invoice_id,amount,due_date,"
                                                       "issued_date,paid_on"))
    with pytest.raises(Unusable, match="missing column.*issued_date"):
        read_replay_csv(write_csv(tmp_path, [], header="account_id,currency,invoice_id,amount,due_date"))
    with pytest.raises(Unusable, match="no such file"):
        read_replay_csv(tmp_path / "absent.csv")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(b"account_id,currency,invoice_id,amount,due_date,issued_date\n\xe9,GBP,I,1,2025-01-01,2025-01-01\n")
    with pytest.raises(Unusable, match="line 2 is not UTF-8"):
        read_replay_csv(bad)


def test_fate_columns_on_a_row_without_an_invoice_are_refused(tmp_path):
    path = write_csv(tmp_path, [GOOD, "A1,,,,,,,,,2025-03-01,,,,"])
    (reject, _other) = sorted(read_replay_csv(path).rejects, key=lambda r: -r.line)
    assert (reject.line, reject.reason) == (3, "settled_date: given on a row without an invoice")
