"""Arrears engine: policy loading, the pure decision core, and their data types.

    >>> from engine import load_policy, decide
    >>> policy = load_policy("policies/default.yaml")
    >>> decision = decide(account, events, policy, now)
"""
from engine.batch import Batch
from engine.compiler import CompiledPolicy
from engine.decide import DecisionBatch, decide, decide_batch
from engine.decision import Decision
from engine.errors import ArrearsError, InputError, PolicyError, Problem
from engine.model import Account, Contact, Event, Invoice
from engine.money import Money
from engine.policy import load_policy

__all__ = ["Account", "ArrearsError", "Batch", "CompiledPolicy", "Contact", "Decision",
           "DecisionBatch", "Event", "InputError", "Invoice", "Money", "PolicyError", "Problem",
           "decide", "decide_batch", "load_policy"]
