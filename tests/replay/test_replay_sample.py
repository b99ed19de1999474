"""The committed sample replayed over 2025: properties that must hold, checked against the
CSV read independently, and agreement with the one-account `decide` path."""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, datetime, time, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.model import CHANNEL_KINDS, Contact, Event
from arrears.engine.replay.export import contact_rows
from tests.replay.replaykit import YEAR


def _d(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _independent_totals(rows: list[dict]) -> dict:
    """Per currency: the portfolio figures computed from the CSV rows alone."""
    start, end = YEAR
    out: dict = defaultdict(lambda: defaultdict(lambda: [0, Decimal(0)]))
    for r in rows:
        issued, settled, off = _d(r["issued_date"]), _d(r["settled_date"]), _d(r["written_off_date"])
        closed = settled or off
        disputed = _d(r["disputed_date"]) or (issued if r["disputed"] else None)
        flags = {"open_at_start": issued < start and (closed is None or closed >= start),
                 "issued": start <= issued <= end,
                 "settled": settled is not None and start <= settled <= end,
                 "written_off": off is not None and start <= off <= end,
                 "disputed": disputed is not None and start <= disputed <= end,
                 "open_at_end": issued <= end and (closed is None or closed > end)}
        for name, hit in flags.items():
            if hit:
                out[r["currency"]][name][0] += 1
                out[r["currency"]][name][1] += Decimal(r["amount"])
    return out


def test_portfolio_totals_agree_with_the_csv(sample_report, sample_rows):
    expected = _independent_totals(sample_rows)
    assert [e["currency"] for e in sample_report.portfolio] == sorted(expected)
    for entry in sample_report.portfolio:
        mine = expected[entry["currency"]]
        for name in ("open_at_start", "issued", "settled", "written_off", "disputed", "open_at_end"):
            count, amount = mine[name]
            assert entry[name]["invoices"] == count, (entry["currency"], name)
            assert Decimal(entry[name]["amount"]["amount"]) == amount, (entry["currency"], name)
        # What was open, plus what was issued, less what was settled or written off, is open.
        for i in (0, 1):
            assert mine["open_at_end"][i] == (mine["open_at_start"][i] + mine["issued"][i]
                                              - mine["settled"][i] - mine["written_off"][i])


def test_kpis_are_computed_from_the_same_history(sample_report, sample_run, sample_rows):
    expected = _independent_totals(sample_rows)
    kpis = {row.currency: row for row in sample_report.kpis.total}
    assert sorted(kpis) == sorted(expected)
    for currency, row in kpis.items():
        money = {k: Decimal(v["amount"]) for k, v in row.to_dict()["figures"].items() if isinstance(v, dict)}
        assert money["credit_sales"] == expected[currency]["issued"][1]
        assert money["collected"] == expected[currency]["settled"][1]
        assert money["written_off"] == expected[currency]["written_off"][1]
        assert money["opening_receivables"] == expected[currency]["open_at_start"][1]
        assert money["closing_receivables"] == expected[currency]["open_at_end"][1]
    # Every contact of the period is one attempt in the KPIs and one line of the export.
    attempts = sum(row.figures["attempts"] for row in sample_report.kpis.total)
    assert sample_report.total["contacts"] == attempts == len(contact_rows(sample_run)) > 300


@pytest.fixture(scope="module")
def contacts(sample_run):
    """The period's contacts as exported (account, day, at, stage, attempt, channel, offers)."""
    return contact_rows(sample_run)


def test_contacts_only_while_something_undisputed_is_owed(contacts, sample_rows, shipped_policy):
    """A settlement, a write-off or a dispute stops the contacts about that invoice; an
    invoice is not chased before its invoice date. (Event messages, such as the thank-you for a
    settlement, are not collection contacts.)"""
    messages = {m.stage.id for m in shipped_policy.messages}
    contacts = [c for c in contacts if c[3] not in messages]
    invoices = defaultdict(list)
    for r in sample_rows:
        disputed = _d(r["disputed_date"]) or (_d(r["issued_date"]) if r["disputed"] else None)
        invoices[r["account_id"]].append((_d(r["issued_date"]), _d(r["settled_date"]) or _d(r["written_off_date"]),
                                          disputed, _d(r["dispute_resolved_date"])))
    for account, day, *_ in contacts:
        d = date.fromisoformat(day)
        owed = [i for i in invoices[account]
                if i[0] <= d and (i[1] is None or i[1] > d) and not (i[2] and i[2] <= d and not (i[3] and i[3] <= d))]
        assert owed, f"{account} contacted on {day} with nothing undisputed owed"
    closed_accounts = {a for a, inv in invoices.items() if all(i[1] and i[1] < YEAR[1] for i in inv)}
    assert closed_accounts, "the sample must have customers who settled everything"


def test_required_stages_are_never_skipped(sample_run, shipped_policy):
    """The contact before a legal warning or an agency referral is at or after every
    required stage before it (these two stages apply only where the required ones do)."""
    stages = shipped_policy.stages
    required = [s.index for s in stages if s.required]
    c = sample_run.history.all_contacts()
    ladder = np.flatnonzero(c["stage"] < len(stages))      # event messages are not on the ladder
    c = {k: v[ladder] for k, v in c.items()}
    checked = 0
    for i in range(1, len(c["acct"])):
        stage = stages[int(c["stage"][i])]
        if stage.id not in ("legal_warning", "agency_referral"):
            continue
        assert c["acct"][i - 1] == c["acct"][i], "a late stage cannot be an account's first contact"
        before = int(c["stage"][i - 1])
        assert not [r for r in required if before < r < stage.index], (sample_run.history.base.ids[c["acct"][i]],
                                                                        stages[before].id, stage.id)
        checked += 1
    assert checked >= 20


def test_timeline_adds_up(sample_report, sample_run):
    rows, total = sample_report.timeline, sample_report.total
    assert [r["period"] for r in rows] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert rows[0]["from"] == "2025-01-01" and rows[-1]["to"] == "2025-12-31"
    for key in ("evaluations", "contacts"):
        assert sum(r[key] for r in rows) == total[key] > 0
    for row in rows + [total]:
        assert row["contacts"] == sum(sum(ch.values()) for ch in row["actions"].values())
    assert total["evaluations"] <= sample_run.evaluations         # the warm-up is not counted
    # An account held back in two months counts in each, but once in the total.
    assert max(r["suppressed_accounts"] for r in rows) <= total["suppressed_accounts"] \
        <= sum(r["suppressed_accounts"] for r in rows)
    assert {"grace", "pause.dispute"} <= set(total["suppressions"])
    offers = total["incentives"]["early_payment_discount"]
    assert offers["offered"] > 0 and all(Decimal(m["amount"]) > 0 for m in offers["discount"])


# ---- agreement with the one-account path -------------------------------------------------

def _objects_at(run, row: int, t: int, contacts_before: int):
    """The account and history of `row` as model objects, as recorded at `t`, with the
    contacts made before `contacts_before` only."""
    data, hist, policy = run.data, run.history, run.policy
    acc = data.accounts[row]
    zone = ZoneInfo(acc.timezone or policy.default_timezone)

    def start_of(day: date) -> datetime:
        return datetime.combine(day, time(0), zone).astimezone(timezone.utc)

    until = datetime.fromtimestamp(t, timezone.utc)
    invoices = tuple(i for i in acc.invoices if start_of(i.issued_date) <= until)
    events = []
    for inv in invoices:
        fate = data.fates[(acc.id, inv.id)]
        for kind, day, amount in (("dispute_opened", fate.disputed, None), ("dispute_resolved", fate.resolved, None),
                                  ("payment", fate.settled, inv.amount), ("write_off", fate.written_off, inv.amount)):
            if day is not None and start_of(day) <= until and (amount is None or amount > 0):
                events.append(Event(kind, start_of(day), amount=amount, invoice_id=inv.id))
    c = hist.all_contacts()
    mine = np.flatnonzero((c["acct"] == row) & (c["at"] < contacts_before))
    events += [Event("contact_attempt", datetime.fromtimestamp(int(c["at"][k]), timezone.utc),
                     channel=CHANNEL_KINDS[int(c["kind"][k])], stage=policy.actions[int(c["stage"][k])].id,
                     outcome="sent") for k in mine]
    # No contact details in the file: the replay assumes every channel reaches the debtor.
    reach = Contact(email="debtor@example.com", phone="+441234567890", mobile="+447700900000", address="1 Street")
    return dataclasses.replace(acc, invoices=invoices, contact=reach), events


def _same_columns(mine: Batch, theirs: Batch) -> None:
    assert mine.ids == theirs.ids
    assert [mine.tz_names[z] for z in mine.tz] == [theirs.tz_names[z] for z in theirs.tz]
    for f in dataclasses.fields(Batch):
        if f.name in ("ids", "tz_names", "tz"):
            continue
        a, b = getattr(mine, f.name), getattr(theirs, f.name)
        assert a.dtype == b.dtype, f.name
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), f.name
        else:
            assert a.shape == b.shape and all(x == y for x, y in zip(a.tolist(), b.tolist())), f.name


def test_replay_decides_as_the_one_account_path(sample_run, shipped_policy):
    """At the tick each contact was decided, the replay's columns equal `Batch.from_objects`
    of the same history, and `decide` on the history the tick saw (before the contact)
    chooses the same stage, attempt and channel."""
    rows = contact_rows(sample_run)
    ids = {a: i for i, a in enumerate(sample_run.history.base.ids)}
    tick = sample_run.tick
    for account, _day, at, stage, attempt, channel, *_ in rows[::12]:
        sent = int(datetime.fromisoformat(at).timestamp())
        t = sent // tick * tick
        row = ids[account]
        acc, events = _objects_at(sample_run, row, t, t + 1)      # as the history stands at t
        _same_columns(sample_run.history.batch(np.array([row]), t), Batch.from_objects([acc], [events]))
        acc, events = _objects_at(sample_run, row, t, t)          # as the tick at t saw it
        decision = decide(acc, events, shipped_policy, datetime.fromtimestamp(t, timezone.utc))
        action = decision.action
        assert (action.stage, action.attempt, action.channel) == (stage, attempt, channel), (account, at)
        assert int(max(action.not_before.timestamp(), t)) == sent


def test_sample_days_are_the_debtors_local_days(contacts, sample_rows):
    zones = {r["account_id"]: r["timezone"] or "Europe/London" for r in sample_rows}
    for account, day, at, *_ in contacts[::7]:
        local = datetime.fromisoformat(at).astimezone(ZoneInfo(zones[account]))
        assert local.date().isoformat() == day
        assert YEAR[0] <= local.date() <= YEAR[1]
