"""Guardrails: the law as code, applied after a stage and a channel are chosen.

Owns the compliance rule kinds (`kinds`: one module per kind, registered in `kinds.KINDS`,
each with its parameters, its wording and the hooks the evaluation calls), who a
jurisdiction profile covers (`jurisdiction`), contact windows and public holidays
(`windows`), content flags (`ruletext`), whom a step may reach (`recipients`: the debtor,
their representative, or a staff review task) and the column-wise evaluation that picks each
step's permitted channel and time (`evaluate`). Rules only ever restrict: no policy setting
can switch one off.

May import: `domain`, `facts`. Never `policy` (the policy loader builds profiles' rules
through the kinds defined here), `decisions`, the store, the API or plugins.
"""
