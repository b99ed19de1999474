"""Query parameters and request headers, parsed by the schema their `Param` declares.

The schema is the one the OpenAPI document shows, so what is documented is what is
enforced: integers within `minimum`/`maximum`, booleans as `true` or `false`, strings
within `minLength`/`maxLength` or an `enum`, `format: date-time` as an RFC 3339 time
with an offset and `format: date` as YYYY-MM-DD (the engine's own patterns), `pattern`
as a regular expression. Unknown query parameters and repeated ones are refused (400), so a
typo never silently widens a query.
"""
from __future__ import annotations

import re
from datetime import datetime

from arrears.api.problems import ApiProblem, input_message
from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import parse_date, parse_instant

_INTEGER = re.compile(r"-?[0-9]{1,18}")


def parse_time(raw, where: str) -> datetime:
    """An RFC 3339 instant (years 1970-2199 as written: `INSTANT_PATTERN`); InputError naming
    `where` otherwise."""
    if not isinstance(raw, str):
        raise InputError(f"expected an RFC 3339 time such as 2026-11-22T15:00:00Z, got {raw!r}", where)
    return parse_instant(raw, where)


def convert(raw: str, schema: dict, where: str):
    """`raw` (a query or header string) converted and checked by `schema`; InputError if wrong."""
    kind = schema.get("type", "string")
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise InputError(f"expected true or false, got {raw[:40]!r}", where)
        return raw == "true"
    if kind == "integer":
        if not _INTEGER.fullmatch(raw):
            raise InputError(f"expected a whole number, got {raw[:40]!r}", where)
        value = int(raw)
        if "minimum" in schema and value < schema["minimum"]:
            raise InputError(f"must be at least {schema['minimum']}", where)
        if "maximum" in schema and value > schema["maximum"]:
            raise InputError(f"must be at most {schema['maximum']}", where)
        return value
    if "enum" in schema and raw not in schema["enum"]:
        raise InputError(f"expected one of {', '.join(map(str, schema['enum']))}; got {raw[:40]!r}", where)
    if schema.get("format") == "date-time":
        return parse_time(raw, where)
    if schema.get("format") == "date":
        return parse_date(raw, where)
    if len(raw) < schema.get("minLength", 0):
        raise InputError("must not be empty" if not raw else "is too short", where)
    if len(raw) > schema.get("maxLength", 10_000):
        raise InputError(f"must be at most {schema.get('maxLength', 10_000)} characters", where)
    if "pattern" in schema and not re.search(schema["pattern"], raw):
        described = f" ({schema['description']})" if schema.get("description") else ""
        raise InputError(f"{raw[:80]!r} does not match {schema['pattern'][:200]}{described}", where)
    return raw


def parse_query(specs, args, settings) -> dict:
    """Parsed query parameters (defaults filled in); ApiProblem 400 listing every bad one."""
    known = {p.name: p for p in specs}
    errors, out = [], {}
    for name in args:
        if name not in known:
            allowed = ", ".join(known) or "none"
            errors.append({"parameter": name, "detail": f"unknown query parameter; allowed: {allowed}"})
        elif len(args.getlist(name)) > 1:
            errors.append({"parameter": name, "detail": "give this parameter at most once"})
    for name, spec in known.items():
        schema = spec.schema_for(settings)
        # `in` first: werkzeug's MultiDict.get builds and discards an exception per missing key
        raw = args.get(name) if name in args else None
        if raw is None:
            if spec.required:
                errors.append({"parameter": name, "detail": "is required"})
            out[name] = schema.get("default")
            continue
        try:
            out[name] = convert(raw, schema, name)
        except InputError as exc:
            errors.append({"parameter": name, "detail": input_message(exc)})
    if errors:
        first = errors[0]
        raise ApiProblem(400, "invalid-parameter", f"{first['parameter']}: {first['detail']}", errors)
    return out


def parse_headers(specs, headers, settings) -> dict:
    """Declared request headers, parsed; ApiProblem 400 if one is malformed."""
    out = {}
    for spec in specs:
        raw = headers.get(spec.name)
        if raw is None:
            if spec.required:
                raise ApiProblem(400, "malformed-request", f"the {spec.name} header is required",
                                 [{"header": spec.name, "detail": "is required"}])
            out[spec.name] = None
            continue
        try:
            out[spec.name] = convert(raw, spec.schema_for(settings), spec.name)
        except InputError as exc:
            detail = input_message(exc)
            raise ApiProblem(400, "malformed-request", f"{spec.name}: {detail}",
                             [{"header": spec.name, "detail": detail}]) from None
    return out
