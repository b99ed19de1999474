"""Render messages from Jinja2 templates in a sandbox, then enforce compliance content.

Templates are looked up, for template id T, language L and channel kind K, as
``T.L.K.html.j2``, ``T.L.K.j2`` then ``T.L.j2``, in the operator's `templates.dirs`,
then plugin directories (`arrears_template_dirs`), then the shipped defaults. A
template sets its subject with ``{% set subject = … %}``; what it outputs is the body,
HTML for `.html.j2` files (autoescaped), text otherwise. The environment is sandboxed
and undefined variables are errors.
"""
from __future__ import annotations

import re
import traceback
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
import pluggy
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from arrears.plugins.compliance import ENFORCED, as_html, enforce, standard_text
from arrears.plugins.errors import PluginError, TemplateError
from arrears.plugins.formatting import format_date, format_money
from arrears.plugins.manager import call_each
from arrears.plugins.message import Message, Rendered

SHIPPED = Path(str(files(__package__))) / "templates"
_HELPERS = {"opt_out": "opt_out_notice", "disclosure": "disclosure_notice",
            "validation_notice": "validation_notice"}


def candidates(template: str, language: str, kind: str, transport: str | None = None) -> list[str]:
    """Template file names tried for (template, language, kind), most specific first.

    `transport` is the channel kind actually delivering, when a route sends a policy
    channel through a plugin channel (e.g. `teams` for a `task` channel); its templates
    come first.
    """
    kinds = [transport, kind] if transport and transport != kind else [kind]
    names = [f"{template}.{language}.{k}.{ext}" for k in kinds for ext in ("html.j2", "j2")]
    return names + [f"{template}.{language}.j2"]


class Renderer:
    """Renders messages; one per service (the environment caches compiled templates)."""

    def __init__(self, dirs: Sequence[str | Path] = (), *, pm: pluggy.PluginManager | None = None,
                 compliance: Mapping[str, Mapping[str, str]] | None = None):
        self.pm = pm
        self.compliance = dict(compliance or {})
        self.dirs = [Path(d) for d in dirs] + [SHIPPED]
        self.env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader([str(d) for d in self.dirs]),
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html"),
                                                default_for_string=False, default=False))
        self.env.filters["money"] = _money_filter
        self.env.filters["date"] = _date_filter

    @classmethod
    def from_config(cls, pm: pluggy.PluginManager | None, config: Mapping[str, Any] | None) -> Renderer:
        """Build from the `templates` config table: `dirs` (list) and `compliance` texts."""
        config = dict(config or {})
        unknown = sorted(set(config) - {"dirs", "compliance"})
        dirs = config.get("dirs") or []
        if unknown or not isinstance(dirs, list):
            raise PluginError(f"templates: unknown setting(s) {unknown} or dirs not a list; "
                              f"allowed: dirs (list of directories), compliance (table)")
        plugin_dirs: list[Path] = []
        if pm is not None:
            for plugin, result in call_each(pm, "arrears_template_dirs"):
                if isinstance(result, Exception):
                    raise PluginError(f"plugin {plugin!r}: arrears_template_dirs raised {result!r}")
                plugin_dirs.extend(Path(d) for d in result or ())
        return cls([*dirs, *plugin_dirs], pm=pm, compliance=config.get("compliance"))

    def render(self, message: Message, transport: str | None = None) -> Message:
        """`message` with subject and body; raises `TemplateError` if it cannot be rendered.

        `transport`: the kind of the channel that will deliver it, if not `channel_kind`.
        """
        context = dict(message.context)
        rendered = None
        if self.pm is not None:
            rendered = self.pm.hook.arrears_render(message=message, template_id=message.template,
                                                   language=message.language, context=context)
            if isinstance(rendered, str):
                rendered = Rendered(body=rendered)
            elif rendered is not None and not isinstance(rendered, Rendered):
                raise TemplateError(f"an arrears_render plugin returned {rendered!r}", **self._where(message))
        if rendered is None:
            rendered = self._from_template(message, context, transport)
        rendered = enforce(rendered, message, self.compliance)
        subject = " ".join(rendered.subject.split()) if rendered.subject else None
        return message.with_rendering(subject, rendered.body, rendered.body_format)

    def _where(self, message: Message) -> dict:
        return {"template": message.template, "language": message.language, "kind": message.channel_kind}

    def _from_template(self, message: Message, context: dict, transport: str | None) -> Rendered:
        names = candidates(message.template, message.language, message.channel_kind, transport)
        try:
            template = self.env.select_template(names)
        except jinja2.TemplatesNotFound:
            raise TemplateError(f"no template found (looked for {', '.join(names)} in "
                                f"{', '.join(map(str, self.dirs))})", **self._where(message)) from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"syntax error: {exc.message}", file=exc.filename or exc.name,
                                line=exc.lineno, **self._where(message)) from None
        is_html = template.name.endswith(".html.j2")
        variables = {**context, **self._helpers(message, is_html)}
        try:
            try:
                module = template.make_module(variables)
            except Exception:  # noqa: BLE001  (re-raised below with template frames)
                self.env.handle_exception()     # re-raise with template file/line frames
        except Exception as exc:  # noqa: BLE001  (anything a template raises is its error)
            file, line = _template_frame(exc, template.filename)
            raise TemplateError(f"{type(exc).__name__}: {exc}", file=file, line=line,
                                **self._where(message)) from None
        body = re.sub(r"\n{3,}", "\n\n", str(module)).strip() + "\n"
        subject = getattr(module, "subject", None)
        if subject is not None:
            subject = Markup(subject).striptags() if is_html else str(subject)
        return Rendered(body=body, subject=subject, body_format="html" if is_html else "text")

    def _helpers(self, message: Message, is_html: bool) -> dict:
        """Per-message globals: the compliance text helpers, the recipient, the key."""
        def helper(flag):
            def notice():
                text = standard_text(flag, message, self.compliance)
                return Markup(as_html(flag, text)) if is_html else text
            return notice
        out = {name: helper(flag) for flag, name in _HELPERS.items() if flag in ENFORCED}
        out["recipient"] = {"email": message.recipient.email, "phone": message.recipient.phone,
                            "mobile": message.recipient.mobile, "address": message.recipient.address}
        out["idempotency_key"] = message.idempotency_key
        return out


@jinja2.pass_context
def _money_filter(ctx, value) -> str:
    """`{{ balance|money }}`: the amount formatted for the message's language."""
    return format_money(value, ctx.get("language") or "en")


@jinja2.pass_context
def _date_filter(ctx, value) -> str:
    """`{{ today|date }}`: the date written out in the message's language."""
    return format_date(value, ctx.get("language") or "en")


def _template_frame(exc: BaseException, default_file: str | None) -> tuple[str | None, int | None]:
    """The innermost template file and line in the traceback (Jinja rewrites frames)."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.filename or exc.name, exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.endswith(".py") and not f.filename.startswith("<")]
    if frames:
        return frames[-1].filename, frames[-1].lineno
    return default_file, getattr(exc, "lineno", None)
