"""Plain-words wording of guardrail rules and message content flags (for decisions and docs)."""
from __future__ import annotations

CONTENT_BITS = {"opt_out": 1, "disclosure": 2, "validation_notice": 4, "first_message": 8}


def describe(rule) -> str:
    """What a rule forbids, in plain words (used in suppressions and the trace).

    Each rule kind words its own rules (`guardrails.kinds`, the kind's `describe`).
    """
    return rule.describe()


def content_names(bits: int) -> tuple[str, ...]:
    """The CONTENT_BITS set in `bits`, by name."""
    return tuple(name for name, bit in CONTENT_BITS.items() if bits & bit)
