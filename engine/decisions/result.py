"""DecisionBatch: the column-wise result of one evaluation of a batch.

Every column has one entry per account, in the batch's row order. The per-account
`Decision` (with its plain-words trace) is built from these columns only on demand.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from arrears.engine.decisions import escalation, messages, offers
from arrears.engine.decisions.materialize import materialize
from arrears.engine.facts.compute import Facts
from arrears.engine.guardrails import evaluate as guardrails
from arrears.engine.policy.compiler import CompiledPolicy


@dataclass
class DecisionBatch:
    """Column-wise result of one evaluation of a batch."""

    policy: CompiledPolicy
    facts: Facts
    now: int
    scores: np.ndarray
    contributions: np.ndarray
    steps: escalation.Steps
    guarded: guardrails.Guarded
    rules: list
    bars: list
    holds: list
    offers: offers.OfferColumns
    held: np.ndarray
    held_until: np.ndarray
    action_ok: np.ndarray
    not_before: np.ndarray
    next_evaluation: np.ndarray
    cache: dict = field(default_factory=dict, repr=False)   # derived columns, computed once
    # when a failed channel of the step may be tried again (FAR: none waits)
    channel_retry_at: np.ndarray | None = None
    messages: object = None           # the event messages due (engine/decisions/messages.Due)

    def __len__(self) -> int:
        return self.facts.n

    @property
    def account_ids(self) -> list:
        """Account ids, in row order."""
        return self.facts.b.ids

    def episode_key(self, row: int) -> str:
        """The act-once key of the account's contact besides stage and attempt: the collection
        episode for a stage, the trigger for an event message (engine/decisions/messages.py)."""
        if self.steps.step[row] >= len(self.policy.stages):
            m = self.messages
            return messages.trigger_key(self.policy, int(m.message[row]), int(m.trigger[row]))
        return self.facts.episode_key(row)

    def decision(self, row: int):
        """The full `Decision` (with its trace) of the account in `row`."""
        return materialize(self, row)

    def decisions(self) -> list:
        """Every account's `Decision`, in row order."""
        return [self.decision(i) for i in range(len(self))]

    @property
    def plugin_failures(self) -> list[dict]:
        """Plugin facts that could not be computed for this batch (treated as unknown), as
        `{plugin, hook, fact, error}` dicts like the tick's other plugin failures."""
        return [f.to_dict() for f in self.facts.plugin_failures.values()]
