"""Payment links: ask the `arrears_payment_link` plugin for one, once per outbox message.

The host decides whether a message may carry a link (a written channel, an account that may be
asked to pay, something to pay) and what for (the overdue balance, else the balance); the
plugin only mints it. The link goes into the template context as `payment_link`
(`{url, amount, expires_at}`), so templates show it and the outbox keeps it with the message:
the tick hands the stored link back on a retry (`stored`), and it is reused as long as its
amount and currency still match and it has not expired, so a retried message shows the same
link and the plugin is not asked again.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pluggy

from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.model import WRITTEN_KINDS, parse_instant
from arrears.plugins.message import Message, PaymentLink

LINK_VALID_DAYS = 14     # the expiry the host proposes, from the decision's time
HOOK = "arrears_payment_link"


def link_amount(message: Message) -> dict | None:
    """The money a link in `message` is for, or None when it may carry no link at all."""
    ctx = message.context
    if message.channel_kind not in WRITTEN_KINDS or not ctx.get("payable"):
        return None
    for key in ("overdue_balance", "balance"):
        money = ctx.get(key)
        if money and Decimal(str(money["amount"])) > 0:
            return {"amount": str(money["amount"]), "currency": money["currency"]}
    return None


def attach(pm: pluggy.PluginManager, message: Message,
           stored: dict | None = None) -> tuple[Message, str | None]:
    """`message` with `context["payment_link"]` set (or left None), and a plugin failure, if any.

    `stored`: the link kept with this outbox message by an earlier try; reused when still good.
    Never raises: a plugin that fails leaves the message without a link.
    """
    amount = link_amount(message)
    if amount is None:
        return _with(message, None), None
    evaluated = parse_instant(message.metadata.get("evaluated_at") or rfc3339(message.not_before),
                              "evaluated_at")
    if _still_good(stored, amount, evaluated):
        return _with(message, stored), None
    proposed = evaluated + timedelta(days=LINK_VALID_DAYS)
    try:
        result = getattr(pm.hook, HOOK)(message=message, amount=dict(amount), expires_at=proposed)
        link = _checked(result, evaluated)
    except Exception as exc:  # noqa: BLE001  (a plugin must never stop a message)
        return _with(message, None), f"{type(exc).__name__}: {exc}"
    if link is None:
        return _with(message, None), None
    return _with(message, {"url": link.url, "amount": amount,
                           "expires_at": rfc3339((link.expires_at or proposed).astimezone(UTC))}), None


def _with(message: Message, link: dict | None) -> Message:
    return replace(message, context={**message.context, "payment_link": link})


def _still_good(stored: dict | None, amount: dict, now: datetime) -> bool:
    """A stored link is reused while it is for the same money and has not expired."""
    if not isinstance(stored, dict) or stored.get("amount") != amount or not stored.get("url"):
        return False
    return parse_instant(stored["expires_at"], "payment_link.expires_at") > now


def _checked(result, now: datetime) -> PaymentLink | None:
    """The plugin's answer, or ValueError saying what is wrong with it."""
    if result is None:
        return None
    if not isinstance(result, PaymentLink):
        raise ValueError(f"{HOOK} returned {result!r}, not a PaymentLink")
    if not isinstance(result.url, str) or not result.url.startswith(("https://", "http://")):
        raise ValueError(f"{HOOK} returned url {result.url!r}, not an http(s) URL")
    expires = result.expires_at
    aware = isinstance(expires, datetime) and expires.tzinfo is not None
    if expires is not None and (not aware or expires <= now):
        raise ValueError(f"{HOOK} returned expires_at {expires!r}: must be an aware time after "
                         f"{rfc3339(now)}")
    return result
