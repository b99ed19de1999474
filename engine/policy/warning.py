"""Warnings: findings about a valid policy that would still misbehave, beside its errors.

A warning never stops a policy from loading. Each has a stable rule id (`RULES`), a place
(file:line:col and a JSON pointer) and the subject it is about (a stage id, an event's stage),
and may be silenced on purpose in the policy's top-level `silence:` list, each entry naming the
rule, optionally where (`at`: a stage id or a JSON pointer, covering everything below it) and
why (`reason`, required). A silenced warning is still reported, marked silenced, with its reason.

This module is the warning itself: its value, the catalogue of rule ids and the silencing.
`arrears.engine.policy.warnrules.policy_warnings` runs every rule; `arrears validate`, `test`,
`simulate` and `POST /v1/policies:validate` show what it returns. Only `--strict` makes an
unsilenced warning change the exit status.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from arrears.engine.policy.yamlsrc import Document, pointer

# Rule id -> (what it means, how to fix it). docs/policy-guide.md ("Warnings") has one row each.
RULES = {
    "W-stage-channels-unavailable": (
        ("a required stage has no channel that can reach some debtors (house hours or a profile "
         "bar every one): those accounts are never contacted at that stage nor escalated past it"),
        "add a channel those debtors can be reached on (a letter), or a variant stage for them"),
    "W-stages-same-day": (
        ("grace (or equal days_past_due) makes several stages fall due on the same day: the "
         "escalation takes the furthest, so the first contact skips the friendlier ones"),
        ("move the later stage past the grace, shorten the grace, or make the skipped stage "
         "required")),
    "W-stage-ids-changed": (
        ("stage ids were renamed, removed or added compared with the active policy: accounts "
         "part-way through restart or repeat steps"),
        "keep the ids, or map each old id to its new one in `stage_renames: {old: new}`"),
    "W-money-all-currencies": (
        ("a money threshold applies to accounts of several currencies with one figure (no "
         "conversion)"),
        ("combine the amount with a currency test ({fact: currency, eq: GBP}) and give each "
         "currency its own figure")),
    "W-event-unknown-stage": (
        ("a contact event names a stage the policy does not have: it does not count, so the "
         "debtor is contacted again"),
        "use the policy's stage id, or map the old id in `stage_renames`"),
    "W-event-unknown-channel": (
        "a contact event names a channel kind the policy has no channel of",
        "record the contact under the channel kind that carried it, or add that channel"),
    "W-silence-unused": (
        "a `silence` entry matches no warning (the warning was fixed, or `at` is misspelt)",
        "remove the entry, or correct its `at`"),
}


@dataclass(frozen=True, order=True)
class PolicyWarning:
    """One warning, located as file:line:col; `silenced` is the reason when silenced on purpose."""

    file: str
    line: int
    col: int
    rule: str
    message: str
    path: str = ""          # JSON pointer into the policy (or the test file)
    subject: str = ""       # what it is about: a stage id, an event's stage or channel
    silenced: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.col}: warning {self.rule}: {self.message}"
        return text + (f" [silenced: {self.silenced}]" if self.silenced else "")

    def to_dict(self) -> dict:
        """The JSON form (the API's `warnings`, the CLI's JSON)."""
        return {"rule": self.rule, "file": self.file, "line": self.line, "column": self.col,
                "pointer": self.path, "subject": self.subject, "detail": self.message,
                "silenced": bool(self.silenced), "reason": self.silenced or None}


def warning_at(doc: Document, filename: str, path, rule: str, message: str, subject: str = "",
               key: bool = False) -> PolicyWarning:
    """A warning at `path` of `doc` (its key with `key`)."""
    if rule not in RULES:
        raise ValueError(f"unknown warning rule {rule!r}")
    line, col = doc.key_position(path) if key else doc.position(path)
    return PolicyWarning(filename, line, col, rule, message, pointer(path), subject)


def _matches(entry: dict, warning: PolicyWarning) -> bool:
    if entry.get("warning") != warning.rule:
        return False
    at = entry.get("at")
    if at is None:
        return True
    if at.startswith("/"):
        return warning.path == at or warning.path.startswith(at.rstrip("/") + "/")
    return at == warning.subject


def apply_silences(found: list[PolicyWarning], doc: Document, filename: str,
                   checked: set[str]) -> list[PolicyWarning]:
    """`found` with the policy's `silence` entries applied, plus a W-silence-unused for each entry
    about a rule in `checked` (the rules that ran) that matched nothing."""
    data = doc.data if isinstance(doc.data, dict) else {}
    entries = [e for e in data.get("silence") or () if isinstance(e, dict)]
    used = [False] * len(entries)
    out = []
    for w in found:
        for i, entry in enumerate(entries):
            if _matches(entry, w):
                used[i] = True
                w = replace(w, silenced=str(entry.get("reason", "")))
                break
        out.append(w)
    for i, entry in enumerate(entries):
        if not used[i] and entry.get("warning") in checked:
            out.append(warning_at(doc, filename, ("silence", i), "W-silence-unused",
                                  f"silence of {entry.get('warning')} "
                                  + (f"at {entry['at']!r} " if entry.get("at") else "")
                                  + "matches no warning"))
    return sorted(out)


def unsilenced(found: list[PolicyWarning]) -> list[PolicyWarning]:
    """The warnings nobody silenced (what `--strict` fails on)."""
    return [w for w in found if not w.silenced]
