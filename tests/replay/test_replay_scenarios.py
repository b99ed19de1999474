"""Small handcrafted histories whose replay is known day by day."""
from __future__ import annotations

from datetime import date

import pytest

from arrears.engine.replay import read_replay_csv, replay
from arrears.engine.replay.export import contact_rows
from arrears.engine.replay.report import build_report
from arrears.engine.replay.timeline import period_labels
from tests.replay.replaykit import write_csv

LONDON = "A1,consumer,GB-ENG,Europe/London,GBP,I1,2025-01-01,2025-01-31,500.00,{settled},{off},{disputed},,"
SPRING = (date(2025, 1, 1), date(2025, 4, 30))


def _replay(tmp_path, policy, lines, period=SPRING, **kw):
    data = read_replay_csv(write_csv(tmp_path, lines))
    assert not data.rejects, data.rejects
    run = replay(data, policy, *period, **kw)
    return run, contact_rows(run)


def test_a_settlement_stops_the_escalation(tmp_path, shipped_policy):
    run, contacts = _replay(tmp_path, shipped_policy, [LONDON.format(settled="2025-03-20", off="", disputed="")])
    # the settlement is thanked (the shipped policy's event message), and nothing follows it
    assert contacts[-1][3] == "payment_thanks" and contacts[-1][1] >= "2025-03-20"
    contacts = contacts[:-1]
    stages = [c[3] for c in contacts]
    assert stages[:3] == ["pre_due_reminder", "friendly_reminder", "friendly_reminder"]
    assert {"firm_reminder", "personal_call", "formal_notice"} <= set(stages)
    # Three days before the due date, when the reasonable hours of a UK consumer begin.
    assert contacts[0][1:3] == ("2025-01-28", "2025-01-28T08:00:00Z")
    order = [s.id for s in shipped_policy.stages]
    assert [order.index(s) for s in stages] == sorted(order.index(s) for s in stages)
    assert max(c[1] for c in contacts) < "2025-03-20"
    report = build_report(run)
    assert report.portfolio[0]["settled"] == {"invoices": 1, "amount": {"amount": "500.00", "currency": "GBP"}}


def test_a_write_off_stops_the_escalation_and_counts_as_bad_debt(tmp_path, shipped_policy):
    run, contacts = _replay(tmp_path, shipped_policy, [LONDON.format(settled="", off="2025-03-01", disputed="")])
    assert contacts and max(c[1] for c in contacts) < "2025-03-01"
    (row,) = build_report(run).kpis.total
    assert row.to_dict()["figures"]["written_off"] == {"amount": "500.00", "currency": "GBP"}
    assert row.to_dict()["figures"]["closing_receivables"]["amount"] == "0.00"


def test_a_disputed_invoice_is_not_chased(tmp_path, shipped_policy):
    run, contacts = _replay(tmp_path, shipped_policy, [LONDON.format(settled="", off="", disputed="true")])
    assert contacts == []
    total = build_report(run).total
    assert total["suppressions"] == {"pause.dispute": 1} and total["suppressed_accounts"] == 1
    assert total["evaluations"] > 0


def test_an_invoice_enters_on_its_invoice_date(tmp_path, shipped_policy):
    line = "A1,consumer,GB-ENG,Europe/London,GBP,I1,2025-03-10,2025-03-12,500.00,,,,,"
    _run, contacts = _replay(tmp_path, shipped_policy, [line])
    # The pre-due window opened on 9 March, but the invoice only exists from the 10th.
    assert contacts[0][1] == "2025-03-10" and contacts[0][3] == "pre_due_reminder"


def test_the_warm_up_carries_earlier_escalation_into_the_period(tmp_path, shipped_policy):
    line = "A1,consumer,GB-ENG,Europe/London,GBP,I1,2024-10-01,2024-10-31,500.00,,,,,"
    run, contacts = _replay(tmp_path, shipped_policy, [line], period=(date(2025, 1, 1), date(2025, 3, 31)))
    assert run.simulated_from == date(2024, 10, 1)
    everything = run.history.all_contacts()
    before = sum(1 for at in everything["at"].tolist() if at < 1735689600)       # 2025-01-01T00:00Z
    assert before >= 5                        # reminders, notice and call made during the warm-up
    assert len(contacts) == len(everything["at"]) - before
    assert "pre_due_reminder" not in [c[3] for c in contacts]


def test_each_debtor_is_contacted_on_their_own_calendar_day(tmp_path, shipped_policy):
    lines = ["S1,consumer,AU-NSW,Australia/Sydney,AUD,I1,2025-01-01,2025-01-31,500.00,,,,,",
             "L1,consumer,US-CA,America/Los_Angeles,USD,I1,2025-01-01,2025-01-31,500.00,,,,,"]
    _run, contacts = _replay(tmp_path, shipped_policy, lines, period=(date(2025, 1, 1), date(2025, 1, 31)))
    first = {c[0]: c for c in contacts if c[3] == "pre_due_reminder"}
    assert first["S1"][1] == first["L1"][1] == "2025-01-28"
    assert first["S1"][2] < first["L1"][2]        # Sydney's 28 January comes first


def test_finer_ticks_make_the_same_days_decisions(tmp_path, shipped_policy):
    lines = [LONDON.format(settled="2025-03-20", off="", disputed="")]
    _, daily = _replay(tmp_path, shipped_policy, lines)
    _, hourly = _replay(tmp_path, shipped_policy, lines, tick=3600)
    assert [(c[1], c[3], c[5]) for c in daily] == [(c[1], c[3], c[5]) for c in hourly]


@pytest.mark.parametrize("by, labels", [
    ("day", ["2025-12-30", "2025-12-31", "2026-01-01"]),
    ("week", ["2025-W01"]),                   # ISO week 1 of 2026 starts on Monday 29 December 2025
    ("month", ["2025-12", "2026-01"]),
])
def test_period_labels(by, labels):
    index, periods = period_labels(date(2025, 12, 30), date(2026, 1, 1), by)
    if by == "week":
        labels = ["2026-W01"]
    assert [p[0] for p in periods] == labels
    assert len(index) == 3 and periods[0][1] == date(2025, 12, 30) and periods[-1][2] == date(2026, 1, 1)


def test_bad_periods_and_ticks_are_refused(tmp_path, shipped_policy):
    data = read_replay_csv(write_csv(tmp_path, [LONDON.format(settled="", off="", disputed="")]))
    with pytest.raises(ValueError, match="ends .* before it starts"):
        replay(data, shipped_policy, date(2025, 2, 1), date(2025, 1, 1))
    with pytest.raises(ValueError, match="divide a day"):
        replay(data, shipped_policy, *SPRING, tick=7 * 3600)
