"""Edge cases: empty stores and periods, zero denominators, bad input, other ledger sources."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

import numpy as np
import pytest

from arrears.engine.domain.batch import Batch, epoch_day
from arrears.engine.domain.errors import InputError
from arrears.engine.kpis import (
    Ledger,
    compute_kpis,
    kpi_series,
    ledger_from_batch,
    ledger_from_store,
    month_ends,
)
from arrears.engine.kpis.compute import months_between
from arrears.engine.kpis.costs import CostConfigError, parse_costs
from arrears.engine.kpis.ledger import Contacts, Flows, Invoices, Promises
from arrears.engine.kpis.render import to_table
from arrears.engine.store import Store
from tests.kpis.kpikit import END, END_DAY, START, accounts, histories


def test_an_empty_store(tmp_path, policy):
    with Store(f"sqlite:///{tmp_path / 'empty.db'}") as store:
        ledger = ledger_from_store(store, policy, segment_days=[END_DAY])
    assert ledger.n == 0
    for group_by in (None, "segment", "bucket", "channel", "stage"):
        report = compute_kpis(ledger, START, END, group_by=group_by, policy=policy)
        assert report.to_dict()["groups"] == [] and report.to_dict()["total"] == []
    assert "no accounts" in to_table(compute_kpis(ledger, START, END, policy=policy))


def test_a_period_before_any_history(ledger, policy):
    report = compute_kpis(ledger, date(2020, 1, 1), date(2020, 1, 31), policy=policy).to_dict()
    gbp = next(r for r in report["total"] if r["currency"] == "GBP")
    assert gbp["figures"]["accounts"] == 7 and gbp["figures"]["opening_receivables"]["amount"] == "0.00"
    assert all(a["count"] == 0 for a in gbp["aging"])
    reasons = {name: k["reason"] for name, k in gbp["kpis"].items() if k["value"] is None}
    assert reasons == {
        "collection_rate": "nothing was outstanding: no opening receivables and no credit sales",
        "recovery_rate": "no past-due balance at the start of the period",
        "dso": "no credit sales in the period", "best_possible_dso": "no credit sales in the period",
        "average_days_delinquent": "no credit sales in the period",
        "past_due_rate": "no receivables at the end of the period",
        "bad_debt_ratio": "no credit sales in the period",
        "cei": "opening receivables + credit sales / months - closing current receivables is zero",
        "cure_rate": "no delinquent accounts at the start of the period",
        "promise_kept_rate": "no promise to pay fell due in the period",
        "right_party_contact_rate": "no contact attempts in the period",
        "cost_to_collect": "no collection costs are configured for GBP"}


def test_bad_periods_and_groupings(ledger, policy):
    with pytest.raises(InputError, match="from: the period starts"):
        compute_kpis(ledger, END, START, policy=policy)
    with pytest.raises(InputError, match="group_by: expected one of segment, bucket, channel, stage, strategy; got 'col"):
        compute_kpis(ledger, START, END, group_by="colour", policy=policy)
    with pytest.raises(InputError, match="expected a date or an epoch day"):
        compute_kpis(ledger, "2026-10-01", END, policy=policy)
    # Segment membership is evaluated at chosen days; none at or before the period end.
    with pytest.raises(InputError, match=r"no segment membership at or before 2026-09-30 \(ledger_from_store"):
        compute_kpis(ledger, date(2026, 9, 1), date(2026, 9, 30), group_by="segment", policy=policy)
    with pytest.raises(InputError, match="at least two increasing days"):
        kpi_series(ledger, [END_DAY, END_DAY], policy=policy)


def test_a_batch_and_the_store_give_the_same_kpis(ledger, policy, costs):
    # The replay builds ledgers from batches; the store path must agree with it exactly.
    batch = Batch.from_objects(accounts(), histories())
    direct = ledger_from_batch(batch, policy, segment_days=[END_DAY])
    for group_by in (None, "segment", "bucket", "channel"):
        assert compute_kpis(direct, START, END, group_by=group_by, policy=policy, costs=costs).to_dict() == \
            compute_kpis(ledger, START, END, group_by=group_by, policy=policy, costs=costs).to_dict()


def test_a_hand_built_ledger_with_a_label(policy):
    d = epoch_day(date(2026, 3, 1))
    # Two GBP accounts, arms "champion" and "challenger" of a replay.
    ledger = Ledger.build(
        ["X", "Y"], ["GBP", "GBP"],
        invoices=Invoices.of([0, 1], [10_000, 20_000], due_day=[d - 40, d - 10], issued_day=[d - 70, d - 40]),
        payments=Flows.of([1, 0], [d + 3, d + 5], [5_000, 10_000]),
        contacts=Contacts.of([0, 0], [d + 1, d + 2], ["call", "call"], ["no_answer", "conversation"],
                             reported=[True, True]),
        promises=Promises.of([0], [d + 2], [d + 4], [10_000]),
        labels={"arm": np.asarray(["champion", "challenger"], dtype=object)})
    r = compute_kpis(ledger, d, d + 30, group_by="arm", policy=policy).to_dict()
    got = {x["group"]: x for x in r["groups"]}
    assert list(got) == ["challenger", "champion"]
    champion = got["champion"]
    # X owed 100.00, 40 days late (31-60), paid it all on day 5: cured; promise (until +4, +2 tolerance) kept.
    assert {k: champion["kpis"][k]["value"] for k in ("collection_rate", "cure_rate", "promise_kept_rate",
                                                      "right_party_contact_rate")} == \
        {"collection_rate": "100.00", "cure_rate": "100.00", "promise_kept_rate": "100.00",
         "right_party_contact_rate": "50.00"}
    assert got["challenger"]["kpis"]["collection_rate"]["value"] == "25.00"     # 50 of 200


@pytest.mark.parametrize("tables, message", [
    ({"invoices": Invoices.of([0, 0], [1, 1], due_day=[5, 3])}, "invoices: must be sorted by"),
    ({"payments": Flows.of([2], [1], [100])}, r"payments\[0\]: account row 2 is not in 0..1"),
    ({"payments": Flows.of([0], [1], [0])}, "payments: amounts must be > 0"),
    ({"invoices": Invoices.of([0, 1], [1, 1], due_day=[1, 1]), "payments": Flows.of([1], [1], [5], invoice=[0])},
     "payments: invoice rows must be"),
])
def test_ledger_checks(tables, message):
    with pytest.raises(ValueError, match=message):
        Ledger.build(["X", "Y"], ["GBP", "GBP"], **tables)


def test_ledger_refuses_unknown_names_and_currencies():
    with pytest.raises(ValueError, match="unknown channel kind 'pigeon'"):
        Contacts.of([0], [1], ["pigeon"], ["sent"])
    with pytest.raises(InputError, match="ISO 4217"):
        Ledger.build(["X"], ["pounds"])


def test_cost_configuration_problems_are_all_reported():
    with pytest.raises(CostConfigError) as exc:
        parse_costs({"GBP": {"email": "x", "pigeon": "1", "sms": "-1"}, "gbp": {}, "EUR": "1"})
    assert exc.value.problems == [
        "kpis.costs.GBP.email: expected a decimal amount such as \"12.50\", got 'x'",
        "kpis.costs.GBP.pigeon: unknown key; allowed: email, sms, letter, call, webhook, task, fixed_per_month",
        "kpis.costs.GBP.sms: must not be negative, got '-1'",
        "kpis.costs.gbp: expected an ISO 4217 currency code such as 'EUR', got 'gbp'",
        "kpis.costs.EUR: expected a table of channel kinds and fixed_per_month"]


def test_months_and_month_ends():
    day = lambda *a: epoch_day(date(*a))
    assert months_between(day(2026, 1, 1), day(2026, 3, 31)) == 3
    assert months_between(day(2026, 2, 1), day(2026, 2, 14)) == Fraction(1, 2)
    assert months_between(day(2026, 1, 16), day(2026, 2, 14)) == Fraction(16, 31) + Fraction(14, 28)
    assert month_ends(date(2026, 10, 15), date(2026, 12, 10)) == [
        day(2026, 9, 30), day(2026, 10, 31), day(2026, 11, 30), day(2026, 12, 10)]
