"""The plugin manager factory and what it can tell about loaded plugins.

There is no module-level manager: the service, the CLI and each test build their own
with `get_plugin_manager()`, so plugins never leak between them.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy

from arrears.engine.domain import kinds as channel_kinds
from arrears.plugins import hookspecs
from arrears.plugins.errors import PluginError

ENTRY_POINT_GROUP = "arrears"

# Built-in plugins, registered before entry points so any installed plugin overrides them.
BUILTIN_PLUGINS = (
    "arrears.plugins.channels.email",
    "arrears.plugins.channels.sms",
    "arrears.plugins.channels.webhook",
    "arrears.plugins.channels.letter",
    "arrears.plugins.channels.queue",
)


def get_plugin_manager(load_entrypoints: bool = True, *, builtins: bool = True) -> pluggy.PluginManager:
    """A new manager with the hook specs, the built-in plugins, then installed plugins.

    Installed plugins are those advertised in the `arrears` entry-point group. A plugin
    that fails to import or register raises `PluginError` naming the cause: it is better
    that the service refuses to start than that it runs without a channel it expects.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if builtins:
        for name in BUILTIN_PLUGINS:
            pm.register(importlib.import_module(name), name=name)
    if load_entrypoints:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:
            raise PluginError(f"cannot load a plugin from the {ENTRY_POINT_GROUP!r} entry-point "
                              f"group: {type(exc).__name__}: {exc}") from exc
        register_kinds(pm)
    return pm


def register_kinds(pm: pluggy.PluginManager) -> tuple[channel_kinds.ChannelKind, ...]:
    """The channel kinds the plugins of `pm` declare (`arrears_channel_kinds`), each marked with
    its plugin's name, appended to the engine's kind tables (`arrears.engine.domain.kinds`).
    `get_plugin_manager` calls it; call it again after registering more plugins (the test
    helper `plugin_manager` and the `Dispatcher` do): a kind already registered is left alone.
    Raises `PluginError` listing every bad declaration."""
    declared, problems = [], []
    for plugin, result in call_each(pm, "arrears_channel_kinds"):
        if isinstance(result, Exception):
            problems.append(f"plugin {plugin!r}: arrears_channel_kinds raised {type(result).__name__}: {result}")
            continue
        for kind in result or ():
            if not isinstance(kind, channel_kinds.ChannelKind):
                problems.append(f"plugin {plugin!r}: arrears_channel_kinds returned {kind!r}, not an "
                                f"arrears.plugins.kinds.ChannelKind")
            else:
                declared.append(kind if kind.plugin else replace(kind, plugin=plugin))
    if problems:
        raise PluginError("bad channel kinds:\n" + "\n".join(f"  - {p}" for p in problems))
    try:
        return channel_kinds.register(declared)
    except channel_kinds.KindError as exc:
        raise PluginError(str(exc)) from exc


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs) -> Iterator[tuple[str, Any]]:
    """Call each implementation of a hook separately, in pluggy's order, yielding
    (plugin name, result or raised exception).

    The host uses it where results must be attributed to a plugin, or one plugin's
    failure must not stop the others. Hook wrappers are skipped.
    """
    caller = getattr(pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):       # pluggy calls the list back to front
        if impl.hookwrapper or impl.wrapper:
            continue
        args = [kwargs[name] for name in impl.argnames]
        try:
            yield impl.plugin_name, impl.function(*args)
        except Exception as exc:  # noqa: BLE001  (the caller decides what a failure means)
            yield impl.plugin_name, exc


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin: its name, where it comes from, and the hooks it implements."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    builtin: bool
    hooks: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"name": self.name, "module": self.module, "distribution": self.distribution,
                "version": self.version, "builtin": self.builtin, "hooks": list(self.hooks)}


def list_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every registered plugin, built-ins first, then in registration order."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:          # blocked
            continue
        dist = dists.get(id(plugin))
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or ())
        module = getattr(plugin, "__name__", None) or type(plugin).__module__
        out.append(PluginInfo(name=name, module=module,
                              distribution=dist.metadata["name"] if dist else None,
                              version=dist.version if dist else None,
                              builtin=name in BUILTIN_PLUGINS, hooks=tuple(hooks)))
    return out
