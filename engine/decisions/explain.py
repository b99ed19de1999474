"""Render a Decision in plain words for people (`arrears explain`)."""
from __future__ import annotations

from arrears.engine.domain.decision import Decision, rfc3339
from arrears.engine.domain.words import plural


def _when(decision: Decision) -> str:
    nb = decision.action.not_before
    return "now" if nb <= decision.evaluated_at else f"not before {rfc3339(nb)}"


def render_text(decision: Decision) -> str:
    """A readable explanation: the decision first, then every reason behind it."""
    d = decision
    lines = [f"Account {d.account_id}, evaluated at {rfc3339(d.evaluated_at)} under policy "
             f"{d.policy.name} {d.policy.version} ({d.policy.digest[:19]}…)", ""]
    if d.days_past_due is None:
        lines.append(f"Nothing is owed. Bucket: {d.bucket}.")
    else:
        late = (f"{plural(d.days_past_due, 'day')} past due" if d.days_past_due > 0 else
                "due today" if d.days_past_due == 0 else f"due in {plural(-d.days_past_due, 'day')}")
        lines.append(f"Owes {d.balance} to collect (total {d.total_balance}, disputed "
                     f"{d.disputed_amount}), {late}: bucket {d.bucket}.")
    lines.append("Segments: " + (", ".join(d.segments) or "none") + ".")
    lines.append(f"Priority {d.priority.score:.2f} of 100:")
    inputs = {t.step[7:]: t.detail for t in d.trace if t.step.startswith("factor ")}
    for name, value in d.priority.contributions:
        lines.append(f"  {name:<22}{value:+7.2f}" + (f"   {inputs[name]}" if inputs.get(name) else ""))
    lines.append("")
    if d.action:
        a = d.action
        lines.append(f"DECISION: {a.type.replace('_', ' ')} (stage {a.stage}, attempt {a.attempt}) "
                     f"by {a.channel}, template {a.template} [{a.language}], tone {a.tone}, "
                     f"{_when(d)}.")
        lines.append(f"  Why this stage: {a.reason}.")
        if a.assignee:
            lines.append(f"  Assigned to the account manager: {a.assignee}.")
        elif a.account_manager:
            lines.append(f"  Account manager: {a.account_manager}.")
    else:
        lines.append("DECISION: no contact now.")
    lines += [f"Promise to pay: {t.outcome} — {t.detail}." for t in d.trace if t.step == "promise to pay"]
    if d.suppressions:
        lines.append("Held back by:")
        for s in d.suppressions:
            until = f" — until {rfc3339(s.until)}" if s.until else " — no end date"
            lines.append(f"  - {s.rule}: {s.reason}{until}")
    lines += ["", "Stages:"]
    for t in d.trace:
        if t.step.startswith("stage "):
            lines.append(f"  {t.step[6:]:<20} {t.outcome:<15} {t.detail}")
    lines.append("Checks:")
    for t in d.trace:
        if t.step.startswith("check "):
            lines.append(f"  {t.step[6:]:<28} {t.outcome}" + (f": {t.detail}" if t.detail else ""))
    failed = [t for t in d.trace if t.step.startswith("plugin fact ")]
    if failed:
        lines.append("Plugin facts that could not be computed (unknown in every condition):")
        lines += [f"  {t.step[12:]}: {t.detail}" for t in failed]
    lines.append("Segments in detail:")
    for t in d.trace:
        if t.step.startswith("segment "):
            lines.append(f"  {t.step[8:]:<14} {t.outcome:<11} {t.detail}")
    if d.offers:
        lines.append("Offers:")
        for o in d.offers:
            approval = f" (needs approval: {'; '.join(o.approval_reasons)})" if o.requires_approval else ""
            lines.append(f"  - {o.kind.replace('_', ' ')}: pay {o.amount} (saves {o.discount}) "
                         f"before {rfc3339(o.expires_at)}{approval}")
    else:
        lines.append("Offers: none" + "".join(
            f"; {t.step[6:]}: {t.detail}" for t in d.trace
            if t.step.startswith("offer ") and t.detail and t.outcome != "offered") + ".")
    if d.fees:
        f = d.fees
        lines.append(f"Fees: late fee {f.late_fee}, interest {f.interest}"
                     + (f" — frozen: {f.note}" if f.frozen else f" — {f.note}" if f.note else "") + ".")
    lines.append(f"Next evaluation: {rfc3339(d.next_evaluation_at)}.")
    return "\n".join(lines) + "\n"
