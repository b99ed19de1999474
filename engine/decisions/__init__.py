"""Decisions: the pure decision core, column-wise over a batch.

(Named `decisions`, not `decide`: `arrears.engine.decide` is the one-account function.)

Owns `decide_batch` and `decide` (`core`), the batch's result (`result.DecisionBatch`),
priority, escalation, holds, offers and fees, suppressions, the per-account `Decision` with
its trace (`materialize`, `parts`, `trace`), the one writer of a decision's JSON, from the
batch's columns, which the API and `Decision.to_dict()` both use (`decision_json`), its
plain-words rendering (`explain`) and the runner of policy tests (`policytest`). No clock
reads and no I/O: `now` is always an argument.

May import: `domain`, `facts`, `guardrails`, `policy`. Never the store, the API or plugins.
"""
