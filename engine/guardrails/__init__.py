"""Guardrails: the law as code, applied after a stage and a channel are chosen.

Owns the compliance rule kinds, who a jurisdiction profile covers (`jurisdiction`), contact
windows and public holidays (`windows`), the plain-words wording of every rule
(`ruletext`) and the column-wise evaluation that picks each step's permitted channel and
time (`evaluate`). Rules only ever restrict: no policy setting can switch one off.

May import: `domain`, `facts`. Never `policy` (the policy loader compiles profiles against
the rule kinds defined here), `decide`, the store, the API or plugins.
"""
