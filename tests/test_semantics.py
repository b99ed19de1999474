"""Semantic rules: cross-references, ordering, fact operators and values, legal gates."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.engine.policy.semantics import check_semantics
from arrears.engine.policy.validation import check_policy_text
from arrears.engine.policy.yamlsrc import Document, load_document
from tests.profiles import examples

DEFAULT = Path(__file__).resolve().parents[1] / "policies" / "default.yaml"
TEXT = DEFAULT.read_text(encoding="utf-8")
DATA = load_document(TEXT, "default.yaml").data


def mutate(edits, anchor):
    """Apply (old, new) edits to default.yaml; return the text and where `anchor` now is
    (searched from the line of the first edit on)."""
    text = TEXT
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    at = text.index(anchor, text.rfind("\n", 0, text.index(edits[0][1])) + 1)
    return text, (text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1)


def semantic_problems(text):
    doc = load_document(text, "p.yaml")
    return check_semantics(doc.data, doc, "p.yaml")


def one(old, new, anchor, fragment):
    return pytest.param([(old, new)], anchor, fragment, id=fragment[:50])


CASES = [
    # aging buckets
    one("max_days: 30}", "max_days: 29}", "31, max_days: 60",
        "gap before bucket '31-60': day 30 is in no bucket ('1-30' ends at 29)"),
    one("min_days: 31", "min_days: 30", "30, max_days: 60", "bucket '31-60' starts at 30 but '1-30' ends at 30: buckets overlap"),
    one("min_days: 61", "min_days: 70", "70", "days 61-69 are in no bucket"),
    one("{name: current, max_days: 0}", "{name: current, min_days: -5, max_days: 0}", "-5",
        "the first bucket must not have min_days"),
    one('{name: "90+", min_days: 91}', '{name: "90+", min_days: 91, max_days: 999}', "999",
        "the last bucket must not have max_days"),
    one('{name: "31-60", min_days', '{name: "1-30", min_days', '"1-30", min_days: 31',
        "duplicate bucket name '1-30' (first on line 29)"),
    one('{name: "61-90", min_days: 61, max_days: 90}', '{name: "61-90", min_days: 61}', '{name: "61-90"',
        "bucket '61-90' needs max_days"),
    one('{name: "31-60", min_days: 31, max_days: 60}', '{name: "31-60", min_days: 61, max_days: 60}', "61, max",
        "bucket '31-60' starts at 61, after its max_days 60"),
    # segments
    one("{fact: tags, contains: vip}", "{segment: high_risk}", "high_risk}",
        "segment 'vip' uses 'high_risk', which is not defined above it"),
    one("when: {fact: debtor_type, eq: consumer}", "when: {segment: consumer}", "consumer}",
        "segment 'consumer' uses 'consumer', which is not defined above it"),
    one("{segment: business}", "{segment: busines}", "busines}", "unknown segment 'busines'; did you mean 'business'?"),
    one("segments: {vip: 10", "segments: {vipp: 10", "vipp", "unknown segment 'vipp'; did you mean 'vip'?"),
    one("segment: punctual", "segment: punctul", "punctul", "unknown segment 'punctul'; did you mean 'punctual'?"),
    one("- id: firm_reminder\n", "- id: firm_reminder\n      segments: [consumr]\n", "consumr",
        "unknown segment 'consumr'; did you mean 'consumer'?"),
    one("when: {segment: consumer}", "when: {segment: consumers}", "consumers", "unknown segment 'consumers'"),
    # stages
    one("id: firm_reminder", "id: friendly_reminder", "friendly_reminder\n      days_past_due: 15",
        "duplicate stage id 'friendly_reminder' (first on line"),
    one("days_past_due: 30", "days_past_due: 10", "10",
        "stage 'personal_call' (days_past_due 10) comes after 'firm_reminder' (15): stages must be in escalation order"),
    one("channels: [call, email]", "channels: [cal, email]", "cal,", "unknown channel 'cal'; did you mean 'call'?"),
    one("call: call_script", "call: call_scrip", "call_scrip", "unknown template 'call_scrip'; did you mean"),
    one("template: friendly_reminder", "template: friendly_remindr", "friendly_remindr",
        "unknown template 'friendly_remindr'; did you mean"),
    # a stage's templates per channel kind, and internal templates on written channels
    one("template: {call: call_script, written: firm_reminder}", "template: call_script", "call_script\n",
        "stage 'personal_call' would send template 'call_script', which is internal (audience: internal), "
        "to the debtor by channel 'email' (email); name a debtor template for it, e.g. template: "
        "{call: call_script, written: <a debtor template>}"),
    one("written: firm_reminder}", "written: write_off_review}", "write_off_review}",
        "stage 'personal_call' would send template 'write_off_review', which is internal"),
    one("written: firm_reminder}", "email: call_script}", "call_script}",
        "would send template 'call_script', which is internal (audience: internal), to the debtor by channel 'email'"),
    one("{call: call_script, written: firm_reminder}", "{call: call_script}", "{call",
        "stage 'personal_call' has no template for channel 'email' (email); add 'email' or 'written' under template"),
    one("written: firm_reminder}", "written: firm_reminder, sms: friendly_reminder}", "sms:",
        "stage 'personal_call' has no channel that would use the 'sms' template (its channel kinds: call, email)"),
    one("written: firm_reminder}", "written: firm_reminder, email: firm_reminder}", "written:",
        "has no channel that would use the 'written' template"),
    one("channels: [crm, review]\n      template: agency_referral", "channels: [crm, review, email]\n"
        "      template: agency_referral", "agency_referral\n",
        "stage 'agency_referral' would send template 'agency_referral', which is internal"),
    one("tone: formal\n      required: true", "tone: formal\n      required: false", "legal_warning\n      channels",
        "stage 'legal_warning' (legal_warning) needs an earlier stage with action 'formal_notice' and required: true"),
    one("action: formal_notice", "action: notice", "refer_to_agency",
        "stage 'agency_referral' (refer_to_agency) needs an earlier stage with action 'formal_notice'"),
    one("broken_resume_stage: firm_reminder", "broken_resume_stage: firm_remindr", "firm_remindr",
        "unknown stage 'firm_remindr'; did you mean 'firm_reminder'?"),
    one("resume_stage: formal_notice", "resume_stage: formal", "formal\n", "unknown stage 'formal'"),
    # condition leaves
    one('{fact: balance, lt: "50.00"}', '{fact: balance, contains: "50.00"}', "contains",
        "operator 'contains' does not apply to 'balance' (money); use one of: eq, ne, lt, lte, gt, gte, between, exists"),
    one('{fact: balance, lt: "50.00"}', '{fact: balance, lt: "fifty"}', '"fifty"',
        "fact 'balance' is money: expected a decimal amount such as \"50.00\", got 'fifty'"),
    one("window_days: 365, gte: 2}", "window_days: 365, gte: 2.5}", "2.5",
        "fact 'promises_broken' is int: expected a whole number, got 2.5"),
    one("{fact: debtor_type, eq: consumer}", '{fact: hardship, eq: "yes"}', '"yes"',
        "fact 'hardship' is bool: expected true or false, got 'yes'"),
    one("{fact: risk_score, gte: 0.7}", "{fact: risk_score, gte: high}", "high", "is number: expected a number"),
    one("in: [strategic, key]", "in: []", "[]", "'in' takes a non-empty list, got a list"),
    one("in: [strategic, key]", "in: strategic", "strategic}", "'in' takes a non-empty list, got 'strategic'"),
    one("in: [strategic, key]", "in: [strategic, 3]", "3]", "fact 'relationship_tier' is string: expected a string, got 3"),
    one("{fact: risk_score, gte: 0.7}", "{fact: risk_score, between: [0.9, 0.1]}", "[0.9",
        "'between' needs low <= high, got [0.9, 0.1]"),
    one("{fact: risk_score, gte: 0.7}", "{fact: risk_score, between: 0.5}", "0.5", "'between' takes a list [low, high]"),
    one("{fact: risk_score, gte: 0.7}", "{fact: risk_score, exists: 1}", "1}", "'exists' takes true or false, got 1"),
    one("{fact: risk_score, gte: 0.7}", "{fact: risk_score, window_days: 30, gte: 0.7}", "window_days",
        "fact 'risk_score' takes no 'window_days'"),
    one("{fact: promises_broken, window_days", "{fact: promises_broken, channel: sms, window_days", "channel",
        "fact 'promises_broken' takes no 'channel' (it takes: window_days)"),
    one('{fact: balance, gte: "100.00"}', '{fact: bucket, eq: "90-120"}', '"90-120"',
        "unknown aging bucket '90-120'"),
    one('{fact: balance, gte: "100.00"}', "{fact: last_stage, eq: formal_notise}", "formal_notise",
        "unknown stage id 'formal_notise'; did you mean 'formal_notice'?"),
    one("{fact: tags, contains: vip}", "{fact: reachable, contains: emial}", "emial",
        "unknown channel kind 'emial'; did you mean 'email'?"),
    one("{fact: tags, contains: vip}", "{fact: tagz, contains: vip}", "tagz", "unknown fact 'tagz'; did you mean 'tags'?"),
    # priority, incentives, fees
    pytest.param([("weight: 35", "weight: 0"), ("weight: 25", "weight: 0"), ("weight: 20", "weight: -1"),
                  ("weight: 10,", "weight: 0,")], "balance: {weight: 0",
                 "priority needs at least one factor with a positive weight", id="no positive weight"),
    one("percent: 2\n", "percent: 45\n", "45", "discount 45% is above the cap max_discount_percent 40"),
    one("discount_percent: 30", "discount_percent: 40.5", "40.5", "discount 40.5% is above the cap max_discount_percent 40"),
    one('{below: "10000.00"', '{below: "500.00"', '"500.00"', "fee tiers must ascend by 'below': 500.00 is not above 1000.00"),
    one('{amount: "100.00"}', '{below: "20000.00", amount: "100.00"}', '"20000.00"',
        "the last fee tier must not have 'below'"),
    one('{below: "10000.00", amount: "70.00"}', '{amount: "70.00"}', '{amount: "70.00"}',
        "only the last fee tier may omit 'below'"),
    # names
    one("Europe/London", "Europe/Londn", "Europe/Londn", "unknown time zone 'Europe/Londn'; did you mean 'Europe/London'?"),
    one("call_script: {languages: [en]", "call_script: {languages: [eng]", "eng",
        "language 'eng' is not a 2-letter ISO 639-1 code"),
    one("default_language: en", "default_language: EN", "EN", "language 'EN' is not a 2-letter"),
]


@pytest.mark.parametrize("edits, anchor, fragment", CASES)
def test_semantic_problem_is_located_and_readable(edits, anchor, fragment):
    text, (line, col) = mutate(edits, anchor)
    problems = semantic_problems(text)
    found = [p for p in problems if fragment in p.message]
    assert found, "\n".join(map(str, problems))
    assert (found[0].file, found[0].line, found[0].col) == ("p.yaml", line, col), "\n".join(map(str, problems))


def test_default_policy_has_no_semantic_problems():
    assert semantic_problems(TEXT) == []


def test_schema_message_wins_where_both_flag_the_same_spot():
    text, (line, col) = mutate([("in: [strategic, key]", "in: []")], "[]")
    _, problems = check_policy_text(text, "p.yaml")
    assert [(p.line, p.col, p.message) for p in problems] == [(line, col, "must not be empty")]


def test_semantics_run_alongside_schema_problems():
    text = TEXT.replace("days_past_due: 15", "days_past_due: abc").replace("{segment: business}", "{segment: biz}")
    _, problems = check_policy_text(text, "p.yaml")
    messages = [p.message for p in problems]
    assert "expected a whole number, got 'abc'" in messages
    assert "unknown segment 'biz'" in messages


@pytest.mark.parametrize("data", [None, [], "text", 3, {"aging": 1, "segments": [1], "escalation": {"stages": "x"}},
                                  {"segments": {"a": {"when": {"all": "x", "not": [], "fact": 3}}}},
                                  {"escalation": {"stages": [None, {"id": 1, "days_past_due": True}]}}])
def test_malformed_data_never_crashes(data):
    assert isinstance(check_semantics(data, Document(data, "x"), "x"), list)


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, path + (i,))


PATHS = [p for p in _paths(DATA) if p]
JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), JUNK), min_size=1, max_size=4))
def test_any_damage_to_the_default_policy_never_crashes(damage):
    data = copy.deepcopy(DATA)
    for path, junk in damage:
        node = data
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = junk
        except (KeyError, IndexError, TypeError):
            continue                       # an earlier edit removed this path
    problems = check_semantics(data, Document(data, "x"), "x")
    assert all(p.line >= 1 and p.col >= 1 for p in problems)


def test_a_stage_whose_channels_are_not_a_list_gets_one_problem_not_template_follow_ups():
    text = TEXT.replace("      channels: [call, email]\n", "      channels: 5\n", 1)
    _, problems = check_policy_text(text, "p.yaml")
    assert [p.message for p in problems] == ["expected a list, got 5"]
