"""The small portfolio of the goals tests, worked out by hand, and helpers to write goal files.

Three GBP accounts in UTC under the default policy (buckets current, 1-30, 31-60, 61-90,
90+ from 91 days past due):

| account | debtor | invoice (due) | history |
|---|---|---|---|
| G1 | consumer | 1000.00 (2025-09-01) | promise of 300.00 on 2026-01-20 until 2026-02-01; paid 300.00 on 2026-02-01 |
| G2 | business | 500.00 (2025-09-15) | paid in full on 2026-03-15 |
| G3 | business | 200.00 (2025-12-01) | nothing: 31-60 on 1 Jan, 61-90 on 15 Feb, 90+ from 2 Mar (91 days) |

The 90+ balance at the end of each day: 1 Jan 1500.00 (G1 + G2); 1 Feb and 15 Feb 1200.00
(G1 700.00 after its payment + G2); 10 Mar 1400.00 (G3 joins); 31 Mar 900.00 (G2 paid).
"""
from __future__ import annotations

import textwrap
from datetime import date, datetime, timezone

from arrears.engine.domain.model import Account, Event

RECORDED = datetime(2026, 4, 2, 8, 0, tzinfo=timezone.utc)
BASELINE, TARGET = date(2026, 1, 1), date(2026, 3, 31)
CONTACT = {"email": "debtor@example.com", "phone": "+441632960001", "address": "1 High Street, Town"}


def _account(aid, debtor, amount, issued, due, currency="GBP"):
    return Account.from_dict({"id": aid, "currency": currency, "timezone": "UTC", "debtor_type": debtor,
                              "contact": CONTACT, "invoices": [{"id": f"{aid}-1", "amount": amount,
                                                                "issued_date": issued, "due_date": due}]})


ACCOUNTS = [_account("G1", "consumer", "1000.00", "2025-08-02", "2025-09-01"),
            _account("G2", "business", "500.00", "2025-08-16", "2025-09-15"),
            _account("G3", "business", "200.00", "2025-11-01", "2025-12-01")]
EVENTS = [("G1", {"type": "promise_to_pay", "at": "2026-01-20T10:00:00Z", "amount": "300.00",
                  "until": "2026-02-01"}),
          ("G1", {"type": "payment", "at": "2026-02-01T12:00:00Z", "amount": "300.00"}),
          ("G2", {"type": "payment", "at": "2026-03-15T12:00:00Z", "amount": "500.00"})]


def load(store) -> None:
    """Write the portfolio into `store`."""
    store.upsert_accounts(ACCOUNTS, now=RECORDED)
    store.append_events([(aid, Event.from_dict(e), None) for aid, e in EVENTS], now=RECORDED)


def add_euro_account(store) -> None:
    """A fourth account, in EUR: the portfolio then holds two currencies."""
    store.upsert_accounts([_account("E1", "consumer", "900.00", "2025-08-02", "2025-09-01", "EUR")], now=RECORDED)


def goals_file(tmp_path, body: str, name: str = "goals.yaml"):
    """Write a goals file (dedented) and return its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


NINETY_PLUS = """
    goals:
      - id: ninety-plus
        title: 90+ balance down 20% by 31 March
        metric: {bucket: "90+"}
        baseline: 2026-01-01
        target: {by: 2026-03-31, change_percent: -20}
"""
