"""Opaque cursors for keyset pagination.

A cursor is base64url JSON of the last row's sort key plus a fingerprint of the list
and its filters, so a cursor from one query cannot silently page through another:
using it with different filters (or a tampered one) is a 400 naming `cursor`.
"""
from __future__ import annotations

import base64
import hashlib
import json

from arrears.api.problems import ApiProblem


def _fingerprint(kind: str, filters: dict) -> str:
    text = json.dumps([kind, filters], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def encode(kind: str, filters: dict, key) -> str | None:
    """The cursor continuing after `key` (None: there is no next page)."""
    if key is None:
        return None
    text = json.dumps({"k": key, "f": _fingerprint(kind, filters)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _bad(detail: str) -> ApiProblem:
    return ApiProblem(400, "invalid-parameter", f"cursor: {detail}",
                      [{"parameter": "cursor", "detail": detail}])


def decode(kind: str, filters: dict, token: str | None, valid=lambda key: True):
    """The key a cursor continues after (None without a cursor); 400 if it is not one of ours,
    was made for other filters, or its key fails `valid`."""
    if token is None:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError):
        raise _bad("not a cursor this API issued") from None
    if not isinstance(data, dict) or "k" not in data or "f" not in data:
        raise _bad("not a cursor this API issued")
    if data["f"] != _fingerprint(kind, filters):
        raise _bad("this cursor belongs to a list with other filters; start again without it")
    if not valid(data["k"]):
        raise _bad("not a cursor this API issued")
    return data["k"]


def is_int(value) -> bool:
    """A JSON whole number (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2 ** 63


def is_number(value) -> bool:
    """A JSON number (not a boolean)."""
    return is_int(value) or (isinstance(value, float) and value == value and abs(value) < 1e300)


def int_pair(value) -> bool:
    """A [whole number, whole number] key."""
    return isinstance(value, list) and len(value) == 2 and all(is_int(v) for v in value)
