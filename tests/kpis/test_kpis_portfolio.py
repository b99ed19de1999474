"""Every KPI of the hand-computed portfolio (tests/kpis/kpikit.py), October 2026.

Positions, worked out by hand (default policy buckets; days past due counted from the
oldest unpaid, undisputed due date):

- A1: opening A1-1 1000 open, due 31 Aug: 30 dpd, 1-30, delinquent. Closing: 300 paid
  (oldest first): A1-1 700 + A1-2 500 (due 4 Nov) = 1200, 61 dpd, 61-90, current 500.
- A2: opening 400, due 20 Sep: 10 dpd, 1-30, delinquent. Closing: 400 paid on 15 Oct: 0 (cured).
- A3: opening 2000, due 1 Jul: 91 dpd, 90+, delinquent. Closing: 1500 written off, 100 paid:
  400, 122 dpd, 90+.
- A4: opening 3000, due 15 Oct: -15 dpd, current. Closing: 1000 paid to A4-1: 2000, 16 dpd, 1-30.
- A5 (Sydney): opening 100, due 10 Sep: 20 dpd, 1-30 (its payment at 30 Sep 20:00Z is on
  1 Oct there). Closing: 0 (cured).
- A7: 0 throughout (paid in August).
- A8: opening 300 disputed (due 1 Aug) + 200 (due 20 Oct): the oldest undisputed due date is
  20 Oct: -20 dpd, current, not delinquent; past due 300. Closing: 500, 11 dpd (the disputed
  invoice is skipped), 1-30; current 0.
- A6 (EUR): opening 0 (not issued yet). Closing: 800 - credit note 100 = 700, due 31 Oct: current.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from arrears.engine.kpis import compute_kpis
from tests.kpis.kpikit import END, START


def money(amount: str, currency: str = "GBP") -> dict:
    return {"amount": amount, "currency": currency}


@pytest.fixture
def report(ledger, policy, costs):
    return compute_kpis(ledger, START, END, policy=policy, costs=costs).to_dict()


def row(rows: list, group: str, currency: str) -> dict:
    found = [r for r in rows if r["group"] == group and r["currency"] == currency]
    assert len(found) == 1, (group, currency, [(r["group"], r["currency"]) for r in rows])
    return found[0]


def values(r: dict) -> dict:
    return {name: k["value"] for name, k in r["kpis"].items()}


def test_period_and_policy(report, policy):
    assert (report["from"], report["to"], report["days"], report["months"]) == ("2026-10-01", "2026-10-31", 31,
                                                                                  "1.0000")
    assert report["policy"]["digest"] == policy.digest and report["group_by"] is None
    assert report["buckets"] == ["current", "1-30", "31-60", "61-90", "90+"]
    # Not grouped: one "all" row per currency, the same as the totals; currencies never mixed.
    assert report["groups"] == report["total"]
    assert [(r["group"], r["currency"]) for r in report["total"]] == [("all", "EUR"), ("all", "GBP")]


def test_gbp_figures(report):
    f = row(report["total"], "all", "GBP")["figures"]
    assert f == {
        "accounts": 7,                                   # A1 A2 A3 A4 A5 A7 A8
        "opening_receivables": money("7000.00"),         # 1000 + 400 + 2000 + 3000 + 100 + 0 + 500
        "opening_past_due": money("3500.00"),            # delinquent A1 1000 + A2 400 + A3 2000 + A5 100
        "closing_receivables": money("4100.00"),         # 1200 + 400 + 2000 + 500
        "closing_current": money("500.00"),              # A1-2, due 4 Nov
        "credit_sales": money("500.00"),                 # A1-2 issued 5 Oct (A8-2 was issued in Sept)
        "collected": money("1900.00"),                   # 300 + 400 + 100 + 1000 + 100 (A5 on 1 Oct local)
        "credit_notes": money("0.00"),
        "written_off": money("1500.00"),                 # A3
        "recovered": money("900.00"),                    # min(paid, opening past due): 300 + 400 + 100 + 100
        "delinquent_at_start": 4,                        # A1 A2 A3 A5
        "cured": 2,                                      # A2 A5 (A3 had a write-off, and is still late)
        "promises_due": 2,                               # A1 last day 9+2 = 11 Oct; A2 12+2 = 14 Oct
        "promises_kept": 1,                              # A1 paid 300 >= 200 by 11 Oct; A2 paid on 15 Oct
        "attempts": 6,                                   # A1 email + call, A2 sms, A3 letter, A4 two calls
        "right_party_contacts": 1,                       # A1's conversation
        "outcomes_reported": 3,                          # A1's conversation, A4's no_answer and wrong_party
        # email 0.02 + sms 0.05 + letter 0.90 + 3 calls x 2.50 = 8.47 variable, + 10.00 fixed x 1 month
        "collection_costs": money("18.47"),
    }


def test_gbp_aging_at_period_end(report):
    aging = row(report["total"], "all", "GBP")["aging"]
    assert [(a["bucket"], a["balance"]["amount"], a["count"]) for a in aging] == [
        ("current", "0.00", 0), ("1-30", "2500.00", 2),   # A4 2000 + A8 500
        ("31-60", "0.00", 0), ("61-90", "1200.00", 1),    # A1
        ("90+", "400.00", 1)]                             # A3


def test_gbp_kpis(report):
    assert values(row(report["total"], "all", "GBP")) == {
        "collection_rate": "25.33",            # 1900 / (7000 + 500) = 25.333 %
        "recovery_rate": "25.71",              # 900 / 3500 = 25.714 %
        "dso": "254.20",                       # 4100 / 500 x 31
        "best_possible_dso": "31.00",          # 500 / 500 x 31
        "average_days_delinquent": "223.20",   # 254.2 - 31
        "past_due_rate": "87.80",              # (4100 - 500) / 4100 = 87.805 %
        "cei": "48.57",                        # (7000 + 500/1 - 4100) / (7000 + 500/1 - 500) = 3400 / 7000
        "cure_rate": "50.00",                  # 2 / 4
        "promise_kept_rate": "50.00",          # 1 / 2
        "right_party_contact_rate": "16.67",   # 1 / 6
        "bad_debt_ratio": "300.00",            # 1500 / 500
        "cost_to_collect": "0.0097",           # 18.47 / 1900 = 0.00972
    }


def test_gbp_roll_rates(report):
    rolls = row(report["total"], "all", "GBP")["roll_rates"]
    got = [(r["from"], r["to"], r["by_balance"]["value"], r["by_count"]["value"]) for r in rolls]
    assert got == [
        ("current", "1-30", "71.43", "100.00"),   # A4 + A8 were current (3500); both now 1-30 with 2000 + 500
        ("1-30", "31-60", "0.00", "0.00"),        # A1 A2 A5 (1500): A1 jumped to 61-90, the others paid
        ("31-60", "61-90", None, None),
        ("61-90", "90+", None, None)]
    assert rolls[2]["by_balance"]["reason"] == "no balance in bucket 31-60 at the start of the period"
    assert rolls[2]["by_count"]["reason"] == "no account in bucket 31-60 at the start of the period"


def test_eur_is_kept_apart(report):
    eur = row(report["total"], "all", "EUR")
    assert eur["figures"]["credit_sales"] == money("800.00", "EUR")
    assert eur["figures"]["closing_receivables"] == money("700.00", "EUR")     # 800 - credit note 100
    assert eur["figures"]["credit_notes"] == money("100.00", "EUR")
    assert eur["figures"]["collection_costs"] is None
    v = values(eur)
    assert v["dso"] == "27.12"          # 700 / 800 x 31 = 27.125, rounded half to even
    assert v["cei"] == "100.00"         # (0 + 800 - 700) / (0 + 800 - 700)
    assert v["collection_rate"] == "0.00"
    assert v["past_due_rate"] == "0.00"   # (700 - 700) / 700: A6-1 is due on the last day, so current
    for name, reason in (("recovery_rate", "no past-due balance at the start of the period"),
                         ("cure_rate", "no delinquent accounts at the start of the period"),
                         ("promise_kept_rate", "no promise to pay fell due in the period"),
                         ("right_party_contact_rate", "no contact attempts in the period"),
                         ("cost_to_collect", "no collection costs are configured for EUR")):
        assert eur["kpis"][name] == {"value": None, "unit": eur["kpis"][name]["unit"], "reason": reason}


def test_grouped_by_segment(ledger, policy, costs):
    r = compute_kpis(ledger, START, END, group_by="segment", policy=policy, costs=costs).to_dict()
    got = {(x["group"], x["currency"]): x["figures"]["accounts"] for x in r["groups"]}
    # Segments at the end of October overlap: A2, A5, A7 owe nothing (small_balance) and are consumers.
    assert got == {("consumer", "EUR"): 1, ("consumer", "GBP"): 4, ("business", "GBP"): 3,
                   ("small_balance", "GBP"): 3, ("high_risk", "GBP"): 1, ("punctual", "GBP"): 1}
    consumer = row(r["groups"], "consumer", "GBP")
    # A1 A2 A5 A7: collected 300 + 400 + 100 = 800 of opening 1500 + sales 500.
    assert consumer["kpis"]["collection_rate"]["value"] == "40.00"
    # Fixed costs stay with the portfolio total; a group carries its own contacts' costs:
    # A1 email 0.02 + call 2.50, A2 sms 0.05 = 2.57.
    assert consumer["figures"]["collection_costs"] == money("2.57")
    assert r["total"] == compute_kpis(ledger, START, END, policy=policy, costs=costs).to_dict()["total"]


def test_grouped_by_opening_bucket(ledger, policy):
    r = compute_kpis(ledger, START, END, group_by="bucket", policy=policy).to_dict()
    assert [(x["group"], x["currency"], x["figures"]["accounts"]) for x in r["groups"]] == [
        ("current", "GBP", 2), ("1-30", "GBP", 3), ("90+", "GBP", 1), ("(none)", "EUR", 1), ("(none)", "GBP", 1)]
    late = row(r["groups"], "1-30", "GBP")
    # A1 A2 A5 were 1-30: A2 and A5 cured; recovered 300 + 400 + 100 of 1500.
    assert late["kpis"]["cure_rate"]["value"] == "66.67"
    assert late["kpis"]["recovery_rate"]["value"] == "53.33"


def test_grouped_by_channel(ledger, policy, costs):
    r = compute_kpis(ledger, START, END, group_by="channel", policy=policy, costs=costs).to_dict()
    got = {(x["group"], x["currency"]): (x["figures"]["accounts"], x["figures"]["attempts"]) for x in r["groups"]}
    # Accounts by their last attempt's channel; attempts by their own channel. A1's email is
    # in the email row although A1's last attempt (and so A1) is in the call row.
    assert got == {("email", "GBP"): (0, 1), ("sms", "GBP"): (1, 1), ("letter", "GBP"): (1, 1),
                   ("call", "GBP"): (2, 3), ("(none)", "EUR"): (1, 0), ("(none)", "GBP"): (3, 0)}
    call = row(r["groups"], "call", "GBP")
    assert call["figures"]["right_party_contacts"] == 1
    assert call["kpis"]["right_party_contact_rate"]["value"] == "33.33"     # 1 / 3
    assert call["figures"]["collection_costs"] == money("7.50")             # 3 x 2.50
    assert call["kpis"]["cost_to_collect"]["value"] == "0.0058"             # 7.50 / (A1 300 + A4 1000)
    email = row(r["groups"], "email", "GBP")
    assert email["kpis"]["collection_rate"]["reason"].startswith("nothing was outstanding")


def _stage_members(store, policy, at) -> dict:
    """Accounts per stage as decide() sees them at `at` (the tick stores the same stage)."""
    from arrears.engine.decisions.core import decide
    out: dict = {}
    for account_id in ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"):
        account, history = store.get_account(account_id)
        stage = decide(account, [e for e in history if e.at <= at], policy, at).stage or "(none)"
        out[stage] = out.get(stage, 0) + 1
    return out


def _accounts_per_group(report: dict) -> dict:
    out: dict = {}
    for x in report["groups"]:
        out[x["group"]] = out.get(x["group"], 0) + x["figures"]["accounts"]
    return out


def test_grouped_by_stage_follows_stored_decisions(store, policy):
    from datetime import datetime, timezone

    from arrears.engine.domain.batch import epoch_day
    from arrears.engine.kpis import ledger_from_store
    from arrears.engine.tick import run_tick
    from tests.kpis.kpikit import END_DAY, PERIOD_END

    later = datetime(2026, 12, 20, 12, 0, tzinfo=timezone.utc)
    # Before any tick there is no stored decision: every account is "(none)".
    bare = compute_kpis(ledger_from_store(store, policy), START, END, group_by="stage", policy=policy)
    assert _accounts_per_group(bare.to_dict()) == {"(none)": 8}
    run_tick(store, policy, PERIOD_END, dispatch=False)
    run_tick(store, policy, later, dispatch=False)
    ledger = ledger_from_store(store, policy)
    october = compute_kpis(ledger, START, END, group_by="stage", policy=policy).to_dict()
    december = compute_kpis(ledger, END_DAY + 1, epoch_day(later.date()), group_by="stage",
                            policy=policy).to_dict()
    # Each period takes every account's latest decision up to its end, not a later one.
    assert _accounts_per_group(october) == _stage_members(store, policy, PERIOD_END)
    assert _accounts_per_group(december) == _stage_members(store, policy, later)
    assert _accounts_per_group(october) != _accounts_per_group(december)


def test_series_by_month(ledger, policy):
    from arrears.engine.kpis import kpi_series, month_ends
    series = kpi_series(ledger, month_ends(START, END.replace(month=11, day=30)), policy=policy)
    assert [r.head()["from"] for r in series.reports] == ["2026-10-01", "2026-11-01"]
    d = series.to_dict()
    gbp = next(x for x in d["total"] if x["currency"] == "GBP")
    assert gbp["kpis"]["collection_rate"][0] == "25.33"
    # November opens where October closed.
    assert gbp["figures"]["opening_receivables"] == ["7000.00", "4100.00"]
    assert gbp["aging"]["61-90"]["balance"][0] == "1200.00"
    assert gbp["kpis"]["dso"][1] is None          # no credit sales in November
    assert Decimal(gbp["figures"]["collected"][1]) == 0
    assert d["periods"] == [{"from": "2026-10-01", "to": "2026-10-31"}, {"from": "2026-11-01", "to": "2026-11-30"}]


def test_no_reported_outcome_measures_no_right_party_rate(ledger, policy):
    """An SMS or a letter only `sent` says nothing of whom it reached: n/a with the reason, not 0.00%."""
    r = compute_kpis(ledger, START, END, group_by="channel", policy=policy).to_dict()
    for kind in ("email", "sms", "letter"):
        g = row(r["groups"], kind, "GBP")
        assert (g["figures"]["attempts"], g["figures"]["right_party_contacts"],
                g["figures"]["outcomes_reported"]) == (1, 0, 0)
        assert g["kpis"]["right_party_contact_rate"] == {
            "value": None, "unit": "percent",
            "reason": "no attempt's outcome says whether the debtor was reached (only sent or delivered were "
                      "reported)"}
    call = row(r["groups"], "call", "GBP")
    assert call["figures"]["outcomes_reported"] == 3                        # conversation, no_answer, wrong_party
