"""Digests: what identifies a policy version and the profiles in force.

A digest is the SHA-256 of the canonical JSON of a document, so comments and formatting
do not change it but any change of meaning does. It never depends on which plugins are
loaded: the same text is the same policy version wherever it is stored.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal


def _json_default(value):
    if isinstance(value, (date, Decimal)):
        return str(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def digest_of(document: dict) -> str:
    """`sha256:<hex>` of the canonical JSON form of a policy document."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=_json_default)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def profiles_digest(profiles) -> str:
    """One digest over the profiles in force, for decisions to record."""
    joined = "\n".join(f"{p.id}:{p.digest}" for p in sorted(profiles, key=lambda p: p.id))
    return "sha256:" + hashlib.sha256(joined.encode()).hexdigest()
