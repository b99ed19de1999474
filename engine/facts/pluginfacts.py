"""Facts added by plugins, as the engine sees them: named `x_…`, computed once per batch.

The plugin layer (`arrears.plugins.facts.PluginFact`, gathered by `arrears.plugins.facts.plugin_facts`)
hands the engine objects with a `definition` (an `arrears.engine.facts.catalogue.FactDef`) and a
`column(facts, window_days=None, channel=None)` method returning `(values, present)`.
That is all the engine relies on, so the core never imports the plugin layer:
`load_policy(..., facts=...)` checks conditions against the definitions, and a compiled
condition computes each plugin fact's column once per batch and parameter set.

A plugin that fails to compute its column never stops an evaluation: the fact is
*unknown* for every account of that batch (every comparison false, `exists` false:
the rule for optional facts), the failure is kept on the batch's `Facts`
(`plugin_failures`), and each decision's trace says so.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from arrears.engine.domain.errors import ArrearsError
from arrears.engine.facts.catalogue import (
    BOOL,
    FACTS,
    NUMBER,
    SET,
    STRING,
    FactDef,
    is_plugin_fact,
    valid_plugin_fact_name,
)

HOOK = "arrears_facts"


class FactSource(Protocol):
    """What the engine needs from a plugin fact (`arrears.plugins.facts.PluginFact` is one)."""

    @property
    def definition(self) -> FactDef: ...

    def column(self, facts, window_days: int | None = None, channel: str | None = None): ...


@dataclass(frozen=True)
class FactFailure:
    """A plugin fact that could not be computed for a batch, and why."""

    fact: str
    plugin: str
    error: str

    def to_dict(self) -> dict:
        """JSON-ready form, in the shape of the tick's other plugin failures."""
        return {"plugin": self.plugin, "hook": HOOK, "fact": self.fact, "error": self.error}


def catalogue(facts: Mapping[str, FactSource] | Iterable[FactSource] | None) -> dict[str, FactSource]:
    """Plugin facts by name, from a mapping (as `plugin_facts(pm)` returns) or an iterable.

    Raises `ArrearsError` for an object without a definition, a name outside the `x_`
    namespace, or a name given twice: the caller passed something other than facts
    gathered by `arrears.plugins.facts.plugin_facts`, which checks all that already.
    """
    if facts is None:
        return {}
    items = facts.values() if isinstance(facts, Mapping) else facts
    out: dict[str, FactSource] = {}
    for source in items:
        definition = getattr(source, "definition", None)
        if not isinstance(definition, FactDef) or not callable(getattr(source, "column", None)):
            raise ArrearsError(f"not a plugin fact (no definition and column()): {source!r}")
        name = definition.name
        if not valid_plugin_fact_name(name) or name in FACTS:
            raise ArrearsError(f"plugin fact {name!r} must be named x_ then lower_snake_case")
        if name in out:
            raise ArrearsError(f"plugin fact {name!r} is given twice")
        out[name] = source
    return out


def definitions(sources: Mapping[str, FactSource]) -> dict[str, FactDef]:
    """The definitions of `sources`, by name."""
    return {name: source.definition for name, source in sources.items()}


def referenced(node) -> list[str]:
    """Plugin fact names used by the conditions anywhere in a policy document, in order."""
    found: dict[str, None] = {}
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if is_plugin_fact(item.get("fact")):
                found[item["fact"]] = None
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return list(found)


def unknown_column(kind: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Placeholder values of the right representation, none of them present."""
    if kind == NUMBER:
        values = np.full(n, np.nan)
    elif kind == BOOL:
        values = np.zeros(n, dtype=bool)
    elif kind in (STRING, SET):
        values = np.empty(n, dtype=object)
        values[:] = [None if kind == STRING else frozenset()] * n
    else:                                   # int, money
        values = np.zeros(n, dtype=np.int64)
    return values, np.zeros(n, dtype=bool)


def compute(facts, source: FactSource, window_days: int | None, channel: str | None):
    """`(values, present)` of a plugin fact for the batch behind `facts`.

    Any exception (the plugin's, or a malformed result) is recorded in
    `facts.plugin_failures` and the fact is unknown for the whole batch.
    """
    definition = source.definition
    try:
        values, present = source.column(facts, window_days=window_days, channel=channel)
        if len(values) != facts.n or (present is not None and len(present) != facts.n):
            raise ArrearsError(f"fact {definition.name!r} from plugin {definition.plugin!r} "
                               f"returned {len(values)} values for {facts.n} accounts")
    except Exception as exc:  # noqa: BLE001  (a plugin must never stop an evaluation)
        # Arrears' own errors (the plugin layer's PluginError) name the fact and the plugin.
        error = str(exc) if isinstance(exc, ArrearsError) else \
            f"fact {definition.name!r} from plugin {definition.plugin!r}: {type(exc).__name__}: {exc}"
        facts.plugin_failures[definition.name] = FactFailure(definition.name, definition.plugin, error)
        return unknown_column(definition.kind, facts.n)
    return values, present
