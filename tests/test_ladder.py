"""The policy as a ladder (engine/policy/ladder.py) and `arrears ladder` (text and JSON)."""
from __future__ import annotations

import json
from pathlib import Path

from arrears.engine.cli import main
from arrears.engine.policy.ladder import ladder
from arrears.policies import DEFAULT_POLICY
from tests.policyedits import NO_SMS_FOR_BUSINESS, SOURCE, VIP_GRACE_20, edited, loaded


def _rungs(text, segment):
    policy, _ = loaded(text)
    [lad] = ladder(policy, segment, only=True)
    return lad, {r.stage: r for r in lad.rungs}


def test_grace_moves_the_post_due_stages_and_not_the_pre_due_one():
    lad, rungs = _rungs(SOURCE, "vip")
    assert lad.grace_days == 10
    days = tuple(rungs[s].day for s in ("pre_due_reminder", "friendly_reminder", "firm_reminder"))
    assert days == (-3, 11, 15)
    assert not any(r.collides_with or r.unreachable for r in lad.rungs)


def test_stages_that_collide_and_the_one_never_reached():
    _, rungs = _rungs(edited(VIP_GRACE_20), "vip")
    friendly, firm = rungs["friendly_reminder"], rungs["firm_reminder"]
    assert (friendly.day, firm.day) == (21, 21)
    assert friendly.collides_with == ("firm_reminder",) and friendly.skipped_by == ("firm_reminder",)
    assert "'firm_reminder' falls due the same day (day 21)" in friendly.unreachable
    assert firm.unreachable == "" and firm.skipped_by == ()
    _, everyone = _rungs(edited(VIP_GRACE_20), None)
    assert everyone["friendly_reminder"].day == 4 and not everyone["friendly_reminder"].collides_with


def test_a_stage_whose_condition_excludes_the_segment_is_not_skipped_by_its_replacement():
    # The plugin example: strategic customers get a review instead of the firm reminder, same day.
    from pathlib import Path

    from arrears.engine.policy.load import load_policy
    from arrears.engine.policy.warnrules import stages_same_day
    root = Path(__file__).resolve().parents[1] / "examples" / "arrears-teams-channel" / "policies"
    text = (root / "strategic.yaml").read_text(encoding="utf-8")
    text = text.replace("{fact: x_teams_strategic_customer, eq: true}", "{fact: tags, contains: strategic}")
    text = text.replace("{fact: x_teams_strategic_customer, exists: false}", "{fact: tags, contains: key}")
    policy = load_policy(text, filename="strategic.yaml")
    [lad] = ladder(policy, "strategic", only=True)
    firm = next(r for r in lad.rungs if r.stage == "firm_reminder")
    assert firm.unreachable == "its condition never holds for this segment" and firm.skipped_by == ()
    assert firm.collides_with == ("strategic_review",)


def test_segments_offers_fees_and_conditions():
    _, rungs = _rungs(SOURCE, "small_balance")
    assert rungs["formal_notice"].unreachable == "its condition never holds for this segment"
    business, brungs = _rungs(SOURCE, "business")
    assert business.debtor_types == ("business",) and not brungs["personal_call"].conditional
    assert {f["fee"]: f["applies"] for f in business.fees} == {"late_fee": "always", "interest": "always"}
    consumer, _ = _rungs(SOURCE, "consumer")
    assert {o["offer"]: o["applies"] for o in consumer.offers}["settlement"] == "always"
    policy, _ = loaded(SOURCE)
    assert [lad.segment for lad in ladder(policy)] == [None, *policy.segments]


def test_a_stage_no_channel_can_carry_for_a_segment():
    sms_notice = ("      channels: [letter, email]\n      template: formal_notice",
                  "      channels: [sms]\n      template: formal_notice")
    _, rungs = _rungs(edited(sms_notice, NO_SMS_FOR_BUSINESS), "business")
    [why] = rungs["formal_notice"].no_channel
    assert why.startswith("business debtors (everywhere): sms: the house contact hours")


def test_ladder_text(capsys):
    assert main(["ladder", str(DEFAULT_POLICY), "--segment", "vip"]) == 0
    out = capsys.readouterr().out
    assert "vip: grace 10 days; debtor types consumer, business" in out
    assert ("  day   11 (written 1)  friendly_reminder  reminder by email, sms, letter; 2 attempts, "
            "every 7 days") in out
    assert "[required, if its condition holds]" in out
    assert "\nbusiness:" not in out


def test_ladder_text_shows_a_collision(tmp_path, capsys):
    path = tmp_path / "vip.yaml"
    path.write_text(edited(VIP_GRACE_20), encoding="utf-8")
    assert main(["ladder", str(path), "--segment", "vip"]) == 0
    assert "never reached: 'firm_reminder' falls due the same day (day 21)" in capsys.readouterr().out


def test_ladder_json(capsys):
    assert main(["ladder", str(DEFAULT_POLICY), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["policy"]["name"] == "default"
    segments = {s["segment"]: s for s in data["segments"]}
    assert next(iter(segments)) == "(none)" and "business" in segments
    friendly = next(r for r in segments["business"]["rungs"] if r["stage"] == "friendly_reminder")
    assert (friendly["day"], friendly["days_past_due"]) == (6, 1)
    assert friendly["channels"] == ["email", "sms", "letter"]


def test_an_unknown_segment_is_a_usage_error(capsys):
    assert main(["ladder", str(DEFAULT_POLICY), "--segment", "vipp"]) == 2
    assert "no segment 'vipp'" in capsys.readouterr().err


def _brief_rungs(segment):
    from arrears.engine.policy.ladder import segment_ladder
    from arrears.engine.policy.load import load_policy
    brief = load_policy(Path(__file__).resolve().parents[1] / "policies" / "examples" / "collections-brief.yaml")
    lad = segment_ladder(brief, segment)
    return lad, {r.stage: r for r in lad.rungs}


def test_the_ladder_moves_with_shift_ladder_and_reads_each_segments_variant():
    lad, rungs = _brief_rungs("business")
    assert lad.grace_days == 7
    assert [(r.stage, r.day) for r in lad.rungs] == [
        ("pre_due_reminder", -3), ("friendly_reminder", 10), ("firm_reminder", 21), ("personal_call", 37),
        ("formal_notice", 52), ("legal_warning", 82), ("agency_referral", 107), ("write_off_review", 187)]
    assert rungs["friendly_reminder"].channels == ("email",)          # the business variant: no SMS
    assert rungs["legal_warning"].channels == ("letter",)             # not the VIP variant's review


def test_grace_that_adds_up_and_the_vip_variant():
    lad, rungs = _brief_rungs("vip")
    assert lad.grace_days == 14                                       # default 0 + vip 14 (adds up)
    assert rungs["friendly_reminder"].day == 17
    assert rungs["legal_warning"].channels == ("review",)
    _, consumer = _brief_rungs("consumer")
    assert consumer["friendly_reminder"].channels == ("email", "sms") and consumer["friendly_reminder"].day == 3
