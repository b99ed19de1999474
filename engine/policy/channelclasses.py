"""The channel kinds plugins add, as the jurisdiction profiles treat them.

A plugin declares each kind it adds with a guardrail class (`text_message`, `electronic`, …;
`arrears.engine.domain.kinds.ChannelKind`). Every profile says, in `channel_classes`, which
built-in kind's rules a kind of each class follows there (`text_message: sms`): a rule of the
profile that names `sms` then covers the plugin's `whatsapp` too (its frequency caps, contact
windows, opt-out content, consent, cease-communication exceptions). When a policy uses a
plugin kind whose class a loaded profile does not list, the policy does not load: the error
names the kind, its class and the profile, at the channel that uses it. Arrears does not
guess how the law treats a new kind of communication.

A kind that declares `consent=True` may go out only once the debtor consented on it, wherever
they live: `consent_rules` makes that a `consent_required` rule over every account.
"""
from __future__ import annotations

from dataclasses import replace

from arrears.engine.domain.errors import Problem
from arrears.engine.domain.kinds import BUILTIN_NAMES, KINDS, ChannelKind
from arrears.engine.guardrails.kinds.consent_required import ConsentRequired

CONSENT_PROFILE = "channel kinds"     # the profile name the kinds' own consent rules carry


def used_plugin_kinds(data) -> dict[str, tuple]:
    """Plugin kind name -> the document path of the first channel of a policy document that has
    it (kinds no plugin registered are left to the schema's check)."""
    out = {}
    channels = data.get("channels") if isinstance(data, dict) else None
    for name, spec in (channels or {}).items() if isinstance(channels, dict) else ():
        kind = spec.get("kind") if isinstance(spec, dict) else None
        if isinstance(kind, str) and kind not in BUILTIN_NAMES and kind in KINDS and kind not in out:
            out[kind] = ("channels", name, "kind")
    return out


def coverage_problems(profiles: dict, doc, filename: str) -> list[Problem]:
    """One problem per (plugin kind the policy document `doc` uses, loaded profile that does not
    say how its class is treated), located at the channel that uses the kind."""
    problems = []
    for name, path in used_plugin_kinds(doc.data).items():
        kind = KINDS[name]
        for profile in profiles.values():
            classes = dict(profile.classes)
            if kind.guardrail_class in classes:
                continue
            line, col = doc.position(path)
            listed = ", ".join(classes) or "none"
            problems.append(Problem(
                filename, line, col,
                f"channel kind {name!r} (plugin {kind.plugin or '?'}, class {kind.guardrail_class!r}): profile "
                f"{profile.id!r} ({profile.path}) does not say how a {kind.guardrail_class} is treated (its "
                f"channel_classes: {listed}); Arrears will not guess: the plugin must declare a class "
                f"the profiles cover", "/" + "/".join(map(str, path))))
    return problems


def treated(profiles: dict, used) -> dict:
    """The profiles with every rule that names a built-in kind also covering the plugin kinds in
    `used` that follow it there (by `channel_classes`); other profiles are returned as they are."""
    kinds = [KINDS[name] for name in used]
    out = {}
    for pid, profile in profiles.items():
        follows: dict[str, list[str]] = {}
        for kind in kinds:
            builtin = dict(profile.classes).get(kind.guardrail_class)
            if builtin is not None:
                follows.setdefault(builtin, []).append(kind.name)
        if not follows:
            out[pid] = profile
            continue
        rules = tuple(_widened(rule, follows) for rule in profile.rules)
        out[pid] = replace(profile, rules=rules)
    return out


def _widened(rule, follows: dict[str, list[str]]):
    """`rule` covering, besides its channels, the plugin kinds that follow one of them, and
    knowing which follow which (for a kind that names kinds in its code: `Rule.codes_of`)."""
    extra = [k for name in rule.channels for k in follows.get(name, ()) if k not in rule.channels]
    return replace(rule, channels=(*rule.channels, *dict.fromkeys(extra)),
                   followers=tuple((name, tuple(kinds)) for name, kinds in follows.items()))


def consent_rules(used) -> tuple:
    """A `consent_required` rule for each plugin kind in `used` that declares it needs consent."""
    return tuple(_consent(KINDS[name]) for name in used if KINDS[name].consent)


def _consent(kind: ChannelKind) -> ConsentRequired:
    return ConsentRequired(id=f"channel-kind.{kind.name.replace('_', '-')}-consent",
                           source=f"the {kind.label} channel's own terms (plugin {kind.plugin or '?'})",
                           profile=CONSENT_PROFILE, channels=(kind.name,),
                           note=f"{kind.label} messages need the debtor's consent on the channel "
                                f"(a consent_given event with channel {kind.name})")
