"""Helpers of the tests of the policy language's expressions: the shipped policy text with one
edit and its problems located (line, column), and a batch decided whole agreeing with each of its
accounts decided alone."""
from __future__ import annotations

from arrears.engine.decisions.core import decide, decide_batch
from arrears.engine.domain.batch import Batch
from arrears.engine.policy.validation import check_policy_text
from tests.core_factories import NOW, POLICY_PATH


def shipped_with(old: str, new: str) -> str:
    """The shipped policy's text with its one occurrence of `old` replaced by `new`."""
    text = POLICY_PATH.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def problems_of(text: str) -> list[tuple[int, int, str]]:
    """(line, column, message) of every problem policy `text` has, as `arrears validate` finds them."""
    _doc, problems = check_policy_text(text, "p.yaml")
    return [(p.line, p.col, p.message) for p in problems]


def position(text: str, fragment: str, after: str | None = None) -> tuple[int, int]:
    """1-based (line, column) of the first `fragment` in `text` (after the first `after`, if given)."""
    at = text.index(fragment, text.index(after) if after else 0)
    return text[:at].count("\n") + 1, at - text.rfind("\n", 0, at)


def assert_located(text: str, fragment: str, message: str, after: str | None = None) -> None:
    """Some problem of `text` is at `fragment` and says `message` (a part of its words)."""
    found = problems_of(text)
    line, col = position(text, fragment, after)
    assert any(ln == line and c == col and message in m for ln, c, m in found), (line, col, found)


def assert_batch_agrees(policy, accounts: list, histories: list | None = None) -> None:
    """Each account decided in one batch with the others gets the decision (JSON and trace) it
    gets decided alone."""
    histories = histories if histories is not None else [[] for _ in accounts]
    db = decide_batch(Batch.from_objects(accounts, histories), policy, NOW)
    for i, (account, history) in enumerate(zip(accounts, histories)):
        alone = decide(account, history, policy, NOW)
        assert db.decision(i).to_dict() == alone.to_dict()
        assert db.decision(i).trace == alone.trace
