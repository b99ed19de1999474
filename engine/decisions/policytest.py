"""Policy tests: `*_test.yaml` files of cases (account, history, moment) and expectations.

A suite names its policy (relative to the test file), shared `defaults` (a moment and
account fields every case starts from) and `cases`. Each case's decision is compared
with its `expect` block; a failure lists every mismatch (values written as in JSON:
`null`, `true`, `"text"`) and the decision's trace.

A bad value in `defaults` is a problem of the file, located at its own line (exit 2 from
`arrears test`); a bad value in a case fails that case, located at the case's field.
`expected_of(decision)` is the other direction: the `expect` block a decision passes,
which `arrears explain --as-test` prints as a ready case.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from arrears.engine.domain.decision import Decision, rfc3339
from arrears.engine.domain.errors import ArrearsError, InputError, PolicyError, Problem
from arrears.engine.domain.model import Account, Event, parse_instant
from arrears.engine.policy.yamlsrc import pointer


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
    "priority": lambda d: d.priority.score,
    "account_manager": _action_field("account_manager"),
    "assignee": _action_field("assignee"),
    "content": lambda d: [] if d.action is None else sorted(d.action.content),
    "suppression_reasons": lambda d: {s.rule: s.reason for s in d.suppressions},
}
_UNORDERED = ("segments", "suppressions", "offers", "content")


def show(value) -> str:
    """A value as a failure message writes it: JSON (`null`, `true`, `"text"`, `[...]`), the
    way the test file means it, not Python's `None`/`True`/`'text'`."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _priority_failure(want, got: float) -> str | None:
    """`priority: 42.5` is the score to two decimals; `{min: 40, max: 60}` a range (both ends in)."""
    if isinstance(want, dict):
        low, high = want.get("min", 0), want.get("max", 100)
        if low <= got <= high:
            return None
        return f"priority: expected between {show(low)} and {show(high)}, got {show(got)}"
    if round(float(want), 2) == round(got, 2):
        return None
    return f"priority: expected {show(want)}, got {show(got)}"


def _reasons_failure(want: dict, got: dict) -> list[str]:
    """`suppression_reasons: {rule: text}`: each rule held something back, its reason containing
    the text (case-insensitive). Rules not named are not checked (`suppressions` lists them all)."""
    out = []
    for rule, text in want.items():
        if rule not in got:
            out.append(f"suppression_reasons: expected a suppression by {show(rule)}, got none "
                       f"(suppressed by {show(sorted(got))})")
        elif str(text).casefold() not in got[rule].casefold():
            out.append(f"suppression_reasons.{rule}: expected a reason containing {show(text)}, "
                       f"got {show(got[rule])}")
    return out


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
        got = getter(decision)
        if key == "priority":
            failures += filter(None, [_priority_failure(expect[key], got)])
        elif key == "suppression_reasons":
            failures += _reasons_failure(expect[key] or {}, got)
        elif (want := _normalise(key, expect[key])) != got:
            failures.append(f"{key}: expected {show(want)}, got {show(got)}")
    return failures


def expected_of(decision: Decision) -> dict:
    """The `expect` block this decision passes, every key filled in (money as text, times as
    RFC 3339), in the order failures are listed: what `arrears explain --as-test` prints."""
    return {key: getter(decision) for key, getter in EXPECTATIONS.items()}


_STEP = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def where_path(where: str) -> tuple:
    """An InputError's `where` (`cases[0].account.invoices[1].amount`) as a document path
    (`("cases", 0, "account", "invoices", 1, "amount")`), for its line and column."""
    return tuple(name if name else int(index) for name, index in _STEP.findall(where))


def _merged_account(defaults: dict, case: dict, index: int) -> dict:
    data = dict(defaults.get("account") or {})
    data.update(case.get("account") or {})
    data.setdefault("id", f"case-{index + 1}")
    return data


def _defaults_problem(doc, exc: InputError, case: dict, index: int) -> Problem | None:
    """The problem at `defaults.account.…` when the bad account field came from the defaults
    (the case does not set it), else None: the case's own value is the case's failure."""
    path = where_path(exc.where)
    prefix = ("cases", index, "account")
    own = case.get("account") or {}
    if path == prefix:                       # unknown fields of the account: whose are they?
        named = _UNKNOWN.match(_message(exc))
        fields = named.group(1).split(", ") if named else []
        if not fields or any(name in own for name in fields):
            return None
        at = ("defaults", "account", fields[0])
        line, col = doc.key_position(at)
        return Problem(doc.filename, line, col, f"defaults.account: {_message(exc)}", pointer(at))
    if path[:3] != prefix or len(path) < 4 or path[3] in own:
        return None
    at = ("defaults", "account") + path[3:]
    line, col = doc.position(at)
    return Problem(doc.filename, line, col, f"{_dotted(at)}: {_message(exc)}", pointer(at))


_UNKNOWN = re.compile(r"unknown field\(s\) ([^;]+);")


def _message(exc: InputError) -> str:
    """An InputError's message without its `where: ` prefix."""
    text = str(exc)
    return text[len(exc.where) + 2:] if exc.where and text.startswith(exc.where + ": ") else text


def _dotted(path: tuple) -> str:
    """("defaults", "account", "invoices", 0, "amount") -> "defaults.account.invoices[0].amount"."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


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
        except InputError as exc:
            problem = _defaults_problem(doc, exc, case, i)
            if problem is not None:         # every case would fail the same way: the file's problem
                raise PolicyError([problem]) from None
            at_line, at_col = doc.position(where_path(exc.where))
            result.error = f"{path}:{at_line}:{at_col}: {exc}"
            results.append(result)
            continue
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
