"""simulate(): the exact difference a candidate makes on a portfolio known account by account
(simkit's table), determinism, samples, capacity, and that nothing is written."""
from __future__ import annotations

import json

import numpy as np
import pytest

from arrears.engine.domain.errors import InputError
from arrears.engine.simulate import Capacity, CapacityError, from_delivery_config, from_work_queue, simulate
from arrears.engine.simulate.sample import Sampler, sample_key
from arrears.engine.simulate.text import render
from tests.simulate.simkit import CALL_AT_3, CALL_AT_30, GRACE_10, NO_SETTLEMENT, NOW, WITH_SMS, snapshot


def run(store, active, candidate, **kw) -> dict:
    return simulate(store, active, candidate, NOW, **kw).to_dict()


def counts(rows: list[dict], key: str) -> dict:
    return {r[key]: (r["active"], r["candidate"]) for r in rows}


def test_moving_a_stage_threshold(store, active, compile_text):
    d = run(store, active, compile_text(CALL_AT_30))
    assert d["accounts"] == 8 and d["read_only"] is True
    assert d["policies"]["active"]["version"] == "1" and d["policies"]["candidate"]["version"] == "2"
    assert counts(d["stages"], "stage") == {"reminder": (2, 4), "call": (1, 0), "notice": (2, 2), None: (3, 2)}
    assert counts(d["actions"], "action") == {"call": (1, 0), "formal_notice": (2, 2), "reminder": (2, 4),
                                              None: (3, 2)}
    ch = d["changes"]
    assert (ch["stage"], ch["decision"]) == (2, 2)
    assert ch["transitions"] == [{"from": "call", "to": "reminder", "accounts": 1},
                                 {"from": None, "to": "reminder", "accounts": 1}]
    by_id = {s["account_id"]: s for s in ch["sample"]}
    assert set(by_id) == {"A2-CALL", "A8-NOPHONE"}
    a2 = by_id["A2-CALL"]
    assert (a2["from"], a2["to"]) == ("call", "reminder")
    assert a2["active"]["action"]["type"] == "call" and a2["candidate"]["action"]["channel"] == "email"
    def lines(trace):                 # without `source`, where in each policy file the step is written
        return [{k: t[k] for k in ("step", "outcome", "detail")} for t in trace]
    assert {"step": "stage call", "outcome": "selected", "detail": "next stage"} in lines(a2["active"]["trace"])
    assert {"step": "stage call", "outcome": "not yet due",
            "detail": "needs 30 days past due; is 25"} in lines(a2["candidate"]["trace"])
    # only lines that differ are shown: the facts and the priority are the same under both
    assert not {t["step"] for t in a2["active"]["trace"]} & {"facts", "priority", "next evaluation"}
    a8 = by_id["A8-NOPHONE"]
    assert a8["active"]["action"] is None
    assert [s["rule"] for s in a8["active"]["suppressions"]] == ["channel.unavailable"]
    sup = d["suppressions"]
    assert (sup["active"], sup["candidate"]) == (2, 1)          # A5 (promise) and A8; then A5 only
    assert sup["newly_suppressed"] == {"accounts": 0, "by_rule": [], "sample": []}
    released = sup["newly_released"]
    assert released["accounts"] == 1 and released["by_rule"] == [{"rule": "channel.unavailable", "accounts": 1}]
    assert [s["account_id"] for s in released["sample"]] == ["A8-NOPHONE"]
    assert counts(d["contacts"]["by_channel"], "channel") == {"call": (1, 0), "email": (2, 4), "letter": (2, 2)}
    assert {r["day"] for r in d["contacts"]["by_channel"]} == {"2026-11-22"}


def test_a_longer_grace_newly_suppresses(store, active, compile_text):
    d = run(store, active, compile_text(GRACE_10))
    assert d["changes"]["transitions"] == [{"from": "reminder", "to": None, "accounts": 1}]
    new = d["suppressions"]["newly_suppressed"]
    assert new["accounts"] == 1 and new["by_rule"] == [{"rule": "grace", "accounts": 1}]
    [held] = new["sample"]
    assert held["account_id"] == "A1-EARLY"
    assert held["rules"][0]["rule"] == "grace" and "10 grace days" in held["rules"][0]["reason"]
    assert held["rules"][0]["until"] == "2026-11-28T00:00:00Z"      # due 11-17 + 10 days of grace
    assert d["suppressions"]["newly_released"]["accounts"] == 0


def test_disabling_an_incentive_changes_the_cost_not_the_decisions(store, active, compile_text):
    d = run(store, active, compile_text(NO_SETTLEMENT))
    assert d["incentives"] == [{
        "currency": "EUR",
        "active": {"early_payment_discount": {"offers": 0, "discount": "0.00"},
                   "settlement": {"offers": 1, "amount": "700.00", "discount": "300.00", "requires_approval": 0}},
        "candidate": {"early_payment_discount": {"offers": 0, "discount": "0.00"},
                      "settlement": {"offers": 0, "amount": "0.00", "discount": "0.00", "requires_approval": 0}}}]
    assert d["changes"]["stage"] == 0 and d["changes"]["decision"] == 0 and d["changes"]["sample"] == []


def test_adding_a_channel_moves_contacts_not_stages(store, active, compile_text):
    d = run(store, active, compile_text(WITH_SMS))
    assert d["changes"]["stage"] == 0
    assert d["changes"]["decision"] == 1                  # A3 (mobile known): email -> sms
    assert counts(d["contacts"]["by_channel"], "channel") == {"call": (1, 1), "email": (2, 1), "letter": (2, 2),
                                                              "sms": (0, 1)}


def test_contacts_against_capacity(store, active, compile_text):
    d = run(store, active, compile_text(CALL_AT_3), capacity=Capacity({"call": 1}))
    assert d["changes"]["transitions"] == [{"from": "reminder", "to": "call", "accounts": 1}]   # A1
    call = [r for r in d["contacts"]["by_kind"] if r["kind"] == "call"]
    assert call == [{"kind": "call", "day": "2026-11-22", "capacity": 1, "active": 1, "candidate": 2,
                     "active_over": 0, "candidate_over": 1}]
    email = next(r for r in d["contacts"]["by_kind"] if r["kind"] == "email")
    assert email["capacity"] is None and email["candidate_over"] == 0        # unlimited
    # more staff: the same candidate fits
    roomy = run(store, active, compile_text(CALL_AT_3), capacity=Capacity({"call": 1}).overridden({"call": 2}))
    assert [r["candidate_over"] for r in roomy["contacts"]["by_kind"] if r["kind"] == "call"] == [0]


def test_capacity_days_follow_the_configured_zone_and_routes(store, active):
    config = {"channels": {"call": {"queue_db": "q.db", "daily_capacity": 1, "timezone": "Australia/Sydney"},
                           "webhook": {"url": "http://x"}}, "routes": {"letter": "webhook"}}
    d = run(store, active, active, capacity=from_delivery_config(config))
    by_kind = {(r["kind"], r["day"]): (r["active"], r["capacity"]) for r in d["contacts"]["by_kind"]}
    # 15:00 UTC on the 22nd is 02:00 on the 23rd in Sydney; letters are delivered by the webhook
    assert by_kind == {("call", "2026-11-23"): (1, 1), ("email", "2026-11-22"): (2, None),
                       ("webhook", "2026-11-22"): (2, None)}
    assert d["contacts"]["capacity"] == {"source": "delivery configuration", "limits": {"call": 1},
                                         "timezones": {"call": "Australia/Sydney"}, "routes": {"letter": "webhook"}}


@pytest.mark.parametrize("config, message", [
    ({"channels": {"call": {"daily_capacity": "lots"}}}, "channels.call.daily_capacity"),
    ({"channels": {"call": {"daily_capacity": -1}}}, "channels.call.daily_capacity"),
    ({"channels": {"call": {"daily_capacity": 5, "timezone": "Mars/Base"}}}, "channels.call.timezone"),
    ({"routes": ["call"]}, "routes"),
])
def test_unusable_capacity_settings_are_named(config, message):
    with pytest.raises(CapacityError, match=message):
        from_delivery_config(config)


def test_work_queue_capacity_counts_utc_days():
    cap = from_work_queue({"call": 100})
    assert cap.limit("call") == 100 and cap.limit("email") is None and cap.zone("call") == "UTC"
    with pytest.raises(CapacityError, match="api.work_queue_capacity.call"):
        from_work_queue({"call": True})


def test_the_same_policy_changes_nothing(store, active):
    d = run(store, active, active)
    assert d["changes"] == {"stage": 0, "decision": 0, "transitions": [], "sample_size": 20, "sample": []}
    assert all(r["active"] == r["candidate"] for r in d["stages"] + d["actions"] + d["contacts"]["by_channel"])


def test_output_does_not_depend_on_page_size_and_is_json(store, active, compile_text):
    candidate = compile_text(CALL_AT_30)
    reports = [run(store, active, candidate, batch_size=size) for size in (1, 3, 10_000)]
    assert reports[0] == reports[1] == reports[2]
    assert json.loads(json.dumps(reports[0])) == reports[0]


def test_the_sample_is_the_smallest_hashes(store, active, compile_text):
    candidate = compile_text(CALL_AT_30)
    changed = ["A2-CALL", "A8-NOPHONE"]
    first = min(changed, key=sample_key)
    for size in (1, 10_000):
        sample = run(store, active, candidate, sample=1, batch_size=size)["changes"]["sample"]
        assert [s["account_id"] for s in sample] == [first]
    assert [s["account_id"] for s in run(store, active, candidate, sample=5)["changes"]["sample"]] == \
        sorted(changed, key=sample_key)
    assert run(store, active, candidate, sample=0)["changes"]["sample"] == []


def test_the_sampler_keeps_the_smallest_keys_across_pages():
    ids = [f"ACC{i:04d}" for i in range(200)]
    sampler, built = Sampler(5), []
    for start in range(0, len(ids), 7):                         # pages of 7, in store order
        sampler.take(ids, np.arange(start, min(start + 7, len(ids))),
                     lambda row: built.append(ids[row]) or {"account_id": ids[row]})
    assert [e["account_id"] for e in sampler.entries()] == sorted(ids, key=sample_key)[:5]
    assert len(built) < 40                                      # only candidates that enter are built


def test_simulate_is_read_only(store, active, compile_text):
    before = snapshot(store)
    run(store, active, compile_text(CALL_AT_3))
    assert snapshot(store) == before


def test_progress_is_reported_per_page(store, active):
    seen = []
    simulate(store, active, active, NOW, batch_size=3, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(3, 8), (6, 8), (8, 8)]


@pytest.mark.parametrize("kw, error", [({"batch_size": 0}, ValueError), ({"sample": -1}, ValueError),
                                       ({"batch_size": True}, ValueError)])
def test_bad_arguments(store, active, kw, error):
    with pytest.raises(error):
        simulate(store, active, active, NOW, **kw)


def test_a_naive_instant_is_refused(store, active):
    with pytest.raises(InputError, match="timezone-aware"):
        simulate(store, active, active, NOW.replace(tzinfo=None))


def test_an_empty_store(active, tmp_path):
    from arrears.engine.store import Store
    with Store(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        d = run(empty, active, active)
    assert d["accounts"] == 0 and d["incentives"] == [] and d["contacts"]["by_channel"] == []
    assert all(r["active"] == r["candidate"] == 0 for r in d["stages"])


def test_text_rendering_names_the_changes(store, active, compile_text):
    text = render(run(store, active, compile_text(CALL_AT_30), capacity=Capacity({"call": 0})))
    assert "over 8 accounts (nothing stored)" in text
    assert "call -> reminder: 1" in text and "(none) -> reminder: 1" in text
    assert "stage call: not yet due — needs 30 days past due; is 25" in text
    assert "Newly released: 1 account (channel.unavailable 1)" in text
    assert "EUR active:     early-payment discount 0 offers, 0.00; settlement 1 offer, pay 700.00" in text
    assert "call       2026-11-22  active       1  candidate       0  (capacity 0, active over by 1)" in text
