"""The shipped policy with one change at a time, for the tests of the warnings and the ladder."""
from __future__ import annotations

from arrears.engine.policy.load import load_checked
from arrears.policies import DEFAULT_POLICY

SOURCE = DEFAULT_POLICY.read_text(encoding="utf-8")


def edited(*changes: tuple[str, str], text: str = SOURCE) -> str:
    """`text` with each (old, new) replaced; each `old` must occur exactly once."""
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def loaded(text: str, filename: str = "policy.yaml"):
    """(policy, document) of policy `text`, as `arrears validate` loads a file."""
    return load_checked(text, filename=filename)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the one line of `text` containing `fragment`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(hits) == 1, hits
    return hits[0]


# Grace of 20 days for VIPs: their friendly reminder (day 1) and firm reminder (day 15) both fall
# due on day 21.
VIP_GRACE_20 = ("segments: {vip: 10, business: 5}", "segments: {vip: 20, business: 5}")
# A required formal notice by SMS only, while the house hours close SMS to businesses all week.
SMS_ONLY_NOTICE = ("      channels: [letter, email]\n      template: formal_notice",
                   "      channels: [sms]\n      template: formal_notice")
NO_SMS_FOR_BUSINESS = ("  contact_hours:\n", """  contact_hours:
    - id: no-sms-for-business
      debtor_types: [business]
      channels: [sms]
      weekdays: closed
      saturday: closed
      sunday: closed
""")
RENAMED = ("    - id: friendly_reminder\n", "    - id: gentle_reminder\n")
