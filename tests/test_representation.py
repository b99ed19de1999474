"""Represented debtors: each step goes to the representative, or becomes a staff review task; never to
the debtor, never lost. The shipped policy, real time zones, a fixed `now`."""
from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from arrears.engine import decide, load_policy
from arrears.engine.domain.errors import PolicyError
from arrears.plugins.compose import build_message
from arrears.policies import DEFAULT_POLICY
from tests import oracle
from tests.core_factories import NOW, ev, make_account, policy_doc_without_house_hours, without_house_hours

# The shipped policy without its house contact hours: the suite's NOW is a Sunday afternoon,
# when they contact no consumer (they have tests of their own: tests/test_contact_hours.py).
POLICY = load_policy(without_house_hours(DEFAULT_POLICY.read_text(encoding="utf-8")), filename="default.yaml")
SAID = "2026-11-10T09:00:00Z"
ANA = {"name": "Ana Law", "firm": "Law & Co", "email": "ana@law.example"}


def represented(representative=None, at=SAID):
    return ev("represented", at, **({"representative": representative} if representative else {}))


def policy_with(edit) -> object:
    doc = policy_doc_without_house_hours()
    edit(doc)
    return load_policy(yaml.safe_dump(doc), filename="edited.yaml")


def test_the_step_goes_to_the_representative_by_email_with_their_template():
    acc = make_account()
    d = decide(acc, [represented(ANA)], POLICY, NOW)
    a = d.action
    assert (a.stage, a.channel, a.template) == ("firm_reminder", "email", "representative_notice")
    assert a.recipient == {"role": "representative", "representative": ANA}
    assert not d.suppressions
    recipient = next(t for t in d.trace if t.step == "recipient")
    assert recipient.outcome == "representative" and "Ana Law (Law & Co)" in recipient.detail
    message = build_message(d, acc)
    assert message.recipient.email == "ana@law.example"
    assert message.recipient.address is None and message.recipient.phone is None   # not the debtor's
    assert message.context["representation"]["representative"]["name"] == "Ana Law"
    assert d.to_dict()["action"]["recipient"] == a.recipient


def test_the_debtors_own_addresses_are_never_used_only_the_representatives():
    # The debtor can be emailed; the representative only written to: the step goes by letter.
    acc = make_account(contact={"email": "debtor@example.com"})
    rep = {"name": "B. Counsel", "address": "2 Law Lane, London"}
    d = decide(acc, [represented(rep)], POLICY, NOW)
    assert d.action.channel == "letter" and d.action.recipient["representative"] == rep
    assert build_message(d, acc).recipient.address == "2 Law Lane, London"
    assert build_message(d, acc).recipient.email is None


@pytest.mark.parametrize("rep", [None, {"name": "No Details"}, {"name": "Phone Only", "phone": "+44 20 7946 0000"}])
def test_without_a_usable_contact_staff_get_a_review_task_and_the_account_is_not_lost(rep):
    acc = make_account()
    d = decide(acc, [represented(rep)], POLICY, NOW)
    a = d.action
    assert (a.channel, a.channel_kind, a.template) == ("review", "task", "representation_review")
    assert a.recipient["role"] == "review"
    step = next(t for t in d.trace if t.step == "recipient")
    assert step.outcome == "manual review" and "(email, letter)" in step.detail
    assert build_message(d, acc).recipient.email is None      # the task carries no debtor address
    assert not d.suppressions


def test_a_call_stage_calls_the_representative():
    acc = make_account(debtor_type="business", due_date="2026-10-19")
    rep = {"name": "Phone Only", "phone": "+44 20 7946 0000"}
    d = decide(acc, [represented(rep)], POLICY, NOW + timedelta(days=1))     # Monday
    assert (d.action.stage, d.action.channel) == ("personal_call", "call")
    assert build_message(d, acc).recipient.phone == "+44 20 7946 0000"


def test_a_stage_may_name_its_own_representative_template():
    def edit(doc):
        doc["templates"]["firm_to_counsel"] = {"languages": ["en"]}
        doc["escalation"]["stages"][2]["representative_template"] = "firm_to_counsel"
    d = decide(make_account(), [represented(ANA)], policy_with(edit), NOW)
    assert d.action.stage == "firm_reminder" and d.action.template == "firm_to_counsel"


def test_without_a_representation_section_a_represented_debtor_is_held_as_before():
    d = decide(make_account(), [represented(ANA)], policy_with(lambda doc: doc.pop("representation")), NOW)
    assert d.action is None and [s.rule for s in d.suppressions] == ["stop.represented"]


def test_when_representation_ends_the_debtor_is_contacted_again():
    d = decide(make_account(), [represented(ANA), ev("representation_ended", "2026-11-20T09:00:00Z")],
               POLICY, NOW)
    assert d.action.recipient is None and d.action.template == "firm_reminder"
    assert "recipient" not in d.to_dict()["action"]


@pytest.mark.parametrize("edit, message", [
    (lambda doc: doc["representation"].update(review_channel="email"), "needs a channel of kind 'task'"),
    (lambda doc: doc["representation"].update(review_channel="desk"), "unknown channel 'desk'"),
    (lambda doc: doc["representation"].update(template="to_counsel"), "unknown template 'to_counsel'"),
    (lambda doc: doc["escalation"]["stages"][0].update(representative_template="nope"), "unknown template 'nope'"),
    (lambda doc: doc["representation"].pop("review_template"), "review_template"),
])
def test_a_bad_representation_section_is_refused_with_its_position(edit, message):
    with pytest.raises(PolicyError) as info:
        policy_with(edit)
    assert any(message in p.message and p.line > 0 for p in info.value.problems), info.value.problems


@pytest.mark.parametrize("rep", [None, ANA, {"name": "Letters", "address": "2 Law Lane"},
                                 {"name": "Phone", "phone": "+44 20 7946 0000"}])
@pytest.mark.parametrize("debtor", [
    {},
    {"debtor_type": "business", "due_date": "2026-10-19"},
    {"jurisdiction": "US-NY", "timezone": "America/New_York", "currency": "USD"},
    {"jurisdiction": "AU-VIC", "timezone": "Australia/Melbourne", "currency": "AUD", "due_date": "2026-08-01"},
])
def test_no_action_over_two_weeks_reaches_the_debtor_by_the_independent_oracle(rep, debtor):
    acc = make_account(**debtor)
    history = [represented(rep), ev("contact_preference", SAID, wishes={"channels": ["sms"]})]
    doc = policy_doc_without_house_hours()
    acted = 0
    for hours in range(0, 14 * 24, 7):
        now = NOW + timedelta(hours=hours)
        d = decide(acc, history, POLICY, now)
        assert oracle.violations(acc, history, now, d, doc) == [], (now, d.action)
        acted += d.action is not None
    assert acted                 # routed to the representative or to staff: never silenced


def test_the_oracle_catches_a_message_to_a_represented_debtor_or_outside_their_wishes():
    acc, doc = make_account(), policy_doc_without_house_hours()
    direct = decide(acc, [], POLICY, NOW)              # an email to the debtor, as if not represented
    assert oracle.violations(acc, [represented(ANA)], NOW, direct, doc) == [
        f"stop.represented: email not addressed to the representative {ANA}"]
    wishes = [ev("contact_preference", SAID, wishes={"channels": ["letter"]})]
    assert oracle.violations(acc, wishes, NOW, direct, doc) == [
        "debtor.wishes: email, not among the wished channels ['letter']"]


def test_the_shipped_templates_address_the_representative_and_brief_staff():
    from arrears.plugins.rendering import Renderer
    acc = make_account()
    to_counsel = Renderer().render(build_message(decide(acc, [represented(ANA)], POLICY, NOW), acc))
    assert to_counsel.subject.startswith("Your client's account A1")
    assert "Dear Ana Law," in to_counsel.body and "debtor@example.com" not in to_counsel.body
    task = Renderer().render(build_message(decide(acc, [represented({"name": "Bob"})], POLICY, NOW), acc))
    assert "represented by Bob" in task.body and "Do not contact the debtor" in task.body


def test_an_internal_template_for_the_representative_is_refused():
    def edit(doc):
        doc["representation"]["template"] = "call_script"
    with pytest.raises(PolicyError) as info:
        policy_with(edit)
    assert any("template 'call_script' is internal" in p.message for p in info.value.problems)
