"""Arrears engine: policy loading, the pure decision core, and their data types.

    >>> from engine import load_policy, decide
    >>> policy = load_policy("policies/default.yaml")
    >>> decision = decide(account, events, policy, now)
"""
from arrears.engine.decisions.core import decide, decide_batch
from arrears.engine.decisions.result import DecisionBatch
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.decision import Decision
from arrears.engine.domain.errors import ArrearsError, InputError, PolicyError, Problem
from arrears.engine.domain.model import Account, Contact, Event, Invoice
from arrears.engine.domain.money import Money
from arrears.engine.policy.compiler import CompiledPolicy
from arrears.engine.policy.load import load_policy

__all__ = ["Account", "ArrearsError", "Batch", "CompiledPolicy", "Contact", "Decision",
           "DecisionBatch", "Event", "InputError", "Invoice", "Money", "PolicyError", "Problem",
           "decide", "decide_batch", "load_policy"]
