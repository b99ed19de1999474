"""The decision trace: every step of one account's evaluation, in plain words.

Built from the batch's columns after the fact, so the vectorised core stays free of
per-account string work; `arrears explain` prints it.
"""
from __future__ import annotations

import numpy as np

from arrears.engine.decisions import offers
from arrears.engine.decisions.escalation import REASONS
from arrears.engine.decisions.messages import describe as describe_trigger
from arrears.engine.decisions.priority import describe_inputs
from arrears.engine.domain.batch import day_to_date
from arrears.engine.domain.clock import FAR, NEVER, from_epoch
from arrears.engine.domain.decision import TraceStep, rfc3339
from arrears.engine.domain.money import from_minor
from arrears.engine.policy.conditions import TRUE


def _amount(db, minor, row) -> str:
    cur = db.facts.b.currency[row]
    return f"{from_minor(int(minor), cur)} {cur}"


def _date(day) -> str:
    return day_to_date(int(day)).isoformat()


def _facts(db, row):
    f = db.facts
    tz = f.tz_names[f.b.tz[row]]
    detail = (f"balance {_amount(db, f.balance[row], row)} to collect (total "
              f"{_amount(db, f.total_balance[row], row)}, disputed "
              f"{_amount(db, f.disputed_amount[row], row)}); local date {_date(f.today[row])} "
              f"in {tz}")
    if f.total_balance[row] > 0:
        detail += (f"; oldest unpaid due date {_date(f.oldest_due[row])}, "
                   f"{int(f.days_past_due[row])} days past due")
    else:
        detail += "; nothing is owed"
    return TraceStep("facts", "owes" if f.owes[row] else "nothing to collect", detail)


def variant_words(stage, variant: int) -> str:
    """Which form of a stage an account gets, in words ('' for the stage's own form)."""
    if not variant:
        return ""
    v = stage.variants[variant - 1]
    said = [f"segments {', '.join(v.segments)}"] if v.segments else []
    if v.when is not TRUE:
        said.append("its condition")
    return f"variant {variant} ({' and '.join(said)})"


def _stages(db, row):
    f, st, p = db.facts, db.steps, db.policy
    out = []
    dpd = int(f.days_past_due[row])
    for s in p.stages:
        k = s.index
        attempts = int(f.progress["attempts"][row, k])
        variant = 0 if st.variants is None else int(st.variants[row, k])
        days = s.form(variant).days_past_due
        if k == st.step[row]:
            outcome = "selected"
            detail = REASONS[st.reason[row]]
        elif attempts and k <= st.last[row]:
            outcome, detail = "done", f"{attempts} attempt(s) in this episode"
        elif st.blocked is not None and st.blocked[row, k]:
            outcome, detail = "blocked", "the debt is time-barred: this step may not be taken"
        elif not st.applicable[row, k]:
            why = [s.when.explain(f, row)] if s.when.__class__.__name__ != "All" or \
                getattr(s.when, "parts", None) else []
            if s.segments:
                why.append("segments " + ", ".join(s.segments))
            outcome, detail = "not applicable", "; ".join(why) or "conditions not met"
        elif not f.owes[row]:
            outcome, detail = "not applicable", "nothing to collect"
        elif days <= 0 < dpd:
            outcome, detail = "expired", "a pre-due stage is due only until the due date"
        elif dpd < st.threshold[row, k]:
            thr = int(st.threshold[row, k])
            grace = ""
            if thr != days:
                how = "moves it from" if p.grace.shift_ladder else "holds it back from"
                grace = f" (grace {int(st.grace_days[row])} days {how} {days})"
            outcome, detail = "not yet due", f"needs {thr} days past due{grace}; is {dpd}"
        elif k < st.step[row] or k < st.last[row]:
            outcome, detail = "skipped", "passed over by a later stage (not required)"
        else:
            outcome, detail = "eligible", "waits for the current stage to finish"
        if variant and outcome != "not applicable":
            detail = f"{detail}; {variant_words(s, variant)}"
        out.append(TraceStep(f"stage {s.id}", outcome, detail))
    return out


def _escalation(db, row):
    f, st, p = db.facts, db.steps, db.policy
    step = st.step[row]
    if step < 0:
        return TraceStep("escalation", "no step", "no stage is due and no repeat is pending")
    stage = p.actions[step]
    if step >= len(p.stages):
        m = db.messages
        trigger = describe_trigger(p, int(m.message[row]), int(m.trigger[row]))
        return TraceStep("event message", "step " + stage.id,
                         f"{REASONS[st.reason[row]]}: {trigger}; escalation waits for the next evaluation")
    detail = f"{stage.id} attempt {int(st.attempt[row])} ({REASONS[st.reason[row]]})"
    if st.variant[row]:
        detail += f"; {variant_words(stage, int(st.variant[row]))}"
    if st.ready_day[row] > f.today[row]:
        detail += f"; spacing: not before {_date(st.ready_day[row])}"
    return TraceStep("escalation", "step " + stage.id, detail)


def _holds(db, row):
    out = []
    for h in db.holds:
        if h.active[row]:
            until = h.until[row]
            extra = f" until {rfc3339(from_epoch(until))}" if until < FAR else ""
            out.append(TraceStep(f"check {h.rule}", "held", h.reason(row) + extra))
        else:
            out.append(TraceStep(f"check {h.rule}", "clear"))
    return out


def _promise(db, row) -> list:
    """The latest promise to pay, as an auditor asks about it: what was promised and when, by
    when it had to be paid (the promised day, plus tolerance, capped by the longest promise the
    policy accepts), what was paid against it, and whether it is open, kept or broken."""
    f = db.facts
    pr = f.promises
    mine = np.flatnonzero(pr["acct"] == row)
    if not mine.size:
        return []
    k = int(mine[-1])
    ev = int(pr["rows"][k])
    made, deadline = int(f.b.ev_at[ev]), int(pr["deadline"][k])
    acct = np.array([row])
    paid = int(f.paid_between(acct, np.array([made - 1]), np.array([min(deadline, db.now) - 1]))[0])
    promised = int(f.b.ev_amount[ev])
    outcome = "broken" if pr["broken"][k] else "kept" if paid >= promised else "open"
    last_day = int(f.local_day_of(acct, np.array([deadline - 1]))[0])
    detail = (f"{_amount(db, promised, row)} promised on {_date(f.local_day_of(acct, np.array([made]))[0])} "
              f"for {_date(f.b.ev_until[ev])}; due by the end of {_date(last_day)} (tolerance "
              f"{f.p.pauses.promise_tolerance_days} days, at most {f.p.pauses.promise_max_days} days "
              f"after the promise); {_amount(db, paid, row)} paid against it")
    return [TraceStep("promise to pay", outcome, detail)]


def _channel(db, row):
    st, p, g = db.steps, db.policy, db.guarded
    if st.step[row] < 0:
        return []
    stage = p.actions[st.step[row]]
    # the variant's channels, not the review task appended for representation
    listed = [stage.channels[pos] for pos in stage.positions(int(st.variant[row]))]
    if g.channel[row] < 0:
        return [TraceStep("channel", "none permitted", ", ".join(listed))] + _recipient(db, row, listed)
    chosen = stage.channels[g.channel[row]]
    detail = f"{chosen} from {', '.join(listed)}"
    if g.review is not None and g.review[row]:
        detail = f"{chosen}: the manual-review task for a represented debtor"
    elif g.moved[row]:
        detail += "; the preferred channel is not permitted now (see the checks above)"
    elif listed and chosen != listed[0]:
        detail += "; earlier ones unreachable, opted out, failed or not preferred"
    return ([TraceStep("channel", chosen, detail)] + _recipient(db, row, listed)
            + _assignee(db, row, stage, chosen))


def _assignee(db, row, stage, chosen) -> list:
    """For a stage assigned to the account manager: who works the step, or why the general queue."""
    if stage.assign_to != "account_manager":
        return []
    manager = db.facts.b.manager[row]
    kind = db.policy.channels[chosen]
    if not manager:
        return [TraceStep("assignee", "general queue",
                          "the stage goes to the account manager; the account has none")]
    if kind not in ("call", "task"):
        return [TraceStep("assignee", "none", f"{chosen} is a {kind} channel: no one works it by hand")]
    return [TraceStep("assignee", manager, "the stage goes to the account manager")]


def _recipient(db, row, listed) -> list:
    """For a represented debtor whom the policy routes: to whom the step goes, and why."""
    f, rep = db.facts, db.policy.representation
    if rep is None or not f.representative["active"][row]:
        return []
    who = f.representative["who"][row]
    name = "no representative named" if who is None else \
        who.name + (f" ({who.firm})" if who.firm else "")
    if db.guarded.review is not None and db.guarded.review[row]:
        reach = "" if who is None else ", ".join(sorted(who.reachable_kinds())) or "none"
        return [TraceStep("recipient", "manual review",
                          f"the debtor is represented ({name}) and no channel of the step "
                          f"({', '.join(listed)}) reaches the representative (they can be reached by: "
                          f"{reach or 'nothing recorded'}): a task for staff on {rep.review_channel}")]
    return [TraceStep("recipient", "representative",
                      f"{name}: the debtor is represented; the debtor's own addresses are not used")]


def _guardrails(db, row):
    """One line per jurisdiction rule that applies to the account.

    A rule kind may word its own line (its `report` hook: a state in force, an entitlement,
    a time bar); otherwise the line says how the rule timed the step.
    """
    g, out = db.guarded, []
    for rule, mask in db.rules:
        if not mask[row]:
            continue
        name = f"check {rule.id}"
        own = rule.report(db.facts, row)
        if own is not None:
            out.append(TraceStep(name, *own))
            continue
        until = g.rule_until.get(rule.id, g.first_until.get(rule.id))
        t = None if until is None else int(until[row])
        first = g.first_until.get(rule.id)
        tf = None if first is None else int(first[row])
        words = rule.describe_for(db.facts, row)
        if t is not None and (t >= FAR or (g.blocked[row] and t > db.now and t != NEVER)):
            until = "" if t >= FAR else f"; until {rfc3339(from_epoch(t))}"
            out.append(TraceStep(name, "blocked", words + until))
        elif t is not None and t > db.now and t != NEVER:
            out.append(TraceStep(name, "deferred", f"{words}; until {rfc3339(from_epoch(t))}"))
        elif tf is not None and tf > db.now and tf != NEVER and g.moved[row]:
            out.append(TraceStep(name, "moved channel", words))
        else:
            out.append(TraceStep(name, "clear", words + f" [{rule.source}]"))
    return out


def _offer_refusal(db, row, window_ok: bool, window: str, when) -> str:
    f, o = db.facts, db.offers
    if not f.owes[row]:
        return "nothing to collect"
    if o.excluded[row]:
        return "never offered to disputed, bankrupt, deceased, ceased, represented or breathing-space accounts"
    if not window_ok:
        return window
    if not when.evaluate(f)[row]:
        return "eligibility not met: " + when.explain(f, row)
    return "no discount to give"


def _offers(db, row):
    o, p, f, out = db.offers, db.policy, db.facts, []
    dpd = int(f.days_past_due[row])
    early = p.incentives.early
    if early:
        w, after = early["window_days"], early["days_after_due"]
        if o.early[row]:
            by = (f"by the due date {_date(f.oldest_due[row])}" if not after else
                  f"by {_date(f.oldest_due[row] + after)}, {after} days after the due date "
                  f"{_date(f.oldest_due[row])}")
            detail = f"{early['percent']}% off ({_amount(db, o.early_amount[row], row)}) if paid in full {by}"
        else:
            until = "until it" if not after else f"until {after} days after it"
            detail = _offer_refusal(db, row, -w <= dpd <= after,
                                    f"only from {w} days before the due date {until}; is {dpd}",
                                    early["when"])
        out.append(TraceStep("offer early_payment_discount",
                             "offered" if o.early[row] else "not offered", detail))
    settle = p.incentives.settlement
    if settle:
        if o.settle[row]:
            detail = (f"settle for {_amount(db, o.settle_amount[row], row)}, saving "
                      f"{_amount(db, o.settle_discount[row], row)}"
                      + ("; needs approval: " + "; ".join(offers.settlement_approval(db, row))
                         if o.settle_approval[row] else ""))
        else:
            m = settle["min_days_past_due"]
            detail = _offer_refusal(db, row, dpd >= m, f"needs {m} days past due; is {dpd}",
                                    settle["when"])
        out.append(TraceStep("offer settlement", "offered" if o.settle[row] else "not offered",
                             detail))
    if o.loyal[row]:
        out.append(TraceStep("loyalty", "applied", f"segment {p.incentives.loyalty['segment']}"))
    if o.frozen[row]:
        out.append(TraceStep("fees", "frozen", o.frozen_why[row]))
    return out


def build_trace(db, row: int) -> tuple[TraceStep, ...]:
    """The ordered trace of account `row`."""
    f, p = db.facts, db.policy
    steps = [_facts(db, row), TraceStep("bucket", str(f.bucket_names[row]))]
    for name in p.segments:
        held = bool(f.segment_mask(name)[row])
        steps.append(TraceStep(f"segment {name}", "member" if held else "not member",
                               p.segments[name].explain(f, row)))
    contrib = ", ".join(f"{fac.name} {db.contributions[row, j]:+.2f}"
                        for j, fac in enumerate(p.factors))
    steps.append(TraceStep("priority", f"{db.scores[row]:.2f}", contrib))
    steps += [TraceStep(f"factor {fac.name}", f"{db.contributions[row, j]:+.2f}", describe_inputs(f, fac, row))
              for j, fac in enumerate(p.factors)]
    steps += _stages(db, row)
    steps.append(_escalation(db, row))
    steps += _promise(db, row)
    steps += _holds(db, row)
    steps += _guardrails(db, row)
    steps += _channel(db, row)
    steps += _offers(db, row)
    steps += _plugin_failures(db)
    steps.append(TraceStep("next evaluation", rfc3339(from_epoch(db.next_evaluation[row]))))
    if p.positions:
        steps = [_located(p, t) for t in steps]
    return tuple(steps)


# A trace step's name (up to its first space, or whole) -> the policy path its rule is written at,
# given the rest of the name and the step's outcome.
_PAUSES = {"pause.hold": ("pauses", "manual_hold"), "pause.hardship": ("grace", "hardship_extension_days"),
           "pause.dispute": ("pauses", "dispute"), "pause.promise_to_pay": ("pauses", "promise_to_pay"),
           "pause.payment_plan": ("pauses", "payment_plan")}


def _path_of(p, step: TraceStep) -> tuple | None:
    """Where in the policy document the rule behind `step` is written, or None (the engine's own)."""
    kind, _, name = step.step.partition(" ")
    stage_index = {s.id: s.index for s in p.stages}
    if kind == "bucket" and step.outcome in p.bucket_names:
        return ("aging", "buckets", p.bucket_names.index(step.outcome))
    if kind == "segment":
        return ("segments", name)
    if kind == "priority":
        return ("priority", "factors")
    if kind == "factor":
        return ("priority", "factors", name)
    if kind == "stage" and name in stage_index:
        return ("escalation", "stages", stage_index[name])
    if kind == "escalation" and step.outcome.startswith("step "):
        k = stage_index.get(step.outcome[5:])
        return None if k is None else ("escalation", "stages", k)
    if kind == "channel" and step.outcome in p.channels:
        return ("channels", step.outcome)
    if kind == "offer":
        return ("incentives", name)
    if kind == "promise":
        return ("pauses", "promise_to_pay")
    if kind == "check" and name in _PAUSES:
        return _PAUSES[name]
    if kind == "check" and name.startswith("house."):
        entries = (p.document.get("compliance") or {}).get("contact_hours") or ()
        ids = [e.get("id") for e in entries]
        rid = name[6:].removesuffix("-holidays")
        return ("compliance", "contact_hours", ids.index(rid)) if rid in ids else None
    return None


def _located(p, step: TraceStep) -> TraceStep:
    """`step` with `source` set to where its rule is written in the policy, when it is."""
    path = _path_of(p, step)
    where = "" if path is None else p.where(*path)
    return TraceStep(step.step, step.outcome, step.detail, where) if where else step


def _plugin_failures(db):
    """One line per plugin fact that failed for this batch (the same for every account)."""
    return [TraceStep(f"plugin fact {f.fact}", "failed",
                      f"{f.error}; unknown for this evaluation: every "
                      "comparison with it was false, as for a missing value")
            for f in db.facts.plugin_failures.values()]
