"""The decision trace: every step of one account's evaluation, in plain words.

Built from the batch's columns after the fact, so the vectorised core stays free of
per-account string work; `arrears explain` prints it.
"""
from __future__ import annotations

from engine.batch import day_to_date
from engine.decide import DecisionBatch, from_epoch
from engine.decision import TraceStep, rfc3339
from engine.escalation import REASONS
from engine.facts import FAR
from engine.money import from_minor


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


def _stages(db, row):
    f, st, p = db.facts, db.steps, db.policy
    out = []
    dpd = int(f.days_past_due[row])
    for s in p.stages:
        k = s.index
        attempts = int(f.progress["attempts"][row, k])
        if k == st.step[row]:
            outcome = "selected"
            detail = REASONS[st.reason[row]]
        elif attempts and k <= st.last[row]:
            outcome, detail = "done", f"{attempts} attempt(s) in this episode"
        elif not st.applicable[row, k]:
            why = [s.when.explain(f, row)] if s.when.__class__.__name__ != "All" or \
                getattr(s.when, "parts", None) else []
            if s.segments:
                why.append("segments " + ", ".join(s.segments))
            outcome, detail = "not applicable", "; ".join(why) or "conditions not met"
        elif not f.owes[row]:
            outcome, detail = "not applicable", "nothing to collect"
        elif dpd < st.threshold[row, k]:
            thr = int(st.threshold[row, k])
            grace = f" (grace {int(st.grace_days[row])} days)" if thr != s.days_past_due else ""
            outcome, detail = "not yet due", f"needs {thr} days past due{grace}; is {dpd}"
        elif k < st.step[row] or k < st.last[row]:
            outcome, detail = "skipped", "passed over by a later stage (not required)"
        else:
            outcome, detail = "eligible", "waits for the current stage to finish"
        out.append(TraceStep(f"stage {s.id}", outcome, detail))
    return out


def _escalation(db, row):
    f, st, p = db.facts, db.steps, db.policy
    step = st.step[row]
    if step < 0:
        return TraceStep("escalation", "no step", "no stage is due and no repeat is pending")
    stage = p.stages[step]
    detail = f"{stage.id} attempt {int(st.attempt[row])} ({REASONS[st.reason[row]]})"
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


def _channel(db, row):
    st, p = db.steps, db.policy
    if st.step[row] < 0:
        return []
    stage = p.stages[st.step[row]]
    if st.channel[row] < 0:
        return [TraceStep("channel", "none usable", ", ".join(stage.channels))]
    chosen = stage.channels[st.channel[row]]
    passed = stage.channels[:st.channel[row]]
    detail = f"{chosen} from {', '.join(stage.channels)}"
    if passed:
        detail += f"; passed over {', '.join(passed)} (unreachable, opted out, failed or not preferred)"
    return [TraceStep("channel", chosen, detail)]


def _offers(db, row):
    o, p, out = db.offers, db.policy, []
    if p.incentives.early:
        out.append(TraceStep("offer early_payment_discount", "offered" if o.early[row] else "not offered",
                             "excluded: dispute or stop state" if o.excluded[row] else ""))
    if p.incentives.settlement:
        outcome = "offered" if o.settle[row] else "not offered"
        detail = "excluded: dispute or stop state" if o.excluded[row] else ""
        if o.settle[row]:
            detail = (f"settle for {_amount(db, o.settle_amount[row], row)}, saving "
                      f"{_amount(db, o.settle_discount[row], row)}"
                      + ("; needs approval" if o.settle_approval[row] else ""))
        out.append(TraceStep("offer settlement", outcome, detail))
    if o.loyal[row]:
        out.append(TraceStep("loyalty", "applied", f"segment {p.incentives.loyalty['segment']}"))
    if o.frozen[row]:
        out.append(TraceStep("fees", "frozen", o.frozen_why[row]))
    return out


def build_trace(db: DecisionBatch, row: int) -> tuple[TraceStep, ...]:
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
    steps += _stages(db, row)
    steps.append(_escalation(db, row))
    steps += _holds(db, row)
    steps += _channel(db, row)
    steps += _offers(db, row)
    steps.append(TraceStep("next evaluation", rfc3339(from_epoch(db.next_evaluation[row]))))
    return tuple(steps)
