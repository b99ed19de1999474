"""Plain-words wording of guardrail rules and message content flags (for decisions and docs)."""
from __future__ import annotations

CONTENT_BITS = {"opt_out": 1, "disclosure": 2, "validation_notice": 4, "first_message": 8}


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def describe(rule) -> str:
    """What a rule forbids, in plain words (used in suppressions and the trace)."""
    ch = ", ".join(rule.channels)
    if rule.kind == "frequency_cap":
        what = "contacts that reached the debtor" if rule.counts == "contacts" else "attempts"
        scope = "debtor" if rule.scope == "debtor" else "account"
        return f"at most {rule.max} {what} by {ch} in {rule.window_days} days per {scope}"
    if rule.kind == "quiet_after_conversation":
        return f"no {ch} within {rule.days} days after a conversation (its day counts as day 1)"
    if rule.kind == "contact_window":
        wd, we = rule.weekdays, rule.weekends
        return (f"{ch} only {_hhmm(wd[0])}-{_hhmm(wd[1])} on weekdays and {_hhmm(we[0])}-"
                f"{_hhmm(we[1])} at weekends, in the debtor's local time (every known zone)")
    if rule.kind == "public_holidays":
        return f"no {ch} on public holidays where the debtor lives"
    if rule.kind == "consent_required":
        return f"{ch} only with the debtor's written consent"
    if rule.kind == "cease_communication":
        return (f"after a request to stop communicating, only {', '.join(rule.allowed_actions)} "
                f"by {ch}")
    if rule.kind == "validation_notice":
        return (f"a validation notice goes with the first communication or within "
                f"{rule.within_days} days of it; once overdue, only a written message carrying it")
    if rule.kind == "represented":
        return "no direct contact once the debtor is represented"
    if rule.kind == "required_content":
        what = {"opt_out": "a simple way to opt out", "disclosure": "the required disclosure"}
        return f"every {ch} message carries {what[rule.content]}"
    if rule.kind == "hardship_pause":
        return (f"a hardship notice pauses collection for {rule.days} days"
                + (" and freezes interest and fees" if rule.freeze_fees else ""))
    if rule.kind == "breathing_space":
        return f"breathing space: {rule.days} days without contact, interest or fees"
    if rule.kind == "statutory_compensation":
        return (f"the creditor may claim {rule.extra.get('fixed_per_invoice')} "
                f"{rule.extra.get('currency')} per late invoice")
    if rule.kind == "statutory_interest":
        return (f"statutory interest: the reference rate plus "
                f"{rule.extra.get('margin_over_reference_percent')} points")
    if rule.kind == "payment_terms":
        return f"payment terms over {rule.extra.get('max_days')} days need express agreement"
    if rule.kind == "time_bar":
        return (f"no {', '.join(rule.blocked_actions)} once the debt is past its limitation "
                f"period ({rule.limitation_days} days from the due date"
                + (", shorter in some jurisdictions" if rule.overrides else "") + ")")
    return rule.note or rule.kind.replace("_", " ")


def content_names(bits: int) -> tuple[str, ...]:
    """The CONTENT_BITS set in `bits`, by name."""
    return tuple(name for name, bit in CONTENT_BITS.items() if bits & bit)
