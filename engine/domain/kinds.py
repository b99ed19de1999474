"""Channel kinds: the built-in ones and those plugins add, in one append-only table.

A channel kind is what a policy's channel is (`channels: {wa: {kind: whatsapp}}`), what an
event's `channel` names and what the guardrails, KPIs and reports count by. The built-in
kinds come first, in a fixed order (their codes, `KIND_CODES`, are the positions the
column-wise engine uses); a plugin declares more through the `arrears_channel_kinds` hook
(`arrears.plugins.kinds`), and `register` appends them. Nothing is ever removed or
redefined: a plugin cannot redefine a built-in kind, and a kind registered again must be
declared on the same terms (by whichever plugin), so a code keeps its meaning for the life of
the process.

`CHANNEL_KINDS`, `KIND_CODES`, `WRITTEN_KINDS`, `DEBTOR_FACING_KINDS` (what a debtor's wish
can name) and `RETRY_AFTER_HOURS` are the tables every
other module reads (through `domain.model` and `domain.batch`, which re-export them); they
are extended in place, so a module that imported them sees the kinds registered later.
`BUILTIN_NAMES` (and the `BUILTIN_*` views) never change: the committed JSON Schemas are
generated from those.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from arrears.engine.domain.errors import ArrearsError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
# Contact details a kind can need to reach a debtor (`Contact` fields); None: always reachable.
REACH = ("email", "mobile", "phone", "address")
MAX_KINDS = 62          # reach and opt-out masks are int64 bit sets, one bit a kind


class KindError(ArrearsError):
    """A channel-kind declaration that cannot be registered (every problem, one per line)."""


@dataclass(frozen=True)
class ChannelKind:
    """One channel kind and how the engine treats it.

    `label`: the name KPIs and reports show (`WhatsApp`). `guardrail_class`: for a plugin's
    kind, the class of communication the jurisdiction profiles treat it as (`text_message`,
    `electronic`, …: each profile's `channel_classes` says which built-in kind's rules
    apply); None for the built-ins, which the profiles name themselves. `reach`: the contact
    detail it needs (one of REACH), or None when it always reaches (a webhook, an in-app
    inbox). `written`: it puts written words before the debtor (only debtor-facing templates,
    payment links). `debtor_facing`: it reaches the debtor at all (a CRM webhook or a staff
    task does not). `consent`: it may only be used once the debtor consented on it
    (`consent_given` event on the kind), wherever the debtor lives. `opt_out`: the opt-out
    wording by language (`en` is the fallback), placeholders as the compliance texts.
    """

    name: str
    label: str
    guardrail_class: str | None = None
    reach: str | None = None
    written: bool = True
    debtor_facing: bool = True
    consent: bool = False
    retry_after_hours: int = 24
    opt_out: Mapping[str, str] = field(default_factory=dict)
    plugin: str = ""

    def to_dict(self) -> dict:
        """JSON-ready form (`arrears plugins --format json`)."""
        return {"name": self.name, "label": self.label, "class": self.guardrail_class, "reach": self.reach,
                "written": self.written, "debtor_facing": self.debtor_facing, "consent": self.consent,
                "retry_after_hours": self.retry_after_hours, "opt_out": dict(self.opt_out),
                "plugin": self.plugin}

    def problems(self) -> list[str]:
        """What is wrong with this declaration (empty when it can be registered)."""
        out = []
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            out.append(f"name {self.name!r} must be lower_snake_case, 2 to 31 characters")
        if not isinstance(self.label, str) or not self.label.strip():
            out.append("label (the reporting name) must be a non-empty string")
        if self.guardrail_class is None or not NAME_PATTERN.match(str(self.guardrail_class)):
            out.append(f"guardrail_class {self.guardrail_class!r} must be lower_snake_case "
                       f"(text_message, electronic, …): the profiles say how each class is treated")
        if self.reach is not None and self.reach not in REACH:
            out.append(f"reach {self.reach!r} must be one of {', '.join(REACH)} or None")
        if not isinstance(self.retry_after_hours, int) or not 1 <= self.retry_after_hours <= 8760:
            out.append(f"retry_after_hours must be a whole number from 1 to 8760, got {self.retry_after_hours!r}")
        if not isinstance(self.opt_out, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in self.opt_out.items()):
            out.append("opt_out must map languages to non-empty texts")
        elif self.written and self.debtor_facing and "en" not in self.opt_out:
            out.append("opt_out needs an 'en' text (the fallback of every language)")
        return out


BUILTIN_KINDS = (
    ChannelKind("email", "email", reach="email", retry_after_hours=24),
    ChannelKind("sms", "sms", reach="mobile", retry_after_hours=24),
    ChannelKind("letter", "letter", reach="address", retry_after_hours=168),
    ChannelKind("call", "call", reach="phone", written=False, retry_after_hours=24),
    ChannelKind("webhook", "webhook", written=False, debtor_facing=False, retry_after_hours=1),
    ChannelKind("task", "task", written=False, debtor_facing=False, retry_after_hours=24),
)
BUILTIN_NAMES = tuple(k.name for k in BUILTIN_KINDS)
BUILTIN_WRITTEN = tuple(k.name for k in BUILTIN_KINDS if k.written)
BUILTIN_RETRY_HOURS = {k.name: k.retry_after_hours for k in BUILTIN_KINDS}
BUILTIN_DEBTOR_FACING = tuple(k.name for k in BUILTIN_KINDS if k.debtor_facing)

# The tables, extended in place by `register` (append-only).
KINDS: dict[str, ChannelKind] = {k.name: k for k in BUILTIN_KINDS}
CHANNEL_KINDS: list[str] = list(BUILTIN_NAMES)
KIND_CODES: dict[str, int] = {name: i for i, name in enumerate(CHANNEL_KINDS)}
WRITTEN_KINDS: list[str] = list(BUILTIN_WRITTEN)
DEBTOR_FACING_KINDS: list[str] = list(BUILTIN_DEBTOR_FACING)     # what a debtor's wish can name
RETRY_AFTER_HOURS: dict[str, int] = dict(BUILTIN_RETRY_HOURS)


def register(kinds: Iterable[ChannelKind]) -> tuple[ChannelKind, ...]:
    """Append plugin kinds to the tables; returns them. A kind already registered the same way
    is left as it is. Raises `KindError` listing every problem (and registers none): a bad
    declaration, a built-in's name, a name declared twice differently, too many kinds."""
    kinds = tuple(kinds)
    problems, new = [], {}
    for kind in kinds:
        who = f"channel kind {kind.name!r}" + (f" (plugin {kind.plugin!r})" if kind.plugin else "")
        bad = kind.problems()
        if bad:
            problems += [f"{who}: {p}" for p in bad]
        elif kind.name in BUILTIN_NAMES:
            problems.append(f"{who}: {kind.name!r} is a built-in kind; a plugin cannot redefine it "
                            f"(provide a channel of that kind to replace its transport instead)")
        elif (known := new.get(kind.name) or KINDS.get(kind.name)) is not None and \
                replace(known, plugin=kind.plugin) != kind:          # the same terms: the same kind
            problems.append(f"{who}: already declared differently"
                            + (f" by plugin {known.plugin!r}" if known.plugin else ""))
        else:
            new[kind.name] = kind
    fresh = [k for name, k in new.items() if name not in KINDS]
    if len(CHANNEL_KINDS) + len(fresh) > MAX_KINDS:
        problems.append(f"at most {MAX_KINDS} channel kinds in all; these plugins would make "
                        f"{len(CHANNEL_KINDS) + len(fresh)}")
    if problems:
        raise KindError("bad channel kinds:\n" + "\n".join(f"  - {p}" for p in problems))
    for kind in fresh:
        KINDS[kind.name] = kind
        KIND_CODES[kind.name] = len(CHANNEL_KINDS)
        CHANNEL_KINDS.append(kind.name)
        RETRY_AFTER_HOURS[kind.name] = kind.retry_after_hours
        if kind.written:
            WRITTEN_KINDS.append(kind.name)
        if kind.debtor_facing:
            DEBTOR_FACING_KINDS.append(kind.name)
    return kinds


def label(name: str) -> str:
    """The reporting name of kind `name` (the name itself for a kind not registered)."""
    kind = KINDS.get(name)
    return kind.label if kind else name


def codes_where(test) -> list[int]:
    """The codes of the registered kinds for which `test(kind)` holds."""
    return [KIND_CODES[name] for name, kind in KINDS.items() if test(kind)]


def reachable(details: Mapping[str, object]) -> frozenset[str]:
    """The kinds a contact with these details (`email`, `mobile`, …: truthy when held) reaches."""
    return frozenset(name for name, kind in KINDS.items()
                     if kind.reach is None or details.get(kind.reach)
                     or (kind.reach == "phone" and details.get("mobile")))
