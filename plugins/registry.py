"""Collect channels from the plugins and configure them from the service config.

`collect_channels(pm)` resolves which plugin provides each channel kind (the last one
registered wins; built-ins are registered first and marked `trylast`).
`configure_channels(pm, settings)` configures every kind that has a settings section and
reports all configuration problems together.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from arrears.plugins.channels import Channel
from arrears.plugins.errors import ChannelConfigError, PluginError
from arrears.plugins.manager import call_each


@dataclass(frozen=True)
class ChannelEntry:
    """The channel chosen for one kind, the plugin providing it, and those it overrode."""

    kind: str
    channel: Channel
    plugin: str
    overrides: tuple[str, ...] = ()


def collect_channels(pm: pluggy.PluginManager) -> dict[str, ChannelEntry]:
    """The winning channel per kind; raises `PluginError` listing every bad contribution."""
    results = list(call_each(pm, "arrears_channels"))
    problems, chosen = [], {}
    # call_each yields the last-registered plugin first and trylast built-ins last, so
    # walking it backwards lets later registrations replace earlier ones.
    for plugin, result in reversed(results):
        if isinstance(result, Exception):
            problems.append(f"plugin {plugin!r}: arrears_channels raised "
                            f"{type(result).__name__}: {result}")
            continue
        for channel in result or ():
            if not isinstance(channel, Channel) or not getattr(channel, "kind", ""):
                problems.append(f"plugin {plugin!r}: arrears_channels returned {channel!r}, not an "
                                f"arrears.plugins.channels.Channel with a kind")
                continue
            previous = chosen.get(channel.kind)
            overrides = (*previous.overrides, previous.plugin) if previous else ()
            chosen[channel.kind] = ChannelEntry(channel.kind, channel, plugin, overrides)
    if problems:
        raise PluginError("bad channel plugins:\n" + "\n".join(f"  - {p}" for p in problems))
    return dict(sorted(chosen.items()))


@dataclass
class ChannelSet:
    """Configured channels by kind, and the kinds left unconfigured (no settings section)."""

    entries: dict[str, ChannelEntry]
    configured: dict[str, Channel]

    @property
    def unconfigured(self) -> tuple[str, ...]:
        """Kinds a plugin provides but the config does not set up."""
        return tuple(k for k in self.entries if k not in self.configured)

    def get(self, kind: str) -> Channel | None:
        """The configured channel for `kind`, or None."""
        return self.configured.get(kind)


def configure_channels(pm: pluggy.PluginManager,
                       settings: Mapping[str, Mapping[str, Any]] | None) -> ChannelSet:
    """Configure each channel kind that has a section in `settings` (the `channels` table).

    Raises `ChannelConfigError` carrying the problems of every section at once, including
    sections for kinds no plugin provides.
    """
    entries = collect_channels(pm)
    settings = dict(settings or {})
    errors, configured = [], {}
    for kind, section in settings.items():
        entry = entries.get(kind)
        if entry is None:
            known = ", ".join(entries) or "none"
            problem = f"no plugin provides this channel kind (available: {known})"
            errors.append(ChannelConfigError(kind, [problem]))
            continue
        if not isinstance(section, Mapping):
            errors.append(ChannelConfigError(kind, [f"expected a table of settings, got {section!r}"]))
            continue
        try:
            entry.channel.configure(section)
        except ChannelConfigError as exc:
            errors.append(exc)
            continue
        except Exception as exc:  # noqa: BLE001  (a plugin bug must still read as a config problem)
            problem = f"{entry.plugin}: configure() raised {type(exc).__name__}: {exc}"
            errors.append(ChannelConfigError(kind, [problem]))
            continue
        configured[kind] = entry.channel
    if errors:
        raise ChannelConfigError.combine(errors)
    return ChannelSet(entries, configured)
