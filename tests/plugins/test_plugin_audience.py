"""No internal template (a call script, a staff note) ever reaches a debtor in writing.

Over the shipped policy and over generated policies: validation refuses a written channel
(email, sms, letter) whose template is internal; every policy it accepts decides and renders
only debtor templates for written channels, whatever channel the guardrails leave.
"""
from __future__ import annotations

import copy
from datetime import timedelta

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from arrears.engine.decisions.core import decide
from arrears.engine.domain.model import WRITTEN_KINDS
from arrears.engine.policy.compiler import compile_policy
from arrears.engine.policy.load import load_policy
from arrears.engine.policy.profiles import load_profiles
from arrears.engine.policy.templates import INTERNAL, audience_of, template_for
from arrears.engine.policy.semantics import check_semantics
from arrears.engine.policy.yamlsrc import load_document
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.testing import plugin_manager
from tests.core_factories import NOW, POLICY_PATH, days_ago, default_policy_doc, ev, make_account
from tests.profiles import examples

SCRIPT_LINE = "Confirm you are speaking to the account holder"
DOC = default_policy_doc()
KINDS = {name: spec["kind"] for name, spec in DOC["channels"].items()}
PROFILES = load_profiles()
# One dispatcher for every example: its templates compile once.
DISPATCHER = Dispatcher(plugin_manager(), {"creditor": {"name": "Example Ltd"}})


def _written_internal(doc) -> list[tuple[str, str, str]]:
    """(stage, channel, template) for every written channel whose template is internal."""
    kinds = {name: spec["kind"] for name, spec in doc["channels"].items()}
    out = []
    for stage in doc["escalation"]["stages"]:
        for channel in stage["channels"]:
            tid = template_for(stage["template"], kinds[channel])
            if kinds[channel] in WRITTEN_KINDS and tid and audience_of(doc["templates"], tid) == INTERNAL:
                out.append((stage["id"], channel, tid))
    return out


def _render_written(policy, account, events, at):
    """The decision's rendered message if it goes out by a written channel, else None."""
    decision = decide(account, events, policy, at)
    if decision.action is None or decision.action.channel_kind not in WRITTEN_KINDS:
        return decision, None
    return decision, DISPATCHER.render(DISPATCHER.compose(decision, account))


def test_the_shipped_policy_names_a_debtor_template_for_every_written_channel():
    policy = load_policy(POLICY_PATH)
    assert _written_internal(DOC) == []
    stage = policy.stages[policy.stage_index("personal_call")]
    # The channels the policy lists (the compiler appends the representation review task after them).
    listed = stage.channels[:stage.listed]
    assert dict(zip(listed, stage.templates)) == {"call": "call_script", "email": "firm_reminder"}
    assert dict(zip(stage.channels, stage.templates))["review"] == "representation_review"
    for st_ in policy.stages:
        for channel, tid in zip(st_.channels, st_.templates):
            if policy.channels[channel] in WRITTEN_KINDS:
                assert audience_of(DOC["templates"], tid) != INTERNAL, (st_.id, channel, tid)


def test_a_blocked_call_emails_the_firm_reminder_never_the_script():
    """The case of issue 11: the call is impossible (no phone), the email carries no script."""
    policy = load_policy(POLICY_PATH)
    account = make_account(amount="1200.00", due_date="2026-10-15",
                           contact={"email": "debtor@example.com", "address": "1 High Street"})
    history = [ev("contact_attempt", "2026-10-20T10:00:00Z", channel="email", stage="friendly_reminder",
                  outcome="sent"),
               ev("contact_attempt", "2026-11-01T10:00:00Z", channel="email", stage="firm_reminder",
                  outcome="sent"),
               ev("contact_attempt", "2026-11-08T10:00:00Z", channel="email", stage="firm_reminder",
                  outcome="sent")]
    decision, message = _render_written(policy, account, history, NOW)
    assert (decision.action.stage, decision.action.channel, decision.action.template) == \
        ("personal_call", "email", "firm_reminder")
    assert SCRIPT_LINE not in message.body and "Confirm you are speaking" not in (message.subject or "")
    assert "remains unpaid" in message.body


# -- generated policies -------------------------------------------------------------------------
TEMPLATE_IDS = sorted(DOC["templates"])
# Mostly debtor templates, so that many drawn policies are accepted and their messages rendered.
TEMPLATES = st.one_of(st.sampled_from([t for t in TEMPLATE_IDS if "audience" not in DOC["templates"][t]]),
                      st.sampled_from(TEMPLATE_IDS))
STAGES = [s["id"] for s in DOC["escalation"]["stages"]]


@st.composite
def policies(draw):
    """The shipped policy with one stage's channels and templates, and audiences, redrawn."""
    doc = copy.deepcopy(DOC)
    stage = doc["escalation"]["stages"][draw(st.sampled_from([1, 2, 3, 4]))]
    stage["channels"] = draw(st.lists(st.sampled_from(["email", "sms", "letter", "call"]), min_size=1,
                                      max_size=4, unique=True))
    kinds = sorted({KINDS[c] for c in stage["channels"]})
    written = [k for k in kinds if k in WRITTEN_KINDS]
    # One id for all, or a complete mapping: each spoken kind its own key, the written kinds
    # either one `written` key or a key each (gaps and spare keys have tests of their own).
    if draw(st.booleans()):
        stage["template"] = draw(TEMPLATES)
    else:
        keys = [k for k in kinds if k not in WRITTEN_KINDS]
        keys += ["written"] if written and draw(st.booleans()) else written
        stage["template"] = {k: draw(TEMPLATES) for k in keys}
    for tid in draw(st.lists(st.sampled_from(TEMPLATE_IDS), max_size=2, unique=True)):
        doc["templates"][tid]["audience"] = draw(st.sampled_from(["debtor", "internal"]))
    return doc, stage["id"]


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=policies(), reachable=st.sets(st.sampled_from(["email", "phone", "mobile", "address"])),
       days=st.sampled_from([16, 31, 46]))
def test_no_generated_policy_renders_an_internal_template_in_writing(case, reachable, days):
    doc, stage_id = case
    # Drawn within the schema, so the semantic checks (which locate each problem in the text)
    # are the ones that can refuse it; the full validator is 30 times slower per example.
    parsed = load_document(yaml.safe_dump(doc, sort_keys=False), "gen.yaml")
    problems = check_semantics(parsed.data, parsed, "gen.yaml")
    breaches = _written_internal(doc)
    if breaches:   # refused, each breach named at the template's position
        internal = [p for p in problems if "which is internal" in p.message]
        assert internal, problems
        assert all(p.file == "gen.yaml" and p.line > 0 and p.col > 0 for p in internal)
        event("refused: internal template in writing")
        return
    assert not [p for p in problems if "which is internal" in p.message]
    if problems:
        event("refused: other")
        return      # refused for another reason (a kind without a template, an unused key)
    policy = compile_policy(parsed.data, profiles=PROFILES)
    contact = {"email": "d@example.com", "phone": "+441234567890", "mobile": "+447700900000",
               "address": "1 High Street"}
    due = days_ago(days)
    account = make_account(amount="900.00", due_date=due.isoformat(),
                           contact={k: v for k, v in contact.items() if k in reachable})
    # The earlier post-due stages contacted once each, a day apart after the due date, so
    # the ladder can reach the stage under test.
    earlier = [s for s in STAGES[:STAGES.index(stage_id)] if s != "pre_due_reminder"]
    history = [ev("contact_attempt", f"{due + timedelta(days=1 + i)}T10:00:00Z", channel="email", stage=s,
                  outcome="sent") for i, s in enumerate(earlier)]
    decision, message = _render_written(policy, account, history, NOW)
    if message is None:
        event("no written contact")
        return
    event(f"rendered {decision.action.template} by {decision.action.channel_kind}")
    assert audience_of(doc["templates"], decision.action.template) != INTERNAL
    assert SCRIPT_LINE not in message.body
