"""Policy tests: `*_test.yaml` files of cases (account, history, moment) and expectations.

A suite names its policy (relative to the test file), shared `defaults` (a moment and
account fields every case starts from) and `cases`. Each case's decision is compared
with its `expect` block; a failure lists every mismatch and the decision's trace.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from arrears.engine.domain.decision import Decision, rfc3339
from arrears.engine.domain.errors import ArrearsError, PolicyError, Problem
from arrears.engine.domain.model import Account, Event, parse_instant


def _action_field(name):
    return lambda d: None if d.action is None else getattr(d.action, name)


def _money(getter):
    return lambda d: str(getter(d).amount)


# expect key -> how to read the value from a Decision, in the order failures are listed.
EXPECTATIONS = {
    "days_past_due": lambda d: d.days_past_due,
    "bucket": lambda d: d.bucket,
    "balance": _money(lambda d: d.balance),
    "segments": lambda d: sorted(d.segments),
    "stage": lambda d: d.stage,
    "action": _action_field("type"),
    "channel": _action_field("channel"),
    "template": _action_field("template"),
    "tone": _action_field("tone"),
    "language": _action_field("language"),
    "attempt": _action_field("attempt"),
    "not_before": lambda d: None if d.action is None else rfc3339(d.action.not_before),
    "suppressions": lambda d: sorted(s.rule for s in d.suppressions),
    "offers": lambda d: sorted(o.kind for o in d.offers),
    "settlement_amount": lambda d: next((str(o.amount.amount) for o in d.offers
                                         if o.kind == "settlement"), None),
    "requires_approval": lambda d: any(o.requires_approval for o in d.offers),
    "fees_frozen": lambda d: None if d.fees is None else d.fees.frozen,
    "late_fee": lambda d: None if d.fees is None else str(d.fees.late_fee.amount),
    "interest": lambda d: None if d.fees is None else str(d.fees.interest.amount),
    "next_evaluation_at": lambda d: rfc3339(d.next_evaluation_at),
}
_UNORDERED = ("segments", "suppressions", "offers")


@dataclass
class CaseResult:
    """The outcome of one case."""

    file: str
    line: int
    name: str
    failures: list[str] = field(default_factory=list)
    decision: Decision | None = None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


def _normalise(key, value):
    if key in _UNORDERED:
        return sorted(value or [])
    if key in ("not_before", "next_evaluation_at") and value is not None:
        return rfc3339(parse_instant(value, key))
    if key in ("balance", "settlement_amount", "late_fee", "interest") and value is not None:
        return str(value)
    return value


def check(decision: Decision, expect: dict) -> list[str]:
    """Every mismatch between a decision and an `expect` block, as readable lines."""
    failures = []
    for key, getter in EXPECTATIONS.items():
        if key not in expect:
            continue
        want, got = _normalise(key, expect[key]), getter(decision)
        if want != got:
            failures.append(f"{key}: expected {want!r}, got {got!r}")
    return failures


def _merged_account(defaults: dict, case: dict, index: int) -> dict:
    data = dict(defaults.get("account") or {})
    data.update(case.get("account") or {})
    data.setdefault("id", f"case-{index + 1}")
    return data


def run_suite(path: str | Path, facts=None, profiles=None, warn=None) -> list[CaseResult]:
    """Run every case of one test file; raises PolicyError if the file or its policy is invalid.

    `facts`: the plugin facts the policy may use (see `arrears.engine.policy.load.load_policy`);
    `profiles`: the company's own profiles directory, besides the shipped profiles.
    `warn(policy, policy_doc, policy_file, events)`, if given, is called once before the cases
    run, with the contact events of the cases located in the test file (`contact_events`), so the
    caller can report the policy's warnings (`arrears.engine.policy.warnrules`).
    """
    from arrears.engine.decisions.core import decide
    from arrears.engine.policy.load import load_checked
    from arrears.engine.policy.validation import parse_policy_test
    path = Path(path)
    doc = parse_policy_test(path)
    suite = doc.data
    policy_file = path.parent / suite["policy"]
    policy, policy_doc = load_checked(policy_file, facts=facts, company_profiles=profiles)
    if warn is not None:
        warn(policy, policy_doc, str(policy_file), contact_events(doc, str(path)))
    defaults = suite.get("defaults") or {}
    results = []
    for i, case in enumerate(suite["cases"]):
        line = doc.position(("cases", i))[0]
        result = CaseResult(str(path), line, case["name"])
        try:
            account = Account.from_dict(_merged_account(defaults, case, i), where=f"cases[{i}].account")
            events = [Event.from_dict(e, where=f"cases[{i}].events[{j}]")
                      for j, e in enumerate(case.get("events") or [])]
            now = parse_instant(case.get("now", defaults.get("now")), f"cases[{i}].now")
            result.decision = decide(account, events, policy, now)
        except ArrearsError as exc:
            result.error = str(exc)
            results.append(result)
            continue
        result.failures = check(result.decision, case["expect"])
        results.append(result)
    return results


def contact_events(doc, filename: str) -> list:
    """The contact events of a test file's cases naming a stage or channel, each located at its
    `stage` (else `channel`) value, as `arrears.engine.policy.warnrules.EventRef`s."""
    from arrears.engine.policy.warnrules import EventRef
    from arrears.engine.policy.yamlsrc import pointer
    out = []
    for i, case in enumerate(doc.data.get("cases") or ()):
        for j, event in enumerate((case or {}).get("events") or ()):
            if not isinstance(event, dict) or event.get("type") not in ("contact_attempt", "contact_outcome"):
                continue
            key = "stage" if "stage" in event else "channel"
            where = ("cases", i, "events", j, key)
            line, col = doc.position(where)
            out.append(EventRef(event.get("stage"), event.get("channel"), filename, line, col,
                                pointer(where)))
    return out


def find_suites(paths) -> list[Path]:
    """Test files named by `paths`: files as given, directories searched recursively."""
    found = []
    for p in map(Path, paths):
        found += sorted(p.rglob("*_test.yaml")) if p.is_dir() else [p]
    return found


def run_paths(paths, facts=None, profiles=None, warn=None) -> tuple[list[CaseResult], list[Problem]]:
    """Run every suite under `paths`; collect results and the problems of unloadable files.
    `warn`: as for `run_suite`, called once per suite."""
    results, problems = [], []
    for suite in find_suites(paths):
        try:
            results += run_suite(suite, facts, profiles, warn)
        except PolicyError as exc:
            problems += exc.problems
    return results, problems
