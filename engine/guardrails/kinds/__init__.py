"""The compliance rule kinds: one module each, registered in `KINDS`.

A kind module holds one frozen dataclass subclassing `base.Rule`: its parameters (how a
profile writes them), its plain-words `describe()`, its trace line (`report`) and the hooks
through which the evaluation applies it column-wise (see `base`). Nothing outside these
modules dispatches on a kind's name.

Adding a kind: write its module, add it to `KINDS` below, regenerate the profile schema
(`python -m arrears.engine.policy.schemagen`), give it an independent check in
`tests/oracle.py`, and document it in docs/compliance.md.
"""
from __future__ import annotations

from arrears.engine.guardrails.kinds.base import Rule
from arrears.engine.guardrails.kinds.breathing_space import BreathingSpace
from arrears.engine.guardrails.kinds.breathing_space_repeat import BreathingSpaceRepeat
from arrears.engine.guardrails.kinds.cease_communication import CeaseCommunication
from arrears.engine.guardrails.kinds.consent_required import ConsentRequired
from arrears.engine.guardrails.kinds.contact_window import ContactWindow
from arrears.engine.guardrails.kinds.debtor_wishes import DebtorWishes
from arrears.engine.guardrails.kinds.frequency_cap import FrequencyCap
from arrears.engine.guardrails.kinds.hardship_pause import HardshipPause
from arrears.engine.guardrails.kinds.payment_terms import PaymentTerms
from arrears.engine.guardrails.kinds.public_holidays import PublicHolidays
from arrears.engine.guardrails.kinds.quiet_after_conversation import QuietAfterConversation
from arrears.engine.guardrails.kinds.represented import Represented
from arrears.engine.guardrails.kinds.required_content import RequiredContent
from arrears.engine.guardrails.kinds.statutory_compensation import StatutoryCompensation
from arrears.engine.guardrails.kinds.statutory_interest import StatutoryInterest
from arrears.engine.guardrails.kinds.time_bar import TimeBar
from arrears.engine.guardrails.kinds.validation_notice import ValidationNotice

KINDS: dict[str, type[Rule]] = {cls.kind: cls for cls in (
    FrequencyCap,
    QuietAfterConversation,
    ContactWindow,
    PublicHolidays,
    Represented,
    ConsentRequired,
    CeaseCommunication,
    ValidationNotice,
    RequiredContent,
    HardshipPause,
    BreathingSpace,
    StatutoryCompensation,
    StatutoryInterest,
    PaymentTerms,
    TimeBar,
    BreathingSpaceRepeat,
    DebtorWishes,
)}


def build_rule(spec: dict, profile: str) -> Rule:
    """The rule a profile's (schema-valid) YAML mapping describes, as its kind's class."""
    return KINDS[spec["kind"]].from_spec(spec, profile)


__all__ = ["KINDS", "Rule", "build_rule"]
