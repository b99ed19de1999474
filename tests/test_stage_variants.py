"""Segment-specific variants of a stage: one stage id, its channels, template, days and attempts
per segment (issue 13, "say what is meant"); validated at file:line:col, traced in words, and
the same whether an account is decided alone or in a batch."""
from __future__ import annotations

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, POLICY_PATH, days_ago, ev, make_account, policy_doc_without_house_hours
from tests.policy_cases import assert_batch_agrees, assert_located, position, problems_of, shipped_with

MOBILE_ONLY = {"mobile": "+447700900000", "address": "1 High Street"}


def variant_doc() -> dict:
    """The shipped policy with variants: businesses get no SMS and their friendly reminder later
    and only once; VIPs get a staff review instead of the automatic legal warning."""
    doc = policy_doc_without_house_hours()
    stages = {s["id"]: s for s in doc["escalation"]["stages"]}
    stages["friendly_reminder"]["variants"] = [
        {"segments": ["business"], "channels": ["email", "letter"], "days_past_due": 10, "max_attempts": 1}]
    doc["templates"]["legal_review"] = {"languages": ["en"], "audience": "internal"}
    stages["legal_warning"]["variants"] = [
        {"segments": ["vip"], "channels": ["review"], "template": "legal_review"}]
    return doc


@pytest.fixture(scope="module")
def policy():
    return compile_policy(variant_doc())


def trace_of(decision) -> dict:
    return {t.step: (t.outcome, t.detail) for t in decision.trace}


def test_no_sms_for_businesses_under_the_one_stage_id(policy):
    consumer = decide(make_account(due_date=days_ago(12), contact=MOBILE_ONLY), [], policy, NOW)
    business = decide(make_account(due_date=days_ago(12), contact=MOBILE_ONLY, debtor_type="business"), [],
                      policy, NOW)
    assert (consumer.action.stage, consumer.action.channel) == ("friendly_reminder", "sms")
    assert (business.action.stage, business.action.channel) == ("friendly_reminder", "letter")
    assert trace_of(business)["channel"] == (
        "letter", "letter from email, letter; earlier ones unreachable, opted out, failed or not preferred")
    assert trace_of(business)["stage friendly_reminder"] == ("selected", "next stage; variant 1 (segments business)")
    assert trace_of(consumer)["stage friendly_reminder"] == ("selected", "next stage")


def test_a_variant_sets_its_own_days(policy):
    early = decide(make_account(due_date=days_ago(8), debtor_type="business"), [], policy, NOW)
    assert early.action is None
    assert trace_of(early)["stage friendly_reminder"] == (
        "not yet due", "needs 10 days past due; is 8; variant 1 (segments business)")
    due = decide(make_account(due_date=days_ago(10), debtor_type="business"), [], policy, NOW)
    assert (due.action.stage, due.action.attempt) == ("friendly_reminder", 1)


def test_attempts_count_under_the_stage_id_and_follow_the_variant(policy):
    first = [ev("contact_attempt", f"{days_ago(8)}T10:00:00Z", channel="email", outcome="sent",
                stage="friendly_reminder")]
    consumer = decide(make_account(due_date=days_ago(12)), first, policy, NOW)
    business = decide(make_account(due_date=days_ago(12), debtor_type="business"), first, policy, NOW)
    # consumers repeat after 7 days (max 2 attempts); the business variant allows one attempt
    assert (consumer.action.stage, consumer.action.attempt, consumer.action.reason) == (
        "friendly_reminder", 2, "repeat")
    assert business.action is None and business.stage == "friendly_reminder"
    assert trace_of(business)["stage friendly_reminder"][0] == "done"


def test_a_variant_names_its_own_template_and_channels(policy):
    history = [ev("contact_attempt", f"{days_ago(d)}T10:00:00Z", channel=ch, outcome="sent", stage=s)
               for d, s, ch in ((60, "friendly_reminder", "email"), (50, "firm_reminder", "email"),
                                (40, "personal_call", "call"), (30, "formal_notice", "letter"))]
    vip = decide(make_account(due_date=days_ago(70), tags=["vip"]), history, policy, NOW)
    other = decide(make_account(due_date=days_ago(70)), history, policy, NOW)
    assert (other.action.stage, other.action.channel, other.action.template) == (
        "legal_warning", "letter", "legal_warning")
    assert (vip.action.stage, vip.action.type, vip.action.channel, vip.action.template) == (
        "legal_warning", "legal_warning", "review", "legal_review")


def test_the_first_matching_variant_wins():
    doc = variant_doc()
    stage = doc["escalation"]["stages"][1]
    stage["variants"].insert(0, {"when": {"fact": "tags", "contains": "letters_only"}, "channels": ["letter"]})
    p = compile_policy(doc)
    d = decide(make_account(due_date=days_ago(12), debtor_type="business", tags=["letters_only"]), [], p, NOW)
    assert d.action.channel == "letter"
    assert trace_of(d)["stage friendly_reminder"] == ("selected", "next stage; variant 1 (its condition)")


def test_a_policy_without_variants_decides_as_before():
    plain = compile_policy(policy_doc_without_house_hours())
    assert not plain.has_variants
    acc = make_account(due_date=days_ago(12), contact=MOBILE_ONLY, debtor_type="business")
    assert decide(acc, [], plain, NOW).action.channel == "sms"


def test_batch_and_single_account_decisions_agree(policy):
    cases = []
    for i, (dpd, extra) in enumerate([(12, {}), (12, {"debtor_type": "business"}), (8, {"debtor_type": "business"}),
                                      (12, {"contact": MOBILE_ONLY}),
                                      (12, {"contact": MOBILE_ONLY, "debtor_type": "business"}),
                                      (70, {"tags": ["vip"]}), (70, {}), (-2, {"debtor_type": "business"})]):
        hist = [ev("contact_attempt", f"{days_ago(8)}T10:00:00Z", channel="email", outcome="sent",
                   stage="friendly_reminder")] if i % 2 else []
        cases.append((make_account(id=f"A{i}", due_date=days_ago(dpd), **extra), hist))
    assert_batch_agrees(policy, [a for a, _ in cases], [h for _, h in cases])


VARIANT_TEXT = """      variants:
        - segments: [business]
          channels: [email, letter]
"""


def _text_with(variant_lines: str) -> str:
    anchor = "      template: friendly_reminder\n"
    return shipped_with(anchor, anchor + variant_lines)


def test_the_shipped_policy_with_a_variant_is_valid():
    assert problems_of(_text_with(VARIANT_TEXT)) == []


@pytest.mark.parametrize("lines, fragment, col, message", [
    ("      variants:\n        - segments: [busines]\n          channels: [email]\n", "busines]", 22,
     "unknown segment 'busines'; did you mean 'business'?"),
    ("      variants:\n        - segments: [business]\n          channels: [email, fax]\n", "fax]", 29,
     "unknown channel 'fax'"),
    ("      variants:\n        - segments: [business]\n          channels: [letter]\n"
     "          template: {email: friendly_reminder}\n", "{email", 21,
     "stage 'friendly_reminder (variant 1)' has no template for channel 'letter'"),
    ("      variants:\n        - segments: [business]\n          channels: [email]\n"
     "          template: call_script\n", "call_script\n", 21,
     "would send template 'call_script', which is internal"),
    ("      variants:\n        - channels: [email]\n", "channels: [email]\n", 11,
     "needs one of the keys (segments, when); found none"),
    ("      variants:\n        - segments: [business, vip]\n          channels: [email]\n"
     "        - segments: [vip]\n          channels: [letter]\n", "[vip]\n", 21,
     "stage 'friendly_reminder' variant 2 never applies: variant 1 already takes every account of its segments"),
])
def test_variant_problems_are_located(lines, fragment, col, message):
    text = _text_with(lines)
    assert position(text, fragment, after="variants:")[1] == col     # the column, spelled out
    assert_located(text, fragment, message, after="variants:")


def test_a_replay_exports_the_template_the_variant_used(tmp_path):
    from datetime import date

    import yaml

    from arrears.engine.policy.load import load_policy
    from arrears.engine.replay import read_replay_csv, replay
    from arrears.engine.replay.export import contact_rows
    from tests.replay.replaykit import write_csv

    doc = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    doc["templates"]["friendly_reminder_consumer"] = {"languages": ["en"]}
    friendly = next(s for s in doc["escalation"]["stages"] if s["id"] == "friendly_reminder")
    friendly["variants"] = [{"segments": ["consumer"], "channels": ["email"], "template": "friendly_reminder_consumer"}]
    policy = load_policy(yaml.safe_dump(doc, sort_keys=False))
    lines = ["A1,consumer,GB-ENG,Europe/London,GBP,I1,2025-01-01,2025-01-31,500.00,,,,,",
             "B1,business,GB-ENG,Europe/London,GBP,I1,2025-01-01,2025-01-31,500.00,,,,,"]
    data = read_replay_csv(write_csv(tmp_path, lines))
    rows = contact_rows(replay(data, policy, date(2025, 1, 1), date(2025, 3, 1)))
    friendly_rows = {(r[0], r[5], r[-1]) for r in rows if r[3] == "friendly_reminder"}
    assert friendly_rows == {("A1", "email", "friendly_reminder_consumer"), ("B1", "email", "friendly_reminder")}


def test_a_variant_shares_the_stages_own_channels_where_it_can():
    doc = policy_doc_without_house_hours()
    friendly = next(s for s in doc["escalation"]["stages"] if s["id"] == "friendly_reminder")
    friendly["variants"] = [{"segments": ["business"], "channels": ["email", "letter"]},
                            {"segments": ["vip"], "channels": ["letter", "email"]}]
    stage = compile_policy(doc).stages[1]
    # "no SMS" adds no channel position; a different order of preference adds what it must
    assert stage.channels[:stage.listed] == ("email", "sms", "letter", "email")
    assert [stage.positions(v) for v in (0, 1, 2)] == [(0, 1, 2), (0, 2), (2, 3)]
    p = compile_policy(doc)
    vip = decide(make_account(due_date=days_ago(12), tags=["vip"]), [], p, NOW)
    assert (vip.action.channel, vip.action.template) == ("letter", "friendly_reminder")
    plain = decide(make_account(due_date=days_ago(12)), [], p, NOW)
    assert plain.action.channel == "email"
