"""POST JSON to an HTTP endpoint and classify the reply as a `DeliveryResult`.

Shared by the SMS, webhook and print-provider channels, and free for plugins to use.
Classification: 2xx is sent; 408, 425, 429, 5xx, timeouts and connection errors are
retryable; every other status (4xx, an unexpected redirect) is permanent. Redirects are
not followed: a POST that is redirected has not been delivered. A retryable reply with a
`Retry-After` header (delay-seconds or an HTTP-date) carries that time as the result's
`retry_at`: the host tries again then, without counting the try.
"""
from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from arrears.plugins.message import DeliveryResult

RETRYABLE_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "arrears-delivery/0.1"


@dataclass(frozen=True)
class HttpReply:
    """A status, body and headers, or (status None) the network error that prevented one.

    `headers` maps lower-case header names to values (the last one if a header repeats).
    """

    status: int | None
    body: bytes = b""
    error: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The value of header `name` (any case), or None."""
        return self.headers.get(name.lower())

    def retry_at(self, now: datetime) -> datetime | None:
        """When `Retry-After` asks to be tried again (seconds after `now`, or an HTTP-date),
        never before `now`; None without a readable header."""
        return parse_retry_after(self.header("Retry-After"), now)


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """A `Retry-After` value (delay-seconds or HTTP-date, RFC 9110 10.2.3) as an aware UTC time,
    at the earliest `now`; None if it is missing or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return max(when, now)


def _headers(message) -> dict[str, str]:
    return {name.lower(): value for name, value in (message.items() if message is not None else ())}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None     # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: bytes, headers: dict[str, str] | None = None,
              timeout: float = 10.0) -> HttpReply:
    """POST `body` (already JSON-encoded bytes) to `url`; never raises."""
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", USER_AGENT)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return HttpReply(response.status, response.read(), headers=_headers(response.headers))
    except urllib.error.HTTPError as exc:
        try:
            payload = exc.read()
        except (OSError, http.client.HTTPException):
            payload = b""
        return HttpReply(exc.code, payload, headers=_headers(exc.headers))
    except urllib.error.URLError as exc:
        return HttpReply(None, error=f"cannot reach {_host(url)}: {exc.reason}")
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
        return HttpReply(None, error=f"request to {_host(url)} failed: {type(exc).__name__}: {exc}")


def classify(reply: HttpReply, url: str, id_field: str | None = None,
             now: datetime | None = None) -> DeliveryResult:
    """Turn an `HttpReply` into a `DeliveryResult` (see the module docstring); `now` (the
    channel's `clock()`) is what a `Retry-After` in seconds counts from."""
    if reply.status is None:
        return DeliveryResult.retryable(reply.error or "no response")
    where = f"HTTP {reply.status} from {_host(url)}"
    if 200 <= reply.status < 300:
        return DeliveryResult.sent(provider_id=_provider_id(reply.body, id_field), detail=where)
    text = reply.body[:300].decode("utf-8", "replace").strip()
    detail = f"{where}: {text}" if text else where
    if reply.status in RETRYABLE_STATUSES or reply.status >= 500:
        retry_at = reply.retry_at(now or datetime.now(UTC))
        if retry_at is not None:
            detail += f" (Retry-After: {reply.header('Retry-After')})"
        return DeliveryResult.retryable(detail, retry_at=retry_at)
    if 300 <= reply.status < 400:
        detail += " (redirects are not followed; configure the final URL)"
    return DeliveryResult.permanent(detail)


def deliver_json(url: str, payload, *, headers: dict[str, str] | None = None,
                 timeout: float = 10.0, id_field: str | None = None,
                 now: datetime | None = None) -> DeliveryResult:
    """POST `payload` (a JSON-ready value, or bytes) and classify the reply; pass the
    channel's `self.clock()` as `now` so a `Retry-After` follows the host's time."""
    body = payload if isinstance(payload, bytes) else encode(payload)
    return classify(post_json(url, body, headers, timeout), url, id_field, now)


def encode(payload) -> bytes:
    """Compact, key-sorted UTF-8 JSON: the exact bytes that are sent (and signed)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def _provider_id(body: bytes, id_field: str | None) -> str | None:
    """The value at the dotted path `id_field` in a JSON reply, if there is one."""
    if not id_field or not body:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    for part in id_field.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def check_url(settings, key: str = "url", *, required: bool = True) -> str | None:
    """Read an http(s) URL setting, recording a problem if it is not one."""
    url = settings.str(key, required=required)
    if url is not None:
        parts = urlsplit(url)
        settings.require(parts.scheme in ("http", "https") and bool(parts.netloc),
                         f"{key} must be an http:// or https:// URL, got {url!r}")
    return url
