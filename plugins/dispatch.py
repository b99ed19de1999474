"""The host side of delivery: what the tick calls to turn a decision into a sent message.

    pm = get_plugin_manager()
    dispatcher = Dispatcher(pm, config)                 # once, at start
    failures = dispatcher.notify_decision(decision)     # after persisting a decision
    message = dispatcher.compose(decision, account)     # pure; store message.to_dict() in the outbox
    message, failures = dispatcher.attach_payment_link(message, stored_link)   # once per outbox row
    result = dispatcher.deliver(message)                # never raises
    ...persist result, append contact_event(message, result, now) to history...
    failures += dispatcher.notify_delivery(rendered_message, result)

Acting once, retrying `failed_retryable` with backoff and re-checking an account before
sending are the tick's job; see docs/plugin-guide.md.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pluggy

from arrears.engine.domain.decision import Decision
from arrears.engine.domain.model import Account
from arrears.engine.domain.words import did_you_mean
from arrears.plugins import paylinks
from arrears.plugins.compose import build_message
from arrears.plugins.errors import ChannelConfigError, PluginError, TemplateError
from arrears.plugins.manager import call_each, register_kinds
from arrears.plugins.message import DeliveryResult, Message
from arrears.plugins.registry import ChannelSet, collect_channels, configure_channels
from arrears.plugins.rendering import Renderer


@dataclass(frozen=True)
class PluginFailure:
    """An observer hook that raised: which plugin, which hook, and what it raised."""

    plugin: str
    hook: str
    error: str

    def to_dict(self) -> dict:
        """JSON-ready form (for the audit log)."""
        return {"plugin": self.plugin, "hook": self.hook, "error": self.error}


class Dispatcher:
    """Configured channels and renderer, built once from the service config.

    `config` is the service configuration dict; the dispatcher reads `channels` (a table
    per channel kind), `routes` (policy channel name -> the channel kind that delivers
    it, e.g. ``{"review": "teams"}``; by default a message goes to the channel of its
    `channel_kind`), `templates` (`dirs`, `compliance`), `creditor` (name, address,
    phone, email, payment_url… available to templates) and `default_timezone`.
    `channel_names` (the policy's channel names) lets it refuse a route naming no channel.
    Raises `ChannelConfigError` listing every configuration problem at once (or
    `PluginError` for a plugin's `arrears_config` that raised) at construction, never later.
    """

    def __init__(self, pm: pluggy.PluginManager, config: Mapping[str, Any] | None = None, *,
                 channel_names: Iterable[str] | None = None):
        self.pm = pm
        self.config = dict(config or {})
        register_kinds(pm)             # plugins registered after the manager was built declare theirs now
        for plugin, out in call_each(pm, "arrears_config", config=self.config):
            if isinstance(out, Exception):
                raise PluginError(f"plugin {plugin!r}: arrears_config raised {type(out).__name__}: {out}")
        # Every problem of the configuration is reported at once, in one error.
        problems: list[str] = []
        try:
            self.channels: ChannelSet = configure_channels(pm, self.config.get("channels"))
        except ChannelConfigError as exc:
            problems += exc.problems
            self.channels = ChannelSet(collect_channels(pm), {})
        self.routes = self._routes(self.config.get("routes"), channel_names, problems)
        try:
            self.renderer = Renderer.from_config(pm, self.config.get("templates"))
        except PluginError as exc:
            problems.append(str(exc))
        self.creditor = dict(self.config.get("creditor") or {})
        self.default_timezone = self.config.get("default_timezone") or "UTC"
        try:
            ZoneInfo(self.default_timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            problems.append(f"default_timezone: {self.default_timezone!r} is not an IANA time zone")
        if problems:
            raise ChannelConfigError(None, problems)

    def _routes(self, routes, channel_names, problems: list[str]) -> dict[str, str]:
        """The `routes` table, checked: each kind is a configured channel and, when the
        policy's channel names are known, each name is one of them (a typo is refused rather
        than leaving the channel on its default transport)."""
        routes = routes or {}
        if not isinstance(routes, Mapping):
            problems.append(f"routes: expected a table of channel name -> kind, got {routes!r}")
            return {}
        sections = set(self.config.get("channels") or {})
        names = None if channel_names is None else sorted(channel_names)
        for name, kind in routes.items():
            if names is not None and name not in names:
                problems.append(f"routes.{name}: the policy has no channel of that name"
                                f"{did_you_mean(name, names)} (channels: {', '.join(names)})")
            # (a section that failed to configure is reported already)
            if self.channels.get(kind) is None and kind not in sections:
                problems.append(f"routes.{name}: no configured channel of kind {kind!r} (configured: "
                                f"{', '.join(self.channels.configured) or 'none'})")
        return dict(routes)

    def set_clock(self, clock) -> None:
        """Make every configured channel's `clock` return what `clock()` returns (the tick's
        `now`, so a simulated tick's channels stamp and schedule in simulated time)."""
        for channel in self.channels.configured.values():
            channel.clock = clock

    def transport(self, message: Message) -> str:
        """The kind of channel that delivers `message` (its route, else its channel kind)."""
        return self.routes.get(message.channel, message.channel_kind)

    def compose(self, decision: Decision, account: Account) -> Message:
        """The unrendered message for the decision's action (ValueError if it has none)."""
        return build_message(decision, account, creditor=self.creditor,
                             default_timezone=self.default_timezone)

    def attach_payment_link(self, message: Message, stored: dict | None = None) -> tuple[Message, list]:
        """`message` with its payment link (see `arrears.plugins.paylinks`), and plugin failures.

        Call it after `compose` and before delivery; `stored` is the link an earlier try of the
        same outbox message carried (`message.context["payment_link"]`), reused while it holds.
        Never raises.
        """
        message, error = paylinks.attach(self.pm, message, stored)
        if error is None:
            return message, []
        names = [impl.plugin_name for impl in self.pm.hook.arrears_payment_link.get_hookimpls()]
        return message, [PluginFailure(", ".join(names) or "?", "arrears_payment_link", error)]

    def render(self, message: Message) -> Message:
        """The rendered message; raises `TemplateError`."""
        return self.renderer.render(message, self.transport(message))

    def deliver(self, message: Message) -> DeliveryResult:
        """Render (if needed) and deliver one message. Never raises.

        Order: render -> `arrears_deliver` (a plugin may take over) -> the channel for
        `message.channel_kind` (or its route). A template error is permanent; a missing or
        unconfigured channel, and an exception from a plugin, are retryable.
        """
        return self.deliver_rendered(message)[1]

    def deliver_rendered(self, message: Message) -> tuple[Message, DeliveryResult]:
        """Like `deliver`, also returning the rendered message (for observers and audit)."""
        if not message.rendered:
            try:
                message = self.render(message)
            except TemplateError as exc:
                return message, DeliveryResult.permanent(f"cannot render: {exc}")
            except Exception as exc:  # noqa: BLE001  (an arrears_render plugin crashed)
                return message, DeliveryResult.retryable(f"rendering failed: {type(exc).__name__}: {exc}")
        kind = self.transport(message)
        channel = self.channels.get(kind)
        if channel is None:
            why = ("is not configured (add a channels." + kind + " section)" if kind in self.channels.entries
                   else "is provided by no installed plugin")
            return message, DeliveryResult.retryable(f"channel kind {kind!r} {why}")
        try:
            result = self.pm.hook.arrears_deliver(message=message, channel=channel)
            if result is None:
                result = channel.deliver(message)
        except Exception as exc:  # noqa: BLE001  (a plugin must never crash the tick)
            return message, DeliveryResult.retryable(
                f"channel {kind!r} raised {type(exc).__name__}: {exc} (channels must return a result)")
        if not isinstance(result, DeliveryResult):
            return message, DeliveryResult.retryable(f"channel {kind!r} returned {result!r}, "
                                                     f"not a DeliveryResult")
        return message, result

    def notify_decision(self, decision: Decision) -> list[PluginFailure]:
        """Call every `arrears_decision` observer; return the failures (never raises)."""
        return self._observe("arrears_decision", decision=decision)

    def notify_delivery(self, message: Message, result: DeliveryResult) -> list[PluginFailure]:
        """Call every `arrears_delivery` observer; return the failures (never raises)."""
        return self._observe("arrears_delivery", message=message, result=result)

    def _observe(self, hook: str, **kwargs) -> list[PluginFailure]:
        return [PluginFailure(plugin, hook, f"{type(out).__name__}: {out}")
                for plugin, out in call_each(self.pm, hook, **kwargs) if isinstance(out, Exception)]
