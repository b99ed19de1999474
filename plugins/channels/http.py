"""POST JSON to an HTTP endpoint and classify the reply as a `DeliveryResult`.

Shared by the SMS, webhook and print-provider channels, and free for plugins to use.
Classification: 2xx is sent; 408, 425, 429, 5xx, timeouts and connection errors are
retryable; every other status (4xx, an unexpected redirect) is permanent. Redirects are
not followed: a POST that is redirected has not been delivered.
"""
from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from arrears.plugins.message import DeliveryResult

RETRYABLE_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "arrears-delivery/0.1"


@dataclass(frozen=True)
class HttpReply:
    """A status and body, or (status None) the network error that prevented one."""

    status: int | None
    body: bytes = b""
    error: str | None = None


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
            return HttpReply(response.status, response.read())
    except urllib.error.HTTPError as exc:
        try:
            payload = exc.read()
        except (OSError, http.client.HTTPException):
            payload = b""
        return HttpReply(exc.code, payload)
    except urllib.error.URLError as exc:
        return HttpReply(None, error=f"cannot reach {_host(url)}: {exc.reason}")
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
        return HttpReply(None, error=f"request to {_host(url)} failed: {type(exc).__name__}: {exc}")


def classify(reply: HttpReply, url: str, id_field: str | None = None) -> DeliveryResult:
    """Turn an `HttpReply` into a `DeliveryResult` (see the module docstring)."""
    if reply.status is None:
        return DeliveryResult.retryable(reply.error or "no response")
    where = f"HTTP {reply.status} from {_host(url)}"
    if 200 <= reply.status < 300:
        return DeliveryResult.sent(provider_id=_provider_id(reply.body, id_field), detail=where)
    text = reply.body[:300].decode("utf-8", "replace").strip()
    detail = f"{where}: {text}" if text else where
    if reply.status in RETRYABLE_STATUSES or reply.status >= 500:
        return DeliveryResult.retryable(detail)
    if 300 <= reply.status < 400:
        detail += " (redirects are not followed; configure the final URL)"
    return DeliveryResult.permanent(detail)


def deliver_json(url: str, payload, *, headers: dict[str, str] | None = None,
                 timeout: float = 10.0, id_field: str | None = None) -> DeliveryResult:
    """POST `payload` (a JSON-ready value, or bytes) and classify the reply."""
    body = payload if isinstance(payload, bytes) else encode(payload)
    return classify(post_json(url, body, headers, timeout), url, id_field)


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
