"""Structured conditions (`all` / `any` / `not` / `segment` / fact leaves), compiled once.

A compiled condition evaluates a whole batch at once (`evaluate(facts)` returns a
boolean column) and explains itself for one account (`explain(facts, row)`).
No strings are ever evaluated as code. Facts added by plugins (`x_…`) compile to
`PluginLeaf`s, which ask the plugin for the column once per batch (`arrears.engine.facts.pluginfacts`).
"""
from __future__ import annotations

from decimal import Decimal
from itertools import repeat
from math import ceil, floor
from operator import contains

import numpy as np

from arrears.engine.domain.batch import KIND_CODES
from arrears.engine.domain.clock import DAY, NEVER
from arrears.engine.domain.errors import ArrearsError
from arrears.engine.domain.money import parse_amount
from arrears.engine.facts import pluginfacts
from arrears.engine.facts.catalogue import BOOL, FACTS, INT, MONEY, NUMBER, PARAM_DEFAULTS, SET, STRING

_SYMBOLS = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}


def column(facts, name: str, window_days: int, channel: str | None):
    """(values, present) of a fact for every account; `present` is None when always known."""
    f = facts
    days_since = lambda at: (np.where(at == NEVER, 0, (f.now - at) // DAY), at != NEVER)  # noqa: E731
    table = {
        "days_past_due": lambda: f.days_past_due,
        "balance": lambda: f.balance,
        "total_balance": lambda: f.total_balance,
        "overdue_balance": lambda: f.overdue_balance,
        "disputed_amount": lambda: f.disputed_amount,
        "open_invoices": lambda: f.open_invoices,
        "overdue_invoices": lambda: f.overdue_invoices,
        "bucket": lambda: f.bucket_names,
        "debtor_type": lambda: f.b.debtor_type,
        "jurisdiction": lambda: (f.b.jurisdiction, f.b.jurisdiction != None),  # noqa: E711
        "country": lambda: (f.country, f.country != None),  # noqa: E711
        "language": lambda: f.language,
        "currency": lambda: f.b.currency,
        "relationship_tier": lambda: (f.b.tier, f.b.tier != None),  # noqa: E711
        "account_manager": lambda: (f.b.manager, f.b.manager != None),  # noqa: E711
        "tags": lambda: f.b.tags,
        "risk_score": lambda: (f.b.risk, ~np.isnan(f.b.risk)),
        "on_time_ratio": lambda: (f.b.on_time, ~np.isnan(f.b.on_time)),
        "payments": lambda: f.payments(window_days),
        "paid_amount": lambda: f.paid_amount(window_days),
        "days_since_last_payment": lambda: days_since(f.last_payment_at),
        "contacts": lambda: f.contacts(window_days, channel),
        "conversations": lambda: f.conversations(window_days),
        "days_since_last_contact": lambda: days_since(f.last_contact_at),
        "promises_broken": lambda: f.promises_broken(window_days),
        "promise_open": lambda: f.promises["open"],
        "plan_active": lambda: f.plan["active"],
        "plan_in_good_standing": lambda: f.plan["good"],
        "dispute_open": lambda: f.disputed_amount > 0,
        "hardship": lambda: f.states["hardship"][0],
        "cease_communication": lambda: f.states["cease_communication"][0],
        "bankrupt": lambda: f.states["bankrupt"][0],
        "deceased": lambda: f.states["deceased"][0],
        "represented": lambda: f.states["represented"][0],
        "breathing_space": lambda: f.states["breathing_space"][0],
        "on_hold": lambda: f.states["hold"][0],
        "opted_out": lambda: f.opted_out,
        "reachable": lambda: f.reachable,
        "last_stage": lambda: (f.last_stage_names, f.last_stage_names != None),  # noqa: E711
        "local_hour": lambda: (f.local_now % DAY) // 3600,
        "local_weekday": lambda: (f.today + 3) % 7 + 1,
    }
    out = table[name]()
    return out if isinstance(out, tuple) else (out, None)


class Node:
    """A compiled condition."""

    def evaluate(self, facts) -> np.ndarray:
        """Boolean column: the condition holds for each account (memoised per batch)."""
        # Keyed by the node itself, not id(): the cache then keeps it alive, so a
        # collected node's id can never be reused by another within one batch.
        key = ("cond", self)
        if key not in facts.cache:
            facts.cache[key] = self._evaluate(facts)
        return facts.cache[key]

    def explain(self, facts, row: int) -> str:
        """Plain words: what the condition asks and whether it held for account `row`."""
        raise NotImplementedError


class All(Node):
    def __init__(self, parts):
        self.parts = parts

    def _evaluate(self, facts):
        out = np.ones(facts.n, dtype=bool)
        for part in self.parts:
            out &= part.evaluate(facts)
        return out

    def explain(self, facts, row):
        return "all of (" + "; ".join(p.explain(facts, row) for p in self.parts) + ")"


class Any(All):
    def _evaluate(self, facts):
        out = np.zeros(facts.n, dtype=bool)
        for part in self.parts:
            out |= part.evaluate(facts)
        return out

    def explain(self, facts, row):
        return "any of (" + "; ".join(p.explain(facts, row) for p in self.parts) + ")"


class Not(Node):
    def __init__(self, part):
        self.part = part

    def _evaluate(self, facts):
        return ~self.part.evaluate(facts)

    def explain(self, facts, row):
        return f"not [{self.part.explain(facts, row)}]"


class Segment(Node):
    def __init__(self, name):
        self.name = name

    def _evaluate(self, facts):
        return facts.segment_mask(self.name)

    def explain(self, facts, row):
        held = bool(self.evaluate(facts)[row])
        return f"segment {self.name} ({'yes' if held else 'no'})"


class Leaf(Node):
    """`{fact: NAME, OP: value}` with optional `window_days` / `channel` parameters."""

    def __init__(self, fact, op, value, window_days, channel):
        self.fact, self.op, self.value = fact, op, value
        self.definition = self._definition()
        self.kind = self.definition.kind
        self.window_days, self.channel = window_days, channel

    def _definition(self):
        return FACTS[self.fact]

    def _values(self, facts):
        key = ("fact", self.fact, self.window_days, self.channel)
        if key not in facts.cache:
            facts.cache[key] = column(facts, self.fact, self.window_days, self.channel)
        return facts.cache[key]

    def _evaluate(self, facts):
        values, present = self._values(facts)
        if self.op == "exists":
            has = np.ones(facts.n, bool) if present is None else present
            return has if self.value else ~has
        if self.kind == SET:
            result = _set_test(values, self.fact, self.value)
            result = result if self.op == "contains" else ~result
        elif self.kind == MONEY:
            result = _money_test(values, facts.b.scale, self.op, self.value)
        else:
            result = _compare(values, self.op, self.value)
        return result if present is None else result & present

    def label(self) -> str:
        params = []
        if self.window_days is not None and "window_days" in self.definition.params:
            params.append(f"last {self.window_days} days")
        if self.channel:
            params.append(self.channel)
        name = self.fact + (f" ({', '.join(params)})" if params else "")
        value = self.value
        if self.op in _SYMBOLS:
            return f"{name} {_SYMBOLS[self.op]} {value}"
        if self.op == "between":
            return f"{name} between {value[0]} and {value[1]}"
        if self.op == "exists":
            return f"{name} {'is known' if value else 'is unknown'}"
        return f"{name} {self.op.replace('_', ' ')} {value}"

    def explain(self, facts, row):
        values, present = self._values(facts)
        held = bool(self.evaluate(facts)[row])
        if present is not None and not present[row]:
            actual = "unknown"
        elif self.kind == MONEY:
            actual = str(Decimal(int(values[row])).scaleb(-_exp(facts.b.scale[row])))
        elif self.kind == SET and self.fact in ("opted_out", "reachable"):
            actual = ",".join(k for k, c in KIND_CODES.items() if values[row] >> c & 1) or "none"
        elif self.kind == SET:
            actual = ",".join(sorted(values[row])) or "none"
        else:
            actual = values[row].item() if hasattr(values[row], "item") else values[row]
        return f"{self.label()}: {'yes' if held else 'no'} (is {actual})"


class PluginLeaf(Leaf):
    """A comparison of a fact a plugin computes (`x_…`); unknown for the batch if it fails."""

    def __init__(self, source, op, value, window_days, channel):
        self.source = source
        super().__init__(source.definition.name, op, value, window_days, channel)

    def _definition(self):
        return self.source.definition

    def _values(self, facts):
        key = ("fact", self.fact, self.window_days, self.channel)
        if key not in facts.cache:
            facts.cache[key] = pluginfacts.compute(facts, self.source, self.window_days, self.channel)
        return facts.cache[key]

    def explain(self, facts, row):
        self._values(facts)
        failure = facts.plugin_failures.get(self.fact)
        if failure is None:
            return super().explain(facts, row)
        held = bool(self.evaluate(facts)[row])
        return (f"{self.label()}: {'yes' if held else 'no'} (is unknown: plugin "
                f"{failure.plugin or '?'} could not compute it)")


def _exp(scale) -> int:
    return len(str(int(scale))) - 1


def _compare(values, op, value):
    if op == "eq":
        return values == value
    if op == "ne":
        return values != value
    if op == "lt":
        return values < value
    if op == "lte":
        return values <= value
    if op == "gt":
        return values > value
    if op == "gte":
        return values >= value
    if op == "between":
        return (values >= value[0]) & (values <= value[1])
    result = np.zeros(len(values), dtype=bool)
    for item in value:
        result |= values == item
    return result if op == "in" else ~result


def _money_test(minor, scale, op, value):
    """Compare integer minor units with decimal thresholds, exactly, per currency scale."""
    if op == "between":
        return _money_test(minor, scale, "gte", value[0]) & _money_test(minor, scale, "lte", value[1])
    out = np.zeros(len(minor), dtype=bool)
    for s in np.unique(scale):
        sel = scale == s
        t = value * int(s)           # Decimal: exact threshold in minor units
        whole = t == t.to_integral_value()
        bound = {"lt": ceil(t), "gte": ceil(t), "lte": floor(t), "gt": floor(t)}.get(op, int(t))
        if op in ("eq", "ne"):
            hit = (minor[sel] == int(t)) if whole else np.zeros(int(sel.sum()), bool)
            out[sel] = hit if op == "eq" else ~hit
        else:
            out[sel] = _compare(minor[sel], op, bound)
    return out


def _set_test(values, fact, member):
    if fact in ("opted_out", "reachable"):
        return (values >> KIND_CODES[member]) & 1 == 1
    return np.fromiter(map(contains, values, repeat(member)), dtype=bool, count=len(values))


def compile_condition(spec, facts: dict | None = None) -> Node:
    """Compile a validated condition mapping into a Node.

    `facts`: plugin facts by name (see `arrears.engine.facts.pluginfacts.catalogue`) the condition may use.
    """
    if "all" in spec:
        return All([compile_condition(s, facts) for s in spec["all"]])
    if "any" in spec:
        return Any([compile_condition(s, facts) for s in spec["any"]])
    if "not" in spec:
        return Not(compile_condition(spec["not"], facts))
    if "segment" in spec:
        return Segment(spec["segment"])
    fact = spec["fact"]
    op = next(k for k in spec if k not in ("fact", "window_days", "channel"))
    source = None if fact in FACTS else (facts or {}).get(fact)
    if fact not in FACTS and source is None:
        raise ArrearsError(f"fact {fact!r} is neither built in nor provided by a loaded plugin")
    kind = FACTS[fact].kind if source is None else source.definition.kind
    value = spec[op]
    if kind == MONEY and op != "exists":
        value = ([parse_amount(v, fact) for v in value] if op == "between"
                 else parse_amount(value, fact))
    elif kind in (INT, NUMBER) and op in ("in", "not_in", "between"):
        value = list(value)
    elif kind == BOOL and op != "exists":
        value = bool(value)
    elif kind == STRING and op in ("in", "not_in"):
        value = list(value)
    window = spec.get("window_days", PARAM_DEFAULTS["window_days"])
    if source is not None:
        return PluginLeaf(source, op, value, window, spec.get("channel"))
    return Leaf(fact, op, value, window, spec.get("channel"))


TRUE = All([])
