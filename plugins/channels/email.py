"""Built-in `email` channel: send over SMTP with smtplib.

Settings (`channels.email`):
  host, port        SMTP server (host required; port defaults to 25, 587 with STARTTLS,
                    465 with SSL)
  security          none | starttls | ssl (default none)
  username          log in with this user and `password` (or `password_env`)
  from_address      envelope and header sender (required); `from_name` its display name
  reply_to          optional Reply-To address
  unsubscribe_url   https URL for List-Unsubscribe; `{account_id}` and
                    `{idempotency_key}` are filled in. Without it, a mailto: to the
                    sender with subject "unsubscribe" is used.
  message_id_domain right-hand side of Message-ID (default: the from_address domain)
  ca_file           CA bundle to trust for TLS (self-hosted relays)
  timeout           seconds (default 30)

The Message-ID is the idempotency key (percent-encoded to fit RFC 5322), repeated in
`X-Arrears-Idempotency-Key`, so a resend is recognisable downstream.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import quote

from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel, Settings
from arrears.plugins.channels.sms import plain_text
from arrears.plugins.message import DeliveryResult, Message

DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
# Replies about our own setup: authentication or STARTTLS required, credentials rejected.
SETUP_CODES = frozenset({530, 534, 535, 538})


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def message_id(key: str, domain: str) -> str:
    """`<key@domain>` with every character outside [A-Za-z0-9_-] percent-encoded."""
    return f"<{quote(key, safe='').replace('.', '%2E').replace('~', '%7E')}@{domain}>"


def classify_smtp(exc: Exception) -> DeliveryResult:
    """4xx replies, network and TLS errors are retryable; 5xx replies are permanent.

    Refusals of our own setup (login, STARTTLS or authentication required, the sender
    address) are retryable too: they are configuration problems, not the message's, and
    the message should go out once the configuration is fixed.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items())
        transient = all(400 <= c < 500 for c in codes)
        return (DeliveryResult.retryable if transient else DeliveryResult.permanent)(
            f"recipient refused: {detail}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryResult.retryable(f"SMTP login failed ({exc.smtp_code}); check username/password")
    if isinstance(exc, smtplib.SMTPSenderRefused) or (
            isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code in SETUP_CODES):
        return DeliveryResult.retryable(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)} "
                                        f"(check the channel's security, login and from_address)")
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
        return (DeliveryResult.permanent if 500 <= exc.smtp_code < 600 else DeliveryResult.retryable)(detail)
    return DeliveryResult.retryable(f"SMTP delivery failed: {type(exc).__name__}: {exc}")


class EmailChannel(Channel):
    """Email over SMTP, with STARTTLS or implicit TLS and optional login."""

    kind = "email"
    name = "email over SMTP"

    def configure(self, settings) -> None:
        """Validate server, security, credentials and sender settings."""
        s = Settings(self.kind, settings)
        self.host = s.str("host", required=True)
        self.security = s.str("security", default="none", choices=tuple(DEFAULT_PORTS))
        self.port = s.int("port", default=DEFAULT_PORTS.get(self.security, 25), minimum=1, maximum=65535)
        self.username = s.str("username")
        self.password = s.secret("password")
        s.require(not (self.username and not self.password), "username is set but password is not")
        self.from_address = s.str("from_address", required=True)
        s.require(self.from_address is None or "@" in self.from_address,
                  f"from_address must be an email address, got {self.from_address!r}")
        self.from_name = s.str("from_name")
        self.reply_to = s.str("reply_to")
        self.unsubscribe_url = s.str("unsubscribe_url")
        domain = (self.from_address or "@localhost").rpartition("@")[2] or "localhost"
        self.domain = s.str("message_id_domain", default=domain)
        self.ca_file = s.str("ca_file")
        self.timeout = s.number("timeout", default=30.0)
        s.check()
        self.configured = True

    def describe(self) -> str:
        """Where messages go."""
        return f"{self.name} -> {getattr(self, 'host', '?')}:{getattr(self, 'port', '?')} " \
               f"({getattr(self, 'security', '?')})"

    def build(self, message: Message) -> EmailMessage:
        """The MIME message for `message` (headers, text body, optional HTML part)."""
        mail = EmailMessage()
        mail["From"] = formataddr((self.from_name or "", self.from_address))
        mail["To"] = message.recipient.email
        mail["Subject"] = message.subject or ""
        mail["Date"] = format_datetime(self.clock())
        mail["Message-ID"] = message_id(message.idempotency_key, self.domain)
        mail["X-Arrears-Idempotency-Key"] = message.idempotency_key
        if self.reply_to:
            mail["Reply-To"] = self.reply_to
        if message.has("opt_out"):
            mail["List-Unsubscribe"] = self._unsubscribe(message)
            if self.unsubscribe_url and self.unsubscribe_url.startswith("https://"):
                mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail.set_content(plain_text(message.body, message.body_format))
        if message.body_format == "html":
            mail.add_alternative(message.body, subtype="html")
        return mail

    def _unsubscribe(self, message: Message) -> str:
        if self.unsubscribe_url:
            url = (self.unsubscribe_url.replace("{account_id}", quote(message.account_id, safe=""))
                   .replace("{idempotency_key}", quote(message.idempotency_key, safe="")))
            return f"<{url}>"
        return f"<mailto:{self.from_address}?subject=unsubscribe>"

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def deliver(self, message: Message) -> DeliveryResult:
        """Send one email; classify SMTP and network failures."""
        if not message.recipient.email:
            return DeliveryResult.permanent("the account has no email address")
        if not message.body:
            return DeliveryResult.permanent("the message has no body to send")
        try:
            mail = self.build(message)
        except (ValueError, TypeError, IndexError) as exc:   # a malformed address or header
            return DeliveryResult.permanent(f"cannot build the email: {exc}")
        try:
            if self.security == "ssl":
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                client.ehlo()
                if self.security == "starttls":
                    client.starttls(context=self._tls())
                    client.ehlo()
                if self.username:
                    client.login(self.username, self.password)
                client.send_message(mail, from_addr=self.from_address,
                                    to_addrs=[message.recipient.email])
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            return classify_smtp(exc)
        return DeliveryResult.sent(provider_id=mail["Message-ID"], detail=f"accepted by {self.host}")


@hookimpl(trylast=True)
def arrears_channels():
    """The built-in email channel."""
    return [EmailChannel()]
