"""Facts contributed by plugins through `arrears_facts`, and their registry.

A `PluginFact` extends the engine's fact catalogue (`engine.factdefs.FACTS`) with a
`compute` function. `compute(facts, **params)` receives the engine's batch `Facts`
object (one row per account: `facts.n` rows, `facts.b` the columnar batch, `facts.now`
epoch seconds) plus the declared parameters, and returns a numpy column of length
`facts.n`, in the representation `engine.conditions.column` uses for that kind:

    int     int64 array            number  float64 array (NaN: unknown)
    money   int64 minor units      string  object array of str (None: unknown)
    set     object array of frozensets      bool    bool array

An optional fact returns `(values, present)`, `present` a bool array saying which rows
have a value; comparisons are false where it is False.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pluggy

from engine.factdefs import FACTS, OPERATORS, PARAM_DEFAULTS, FactDef
from plugins.errors import PluginError
from plugins.manager import call_each

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PARAMS = ("window_days", "channel")


@dataclass(frozen=True)
class PluginFact:
    """A fact a plugin adds: its catalogue entry plus the function computing its column."""

    name: str
    kind: str
    description: str
    compute: Callable[..., np.ndarray | tuple[np.ndarray, np.ndarray]]
    params: tuple[str, ...] = ()
    optional: bool = False
    plugin: str = ""          # filled in by plugin_facts()

    @property
    def definition(self) -> FactDef:
        """The `engine.factdefs.FactDef` for schema, compiler and docs."""
        return FactDef(self.name, self.kind, self.description, tuple(self.params), self.optional)

    def column(self, facts, window_days: int | None = None, channel: str | None = None):
        """(values, present) for every account, checked for length; `present` may be None."""
        kwargs = {}
        if "window_days" in self.params:
            kwargs["window_days"] = PARAM_DEFAULTS["window_days"] if window_days is None else window_days
        if "channel" in self.params:
            kwargs["channel"] = channel
        out = self.compute(facts, **kwargs)
        values, present = out if isinstance(out, tuple) else (out, None)
        if len(values) != facts.n or (present is not None and len(present) != facts.n):
            raise PluginError(f"fact {self.name!r} from plugin {self.plugin!r} returned "
                              f"{len(values)} values for {facts.n} accounts")
        return values, present


def _problems(fact) -> list[str]:
    if not isinstance(fact, PluginFact):
        return [f"returned {fact!r}, not a plugins.facts.PluginFact"]
    out = []
    if not _NAME.match(fact.name or ""):
        out.append(f"fact name {fact.name!r} must be lower_snake_case")
    if fact.kind not in OPERATORS:
        out.append(f"fact {fact.name!r}: kind {fact.kind!r} is not one of {', '.join(OPERATORS)}")
    if not (fact.description or "").strip():
        out.append(f"fact {fact.name!r} needs a description")
    if not callable(fact.compute):
        out.append(f"fact {fact.name!r}: compute is not callable")
    bad = [p for p in fact.params if p not in PARAMS]
    if bad:
        out.append(f"fact {fact.name!r}: unknown params {bad}; allowed: {', '.join(PARAMS)}")
    if fact.name in FACTS:
        out.append(f"fact {fact.name!r} would shadow the built-in fact of that name")
    return out


def plugin_facts(pm: pluggy.PluginManager) -> dict[str, PluginFact]:
    """Every plugin fact by name, each tagged with its plugin.

    Raises `PluginError` listing every problem: a hook that raised, a malformed fact, a
    name defined twice or shadowing a built-in fact.
    """
    problems, out = [], {}
    for plugin, result in call_each(pm, "arrears_facts"):
        if isinstance(result, Exception):
            problems.append(f"plugin {plugin!r}: arrears_facts raised {type(result).__name__}: {result}")
            continue
        for fact in result or ():
            found = _problems(fact)
            if not found and fact.name in out:
                found = [f"fact {fact.name!r} is also defined by plugin {out[fact.name].plugin!r}"]
            if found:
                problems.extend(f"plugin {plugin!r}: {p}" for p in found)
                continue
            out[fact.name] = PluginFact(fact.name, fact.kind, fact.description, fact.compute,
                                        tuple(fact.params), fact.optional, plugin)
    if problems:
        raise PluginError("bad plugin facts:\n" + "\n".join(f"  - {p}" for p in problems))
    return out
