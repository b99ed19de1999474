"""Payment links: a signed link to the creditor's payment page, one per message.

The payment page (``ARREARS_TEAMS_PAY_URL``, e.g. ``https://pay.example.com/p``) takes the
account, the amount, the currency, the expiry and an HMAC-SHA256 signature made with the
secret it shares with us (``ARREARS_TEAMS_PAY_SECRET``), so nobody can change the amount or
stretch the expiry. Without both variables the plugin mints no link and messages go out
without one.

The host calls `arrears_payment_link` only where a link may be shown (email, SMS, letter; an
account that may be asked to pay) and at most once per outbox message, reusing the stored
link on retries, so this stays a pure function of what it is given.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from datetime import UTC
from urllib.parse import urlencode

from arrears.plugins import hookimpl
from arrears.plugins.message import PaymentLink

URL_ENV = "ARREARS_TEAMS_PAY_URL"
SECRET_ENV = "ARREARS_TEAMS_PAY_SECRET"


def signed_url(base: str, secret: str, account: str, amount: dict, expires) -> str:
    """`base?account=…&amount=…&currency=…&expires=…&sig=…` (the signature covers the rest)."""
    fields = {"account": account, "amount": amount["amount"], "currency": amount["currency"],
              "expires": expires.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    query = urlencode(fields)
    sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{base}?{query}&sig={sig}"


@hookimpl
def arrears_payment_link(message, amount, expires_at):
    """A signed link for `amount`, valid until the expiry the host proposes (None: not set up)."""
    base, secret = os.environ.get(URL_ENV), os.environ.get(SECRET_ENV)
    if not base or not secret:
        return None
    return PaymentLink(url=signed_url(base, secret, message.account_id, amount, expires_at),
                       expires_at=expires_at)
