"""A stage's template per channel kind, and who a template is written for.

A stage names one template for all its channels (`template: friendly_reminder`) or one per
channel kind (`template: {call: call_script, written: firm_reminder}`, where `written`
stands for every kind in `WRITTEN_KINDS` and a kind named itself wins over it). A template
is for the `debtor` (the default) or `internal` (a call script, a staff note). The rule this
module keeps: an internal template never goes out by a written channel, because there the
debtor would read it. The validator reports every breach at `file:line:col`; the compiler
resolves each stage channel's template once, so `decide` only indexes a tuple.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from arrears.engine.domain.model import WRITTEN_KINDS

DEBTOR, INTERNAL = "debtor", "internal"
AUDIENCES = (DEBTOR, INTERNAL)
WRITTEN = "written"


def template_for(spec, kind: str) -> str | None:
    """The template id stage template setting `spec` names for channel kind `kind` (None: none)."""
    if isinstance(spec, str):
        return spec
    if not isinstance(spec, Mapping):
        return None
    if isinstance(spec.get(kind), str):
        return spec[kind]
    if kind in WRITTEN_KINDS and isinstance(spec.get(WRITTEN), str):
        return spec[WRITTEN]
    return None


def audience_of(templates: Mapping, template_id: str) -> str:
    """`debtor` or `internal` for a template id of the policy's `templates` section."""
    spec = templates.get(template_id)
    return spec.get("audience", DEBTOR) if isinstance(spec, Mapping) else DEBTOR


def check_stage(stage: Mapping, path: tuple, channels: Mapping, templates: Mapping,
                add: Callable, unknown: Callable) -> None:
    """Report what is wrong with one stage's `template` setting.

    `channels` and `templates` are the policy's sections; `add(path, message, key=False)`
    and `unknown(what, name, known, path, key=False)` report a problem. Checked: every id
    exists; every channel of the stage has a template; no key names a kind the stage never
    uses; and no internal template goes out by a written channel.
    """
    spec = stage.get("template")
    label = stage.get("id") if isinstance(stage.get("id"), str) else "?"
    if isinstance(spec, str):
        if spec not in templates:
            unknown("template", spec, templates, path + ("template",))
            return
        where = {kind: path + ("template",) for kind in WRITTEN_KINDS}
    elif isinstance(spec, Mapping):
        for key, tid in spec.items():
            if isinstance(tid, str) and tid not in templates:
                unknown("template", tid, templates, path + ("template", key))
        where = {kind: path + ("template", kind if kind in spec else WRITTEN) for kind in WRITTEN_KINDS}
    else:
        return      # the schema has said what is wrong with it
    listed = stage.get("channels")
    kinds, resolved = {}, isinstance(listed, list)      # any other shape: the schema says so
    for name in listed if resolved else ():
        spec_c = channels.get(name) if isinstance(name, str) else None
        if isinstance(spec_c, Mapping) and isinstance(spec_c.get("kind"), str):
            kinds.setdefault(spec_c["kind"], name)
        else:
            resolved = False     # an unknown channel is reported on its own
    if isinstance(spec, Mapping) and resolved:
        _check_keys(spec, kinds, label, path, add)
    for kind, name in kinds.items():
        tid = template_for(spec, kind)
        if kind in WRITTEN_KINDS and tid in templates and audience_of(templates, tid) == INTERNAL:
            add(where[kind], f"stage {label!r} would send template {tid!r}, which is internal "
                             f"(audience: internal), to the debtor by channel {name!r} ({kind}); "
                             f"name a debtor template for it, e.g. template: {{{_example(spec, kinds)}}}")


def _check_keys(spec: Mapping, kinds: Mapping, label: str, path: tuple, add: Callable) -> None:
    """Every channel kind of the stage has a template; every key is used by some channel."""
    for kind, name in kinds.items():
        if template_for(spec, kind) is None:
            hint = f"'{kind}'" + (f" or '{WRITTEN}'" if kind in WRITTEN_KINDS else "")
            add(path + ("template",), f"stage {label!r} has no template for channel {name!r} ({kind}); "
                                      f"add {hint} under template")
    for key in spec:
        used = [k for k in kinds if k in WRITTEN_KINDS] if key == WRITTEN else [k for k in kinds if k == key]
        shadowed = key == WRITTEN and used and all(k in spec for k in used)
        if not used or shadowed:
            add(path + ("template", key), f"stage {label!r} has no channel that would use the {key!r} "
                                          f"template (its channel kinds: {', '.join(kinds) or 'none'})",
                key=True)


def _example(spec, kinds: Mapping) -> str:
    """The per-kind setting that keeps the stage's spoken/internal templates and fixes the rest."""
    kept = [f"{k}: {template_for(spec, k)}" for k in kinds
            if k not in WRITTEN_KINDS and template_for(spec, k) is not None]
    return ", ".join(kept + [f"{WRITTEN}: <a debtor template>"])
