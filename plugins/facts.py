"""Facts contributed by plugins through `arrears_facts`, and their registry.

A `PluginFact` extends the engine's fact catalogue (`arrears.engine.facts.catalogue.FACTS`) with a
`compute` function. Its name is in the plugin namespace: `x_` then lower_snake_case,
by convention `x_<plugin>_<name>` (`x_crm_strategic`); built-in facts never start with
`x_`, so the two can never collide. `compute(facts, **params)` receives the engine's
batch `Facts` object (one row per account: `facts.n` rows, `facts.b` the columnar
batch with the account ids in `facts.b.ids`, `facts.now` epoch seconds) plus the
declared parameters, and returns a numpy column of length `facts.n`, in the
representation `arrears.engine.policy.conditions.column` uses for that kind:

    int     int64 array            number  float64 array (NaN: unknown)
    money   int64 minor units      string  object array of str (None: unknown)
    set     object array of frozensets      bool    bool array

An optional fact returns `(values, present)`, `present` a bool array saying which rows
have a value; comparisons are false where it is False. It is called once per batch
(and parameter set), never per account. If it raises or returns something else, the
engine treats the fact as unknown for the whole batch and records the failure
(`arrears.engine.facts.pluginfacts`); the traceback is logged to `arrears.plugins`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pluggy

from arrears.engine.facts.catalogue import (
    BOOL,
    INT,
    MONEY,
    NUMBER,
    OPERATORS,
    PARAM_DEFAULTS,
    SET,
    STRING,
    FactDef,
    valid_plugin_fact_name,
)
from arrears.plugins.errors import PluginError
from arrears.plugins.manager import call_each, get_plugin_manager

log = logging.getLogger("arrears.plugins")
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
    choices: tuple[str, ...] = ()    # string/set facts: the only values; conditions are checked
    plugin: str = ""          # filled in by plugin_facts()

    @property
    def definition(self) -> FactDef:
        """The `arrears.engine.facts.catalogue.FactDef` for schema, compiler and docs."""
        return FactDef(self.name, self.kind, self.description, tuple(self.params), self.optional,
                       self.plugin, tuple(self.choices))

    def column(self, facts, window_days: int | None = None, channel: str | None = None):
        """(values, present) for every account, checked; `present` may be None.

        Raises `PluginError` if `compute` raises (the traceback is logged) or returns a
        column of the wrong length or representation.
        """
        kwargs = {}
        if "window_days" in self.params:
            kwargs["window_days"] = PARAM_DEFAULTS["window_days"] if window_days is None else window_days
        if "channel" in self.params:
            kwargs["channel"] = channel
        try:
            out = self.compute(facts, **kwargs)
        except Exception as exc:
            log.warning("plugin %r: computing fact %r for %d accounts failed", self.plugin, self.name,
                        facts.n, exc_info=True)
            raise PluginError(f"fact {self.name!r} from plugin {self.plugin!r}: compute raised "
                              f"{type(exc).__name__}: {exc}") from exc
        values, present = out if isinstance(out, tuple) and len(out) == 2 else (out, None)
        return self._checked(np.asarray(values), None if present is None else np.asarray(present), facts.n)

    def _checked(self, values: np.ndarray, present: np.ndarray | None, n: int):
        where = f"fact {self.name!r} from plugin {self.plugin!r}"
        if values.ndim != 1 or (present is not None and present.ndim != 1):
            raise PluginError(f"{where} returned an array of shape {values.shape}; expected one "
                              f"value per account ({n})")
        if len(values) != n or (present is not None and len(present) != n):
            raise PluginError(f"{where} returned {len(values)} values for {n} accounts")
        if present is not None and present.dtype != bool:
            raise PluginError(f"{where}: `present` must be a bool array, not {present.dtype}")
        want = _DTYPES[self.kind]
        if self.kind == NUMBER and values.dtype.kind in "iu":
            values = values.astype(np.float64)          # whole numbers are numbers too
        elif self.kind == STRING and values.dtype.kind == "U":
            values = values.astype(object)
        if values.dtype.kind not in want:
            raise PluginError(f"{where} ({self.kind}) returned a column of {values.dtype}; "
                              f"expected {_DTYPE_NAMES[self.kind]}")
        return values, present


# numpy dtype kinds accepted per fact kind (`b` bool, `i`/`u` integers, `f` float, `O` object).
_DTYPES = {INT: "iu", MONEY: "iu", NUMBER: "f", STRING: "O", SET: "O", BOOL: "b"}
_DTYPE_NAMES = {INT: "int64", MONEY: "int64 minor units", NUMBER: "float64", STRING: "an object array of str",
                SET: "an object array of frozensets", BOOL: "a bool array"}


def _problems(fact) -> list[str]:
    if not isinstance(fact, PluginFact):
        return [f"returned {fact!r}, not an arrears.plugins.facts.PluginFact"]
    out = []
    if not valid_plugin_fact_name(fact.name):
        out.append(f"fact name {fact.name!r} must be x_ then lower_snake_case, such as "
                   f"'x_<plugin>_<name>': plugin facts live in the x_ namespace")
    if fact.kind not in OPERATORS:
        out.append(f"fact {fact.name!r}: kind {fact.kind!r} is not one of {', '.join(OPERATORS)}")
    if not (fact.description or "").strip():
        out.append(f"fact {fact.name!r} needs a description")
    if not callable(fact.compute):
        out.append(f"fact {fact.name!r}: compute is not callable")
    bad = [p for p in fact.params if p not in PARAMS]
    if bad:
        out.append(f"fact {fact.name!r}: unknown params {bad}; allowed: {', '.join(PARAMS)}")
    out += _choice_problems(fact)
    return out


def _choice_problems(fact: PluginFact) -> list[str]:
    choices = fact.choices
    if not choices:
        return []
    if fact.kind not in (STRING, SET):
        return [f"fact {fact.name!r}: choices apply to string and set facts, not {fact.kind}"]
    if isinstance(choices, str) or not all(isinstance(c, str) and c for c in choices):
        return [f"fact {fact.name!r}: choices must be a list of non-empty strings"]
    return []


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
                                        tuple(fact.params), fact.optional, tuple(fact.choices), plugin)
    if problems:
        raise PluginError("bad plugin facts:\n" + "\n".join(f"  - {p}" for p in problems))
    return out


def installed_facts(load_entrypoints: bool = True) -> dict[str, PluginFact]:
    """The plugin facts of a fresh manager: the built-ins and the installed plugins.

    What the CLI passes to `arrears.engine.policy.load.load_policy(..., facts=...)`. Raises
    `PluginError` if a plugin cannot be loaded or contributes a bad fact.
    """
    return plugin_facts(get_plugin_manager(load_entrypoints=load_entrypoints))
