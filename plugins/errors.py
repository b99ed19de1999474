"""Errors raised by the plugin layer; all derive from `arrears.engine.domain.errors.ArrearsError`.

Channels never raise these while delivering (they return a `DeliveryResult`); they are
raised at start-up (bad configuration, a plugin that cannot be loaded) and by the
renderer, whose caller turns them into a failed delivery.
"""
from __future__ import annotations

from arrears.engine.domain.errors import ArrearsError


class PluginError(ArrearsError):
    """A plugin could not be loaded, or returned something the host cannot use."""


class ChannelConfigError(PluginError):
    """Channel configuration is invalid; `problems` lists every problem found, each
    prefixed with the config key it concerns (``channels.email: host is required``)."""

    def __init__(self, kind: str | None, problems: list[str]):
        self.kind = kind
        self.problems = [p if kind is None else f"channels.{kind}: {p}" for p in problems]
        lines = "\n".join(f"  - {p}" for p in self.problems)
        what = f"channel {kind!r}" if kind else "channels"
        super().__init__(f"invalid configuration for {what}:\n{lines}")

    @classmethod
    def combine(cls, errors: list[ChannelConfigError]) -> ChannelConfigError:
        """One error carrying the problems of several."""
        return cls(None, [p for e in errors for p in e.problems])


class TemplateError(PluginError):
    """A message template is missing or failed to render.

    The message names the template id, the language, the channel kind, and (when the
    template itself is at fault) the template file and line.
    """

    def __init__(self, reason: str, *, template: str, language: str, kind: str,
                 file: str | None = None, line: int | None = None):
        self.template, self.language, self.kind = template, language, kind
        self.file, self.line, self.reason = file, line, reason
        where = f"template {template!r}, language {language!r}, channel kind {kind!r}"
        if file:
            where += f", file {file}" + (f" line {line}" if line else "")
        super().__init__(f"{where}: {reason}")
