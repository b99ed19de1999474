"""Built-in `letter` channel: an HTML document spooled for printing, or sent to a print provider.

Settings (`channels.letter`), exactly one of:
  spool_dir      directory the documents are written to (created if missing)
  provider_url   a print provider's HTTP endpoint (JSON POST; `token`/`token_env`,
                 `timeout`, retry classification as for SMS)

A spooled letter is one file, `<idempotency key, percent-encoded>.html`, written to a
temporary name and then linked into place, so a reader never sees half a letter and a
second delivery of the same message finds the file there and does nothing.
"""
from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel, Settings
from arrears.plugins.channels.http import check_url, deliver_json
from arrears.plugins.message import DeliveryResult, Message


def spool_name(key: str) -> str:
    """A file name for an idempotency key: safe on every filesystem, reversible."""
    return quote(key, safe="").replace(".", "%2E") + ".html"


def document(message: Message, date_text: str) -> str:
    """The complete HTML letter: sender, recipient address, date, subject and body."""
    creditor = dict(message.context.get("creditor") or {})
    sender = "<br>".join(html.escape(str(creditor[k])) for k in ("name", "address") if creditor.get(k))
    address = "<br>".join(html.escape(line.strip())
                          for line in (message.recipient.address or "").replace(",", "\n").splitlines()
                          if line.strip())
    if message.body_format == "html":
        body = message.body
    else:
        body = "\n".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
                         for p in message.body.split("\n\n") if p.strip())
    subject = f"<h1>{html.escape(message.subject)}</h1>\n" if message.subject else ""
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(message.language)}">\n<head><meta charset="utf-8">'
            f"<title>{html.escape(message.idempotency_key)}</title></head>\n<body>\n"
            f'<div class="sender">{sender}</div>\n<div class="recipient">{address}</div>\n'
            f'<div class="date">{html.escape(date_text)}</div>\n{subject}'
            f'<div class="body">\n{body}\n</div>\n</body>\n</html>\n')


def spool(directory: Path, name: str, text: str) -> bool:
    """Write `text` to `directory/name` atomically; False if the file already exists."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, directory / name)     # atomic, and fails if the letter exists
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


class LetterChannel(Channel):
    """Letters: rendered documents for a print room or a print-and-post provider."""

    kind = "letter"
    name = "letter"

    def configure(self, settings) -> None:
        """Validate that exactly one of spool_dir and provider_url is given."""
        s = Settings(self.kind, settings)
        spool_dir = s.str("spool_dir")
        self.provider_url = check_url(s, "provider_url", required=False)
        self.token = s.secret("token")
        self.timeout = s.number("timeout", default=30.0)
        s.require(bool(spool_dir) != bool(self.provider_url),
                  "give exactly one of spool_dir (write letters to a directory) and "
                  "provider_url (send them to a print provider)")
        self.spool_dir = Path(spool_dir).expanduser() if spool_dir else None
        if self.spool_dir is not None and self.spool_dir.exists():
            s.require(self.spool_dir.is_dir(), f"spool_dir {spool_dir!r} is not a directory")
        s.check()
        self.configured = True

    def describe(self) -> str:
        """Where letters go."""
        target = getattr(self, "spool_dir", None) or getattr(self, "provider_url", None)
        return f"{self.name} -> {target or '(not configured)'}"

    def deliver(self, message: Message) -> DeliveryResult:
        """Spool the document (a no-op if already spooled) or hand it to the provider."""
        if not message.recipient.address:
            return DeliveryResult.permanent("the account has no postal address for a letter")
        if not message.body:
            return DeliveryResult.permanent("the message has no body to send")
        text = document(message, self.clock().date().isoformat())
        if self.spool_dir is None:
            headers = {"Idempotency-Key": message.idempotency_key}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            payload = {"idempotency_key": message.idempotency_key, "address": message.recipient.address,
                       "format": "html", "document": text}
            return deliver_json(self.provider_url, payload, headers=headers, timeout=self.timeout,
                                id_field="id", now=self.clock())
        name = spool_name(message.idempotency_key)
        try:
            written = spool(self.spool_dir, name, text)
        except OSError as exc:
            return DeliveryResult.retryable(f"cannot write to spool {self.spool_dir}: {exc}")
        return DeliveryResult.sent(provider_id=name,
                                   detail="spooled" if written else "already in the spool; not rewritten")


@hookimpl(trylast=True)
def arrears_channels():
    """The built-in letter channel."""
    return [LetterChannel()]
