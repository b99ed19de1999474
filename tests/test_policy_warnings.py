"""Policy warnings (engine/policy/warning.py, warnrules.py): each rule with a policy that triggers
it and one that does not, and silencing. The CLI and the API are in test_policy_warnings_cli.py."""
from __future__ import annotations

from datetime import datetime, timezone

from arrears.engine.decisions.core import decide
from arrears.engine.domain.model import Account
from arrears.engine.policy.warning import RULES, unsilenced
from arrears.engine.policy.warnrules import EventRef, policy_warnings
from tests.policyedits import (
    NO_SMS_FOR_BUSINESS,
    RENAMED,
    SMS_ONLY_NOTICE,
    SOURCE,
    VIP_GRACE_20,
    edited,
    line_of,
    loaded,
)


def warnings_of(text, **kw):
    policy, doc = loaded(text)
    return policy_warnings(policy, doc, **kw)


def rules(found):
    return [w.rule for w in found]


def test_the_shipped_policy_carries_no_warning():
    policy, _ = loaded(SOURCE)
    assert warnings_of(SOURCE, against=policy, portfolio={
        "accounts_by_stage": {"friendly_reminder": 3}, "currencies": ["EUR"],
        "contact_names": [("friendly_reminder", "email", 5), ("payment_thanks", "sms", 1)]}) == []


# -- W-stage-channels-unavailable ------------------------------------------------------------------------
def test_a_required_stage_whose_only_channel_is_closed_to_businesses():
    text = edited(SMS_ONLY_NOTICE, NO_SMS_FOR_BUSINESS)
    [w] = [w for w in warnings_of(text) if w.rule == "W-stage-channels-unavailable"]
    assert (w.subject, w.path) == ("formal_notice", "/escalation/stages/4/channels")
    assert text.splitlines()[w.line - 1][w.col - 1:] == "[sms]"
    assert line_of(text, "id: formal_notice") < w.line < line_of(text, "template: formal_notice")
    assert ("business debtors everywhere (sms: the house contact hours 'house.no-sms-for-business'"
            in w.message)
    # and in New York City, consumers without written consent to SMS (profile us-nyc)
    assert "consumer debtors under profile us-nyc (US-NY-NYC)" in w.message


def test_a_letter_beside_it_or_the_house_hours_alone_do_not_warn():
    sms_and_letter = ("      channels: [letter, email]\n      template: formal_notice",
                      "      channels: [sms, letter]\n      template: formal_notice")
    assert warnings_of(edited(sms_and_letter, NO_SMS_FOR_BUSINESS)) == []
    assert warnings_of(edited(NO_SMS_FOR_BUSINESS)) == []


def test_a_profile_that_needs_consent_is_named_with_its_jurisdiction():
    # us-nyc: email and sms only with the consumer's written consent.
    text = edited(("      channels: [letter, email]\n      template: formal_notice",
                   "      channels: [email]\n      template: formal_notice"))
    [w] = [w for w in warnings_of(text) if w.rule == "W-stage-channels-unavailable"]
    assert "consumer debtors under profile us-nyc (US-NY-NYC)" in w.message
    assert "business" not in w.message.split(":")[0]


# -- W-stages-same-day -------------------------------------------------------------------------------------
def test_grace_that_makes_two_stages_fall_due_together():
    text = edited(VIP_GRACE_20)
    [w] = [w for w in warnings_of(text) if w.rule == "W-stages-same-day"]
    assert w.subject == "friendly_reminder" and w.path == "/escalation/stages/1/days_past_due"
    assert "segment 'vip' (grace 20 days): day 21 with 'firm_reminder'" in w.message
    assert "W-stages-same-day" not in rules(warnings_of(SOURCE))


def test_the_warning_is_true_a_vip_first_contact_on_day_21_skips_the_friendly_reminder():
    policy, _ = loaded(edited(VIP_GRACE_20))
    account = Account.from_dict({"id": "A", "currency": "EUR", "debtor_type": "consumer", "tags": ["vip"],
                                 "timezone": "Europe/London", "contact": {"email": "a@example.com"},
                                 "invoices": [{"id": "I", "amount": "900.00", "due_date": "2026-11-03"}]})
    d = decide(account, [], policy, datetime(2026, 11, 24, 10, tzinfo=timezone.utc))
    assert d.stage == "firm_reminder"


# -- W-money-all-currencies --------------------------------------------------------------------------------
TWO_CURRENCIES = ("  consumer:\n    description: Private individuals.\n",
                  ("  sterling:\n    when: {fact: currency, eq: GBP}\n"
                   "  dollars:\n    when: {fact: currency, in: [USD]}\n"
                   "  consumer:\n    description: Private individuals.\n"))


def test_money_thresholds_in_a_policy_that_names_two_currencies():
    text = edited(TWO_CURRENCIES)
    found = [w for w in warnings_of(text) if w.rule == "W-money-all-currencies"]
    where = {w.path for w in found}
    assert "/segments/small_balance/when/lt" in where
    assert "/incentives/settlement/floor" in where and "/fees/late_fee/fixed_by_amount" in where
    assert all("EUR" not in w.message and "GBP, USD" in w.message for w in found)
    small = next(w for w in found if w.path == "/segments/small_balance/when/lt")
    assert small.line == line_of(text, 'when: {fact: balance, lt: "50.00"}')


def test_a_threshold_tied_to_a_currency_does_not_warn():
    pinned = '    when: {all: [{fact: currency, eq: GBP}, {fact: balance, lt: "50.00"}]}'
    text = edited(TWO_CURRENCIES, ('    when: {fact: balance, lt: "50.00"}', pinned))
    where = {w.path for w in warnings_of(text) if w.rule == "W-money-all-currencies"}
    assert not any(p.startswith("/segments/small_balance") for p in where)
    assert "/escalation/stages/6/when/gte" in where


def test_the_stores_currencies_count_and_one_currency_does_not():
    assert "W-money-all-currencies" in rules(warnings_of(SOURCE, portfolio={"currencies": ["EUR", "GBP"]}))
    assert "W-money-all-currencies" not in rules(warnings_of(SOURCE, portfolio={"currencies": ["EUR"]}))


# -- W-stage-ids-changed -----------------------------------------------------------------------------------
def test_a_renamed_stage_with_the_accounts_it_holds_and_the_mapping_to_add():
    active, _ = loaded(SOURCE)
    text = edited(RENAMED)
    [w] = warnings_of(text, against=active, portfolio={"accounts_by_stage": {"friendly_reminder": 12}})
    assert w.rule == "W-stage-ids-changed" and w.line == line_of(text, "id: gentle_reminder")
    assert "12 accounts in the store" in w.message
    assert "stage_renames: {friendly_reminder: gentle_reminder}" in w.message


def test_the_mapping_answers_the_warning_and_an_unchanged_policy_has_none():
    active, _ = loaded(SOURCE)
    mapped = edited(RENAMED) + "\nstage_renames: {friendly_reminder: gentle_reminder}\n"
    assert warnings_of(mapped, against=active) == []
    assert warnings_of(SOURCE, against=active) == []


def test_removed_and_added_stages():
    active, _ = loaded(SOURCE)
    courtesy = "      description: Courtesy reminder three days before the due date.\n"
    text = edited((courtesy + "      days_past_due: -3\n", courtesy + "      days_past_due: -5\n"),
                  ("    - id: pre_due_reminder\n", "    - id: early_reminder\n"),
                  ("    - id: write_off_review\n", "    - id: write_off\n"),
                  ("      days_past_due: 180\n", "      days_past_due: 200\n"),
                  ("      action: write_off\n", "      action: notice\n"))
    found = [w for w in warnings_of(text, against=active) if w.rule == "W-stage-ids-changed"]
    texts = {w.subject: w.message for w in found}
    assert "looks renamed to 'early_reminder'" in texts["pre_due_reminder"]      # same place in the ladder
    assert "'write_off_review' of the active policy is removed" in texts["write_off_review"] \
        or "looks renamed to 'write_off'" in texts["write_off_review"]
    assert "accounts part-way through" in texts["pre_due_reminder"]              # no store: no count


def test_a_mapping_must_name_a_stage_and_an_id_the_policy_no_longer_has():
    import pytest

    from arrears.engine.domain.errors import PolicyError
    text = edited(RENAMED) + ("\nstage_renames: {friendly_reminder: gentle_remnder, "
                              "firm_reminder: gentle_reminder}\n")
    with pytest.raises(PolicyError) as exc:
        loaded(text)
    messages = [p.message for p in exc.value.problems]
    assert "unknown stage 'gentle_remnder'; did you mean 'gentle_reminder'?" in messages
    assert any(m.startswith("stage 'firm_reminder' is still a stage of this policy") for m in messages)


# -- W-event-unknown-stage / -channel ----------------------------------------------------------------------
def test_test_events_naming_an_unknown_stage_or_channel_are_located_at_the_event():
    events = [EventRef("friendly_reminder", "email", "t_test.yaml", 7, 9),
              EventRef("old_reminder", "email", "t_test.yaml", 12, 9),
              EventRef("firm_reminder", "whatsapp", "t_test.yaml", 15, 9)]
    found = warnings_of(SOURCE, events=events)
    assert [(w.rule, w.file, w.line, w.subject) for w in found] == [
        ("W-event-unknown-stage", "t_test.yaml", 12, "old_reminder"),
        ("W-event-unknown-channel", "t_test.yaml", 15, "whatsapp")]


def test_the_stores_contact_events_are_counted_and_a_renamed_id_is_known():
    portfolio = {"contact_names": [("ghost_stage", "email", 4), ("ghost_stage", "sms", 1),
                                   ("friendly_reminder", "email", 9)]}
    [w] = warnings_of(SOURCE, portfolio=portfolio)
    assert w.rule == "W-event-unknown-stage" and "5 contact events in the store" in w.message
    mapped = edited(RENAMED) + "\nstage_renames: {friendly_reminder: gentle_reminder}\n"
    assert warnings_of(mapped, portfolio={"contact_names": [("friendly_reminder", "email", 9)]}) == []


# -- silencing -------------------------------------------------------------------------------------------
SILENCE = """
silence:
  - warning: W-stages-same-day
    at: friendly_reminder
    reason: VIPs get one firm reminder, on purpose
"""


def test_a_silenced_warning_is_still_listed_with_its_reason():
    [w] = warnings_of(edited(VIP_GRACE_20) + SILENCE)
    assert w.silenced == "VIPs get one firm reminder, on purpose" and unsilenced([w]) == []
    assert w.to_dict()["silenced"] is True and w.to_dict()["reason"] == w.silenced
    assert str(w).endswith("[silenced: VIPs get one firm reminder, on purpose]")


def test_a_silence_by_pointer_covers_what_is_below_it_and_another_place_does_not():
    by_pointer = SILENCE.replace("at: friendly_reminder", "at: /escalation/stages/1")
    assert unsilenced(warnings_of(edited(VIP_GRACE_20) + by_pointer)) == []
    elsewhere = SILENCE.replace("at: friendly_reminder", "at: firm_reminder")
    found = warnings_of(edited(VIP_GRACE_20) + elsewhere)
    assert sorted(rules(unsilenced(found))) == ["W-silence-unused", "W-stages-same-day"]


def test_a_silence_that_matches_nothing_is_a_warning_itself():
    text = SOURCE + SILENCE
    [w] = warnings_of(text)
    assert w.rule == "W-silence-unused" and w.line == line_of(text, "- warning: W-stages-same-day")


def test_a_silence_needs_a_reason(tmp_path):
    import pytest

    from arrears.engine.domain.errors import PolicyError
    with pytest.raises(PolicyError, match="missing required key 'reason'"):
        loaded(SOURCE + "\nsilence:\n  - {warning: W-stages-same-day}\n")


def test_a_silence_of_an_unknown_rule_is_an_error():
    import pytest

    from arrears.engine.domain.errors import PolicyError
    with pytest.raises(PolicyError, match="unknown warning 'W-stages-same-days'; did you mean"):
        loaded(SOURCE + "\nsilence:\n  - {warning: W-stages-same-days, reason: typo}\n")


def test_every_rule_is_documented_in_the_policy_guide():
    from pathlib import Path
    guide = (Path(__file__).resolve().parents[1] / "docs" / "policy-guide.md").read_text(encoding="utf-8")
    section = guide.split("## Warnings", 1)[1].split("\n## ", 1)[0]
    assert [r for r in RULES if f"`{r}`" not in section] == []
