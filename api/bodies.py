"""Request bodies: read, decode and check the envelope against the operation's schema.

Envelopes (`{"items": [...], "at": ...}`) are checked with jsonschema against the
same component schemas the OpenAPI document publishes, with one substitution:
accounts and events inside them are only required to be objects here, because the
engine's own parsers check those (faster, and with messages naming the field).
Every envelope problem is reported at once, each with its JSON pointer.
"""
from __future__ import annotations

import json
import re

import orjson
from flask import request
from jsonschema import Draft202012Validator
from werkzeug.exceptions import RequestEntityTooLarge

from arrears.api.openapi.model import ENGINE_PARSED
from arrears.api.problems import ApiProblem, input_message, invalid, pointer
from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import DATE_PATTERN, INSTANT_PATTERN, parse_date, parse_instant
from arrears.engine.policy.yamlsrc import MAX_BYTES as MAX_YAML_BYTES

YAML_MEDIA = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def inline(schema, components: dict, depth: int = 0):
    """`schema` with every `#/components/schemas/…` reference replaced by its target.

    The envelopes are not recursive; a self-contained schema validates about three
    times faster than one that resolves references on every call.
    """
    if depth > 20:
        raise ValueError("schema references nest too deeply (a cycle?)")
    if isinstance(schema, dict):
        if "$ref" in schema:
            return inline(components[schema["$ref"].rsplit("/", 1)[1]], components, depth + 1)
        return {k: inline(v, components, depth) for k, v in schema.items()}
    if isinstance(schema, list):
        return [inline(v, components, depth) for v in schema]
    return schema


def envelope_validators(components: dict) -> dict[str, Draft202012Validator]:
    """A validator per component, with engine-parsed components loosened to `object`."""
    loose = {name: ({"type": "object"} if name in ENGINE_PARSED else schema)
             for name, schema in components.items()}
    return {name: Draft202012Validator(inline(schema, loose)) for name, schema in loose.items()}


def strict_validator(components: dict, name: str) -> Draft202012Validator:
    """A validator of component `name` exactly as the document publishes it (not loosened),
    formats included (a `date` of 2026-11-31 fails it, as it fails a client's validator)."""
    return Draft202012Validator(inline(components[name], components),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every request (json.loads with options would build one per call).
_decode = json.JSONDecoder(parse_constant=_reject_constant).decode
# A run of 19 digits or more: orjson reads an integer outside 64 bits as a float, the standard
# library as an int (which the engine then refuses, naming the field). Found as 19 zeros once
# every digit is a zero (2 us on a decision request; a regular expression takes 45).
_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def decode_json(data: bytes):
    """Parse JSON text; ApiProblem 400 if it is not UTF-8 JSON (NaN and Infinity refused).

    orjson parses (about twice as fast as the standard library on a decision request); a text
    it refuses, or one with a number of 19 digits or more, is parsed by the standard library,
    so what is accepted, its values and every error message are the standard library's."""
    if not data.strip():
        raise ApiProblem(400, "malformed-request", "a JSON request body is required")
    if _LONG_NUMBER not in data.translate(_DIGITS_AS_ZEROS):
        try:
            return orjson.loads(data)       # strict JSON: no NaN, no lone surrogate, UTF-8 only
        except orjson.JSONDecodeError:
            pass
    try:
        value = _decode(data.decode("utf-8"))
        if _SURROGATE_ESCAPE.search(data):
            # \ud800-\udfff escapes decode to unpaired surrogates, which no database or
            # response can encode; a proper pair survives this round trip.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except UnicodeEncodeError:
        raise ApiProblem(400, "malformed-request",
                         "the request body is not valid JSON text: it escapes an unpaired surrogate") from None
    except UnicodeDecodeError:
        raise ApiProblem(400, "malformed-request", "the request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ApiProblem(400, "malformed-request",
                         f"the request body is not valid JSON: {exc.msg} (line {exc.lineno}, "
                         f"column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        text = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise ApiProblem(400, "malformed-request", f"the request body is not valid JSON: {text}") from None


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number"}.get(
        type(value), type(value).__name__)


# Patterns whose engine parser words the problem better than "does not match …".
_PARSERS = {INSTANT_PATTERN: parse_instant, DATE_PATTERN: parse_date}


def _pattern_detail(error) -> str:
    parse = _PARSERS.get(error.validator_value)
    if parse is not None:
        try:
            parse(error.instance, "")
        except InputError as exc:
            return input_message(exc)
    described = error.schema.get("description")
    text = f"{error.instance[:80]!r} does not match {error.validator_value[:200]}"
    return f"{text} ({described})" if described else text


def schema_errors(validator: Draft202012Validator, value) -> list[dict]:
    """Every envelope problem as {pointer, detail}, sorted by pointer."""
    out = []
    for error in validator.iter_errors(value):
        path = list(error.absolute_path)
        kind, inst = error.validator, error.instance
        if kind == "additionalProperties" and isinstance(inst, dict):
            allowed = sorted(error.schema.get("properties", {}))
            for key in inst:
                if key not in allowed:
                    out.append({"pointer": pointer(path + [key]),
                                "detail": f"unknown field; allowed: {', '.join(allowed)}"})
        elif kind == "required" and isinstance(inst, dict):
            out += [{"pointer": pointer(path + [key]), "detail": "is required"}
                    for key in error.validator_value if key not in inst]
        elif kind == "not" and isinstance(error.validator_value, dict) and "required" in error.validator_value:
            names = error.validator_value["required"]
            out.append({"pointer": pointer(path + [names[-1]]),
                        "detail": f"give either `{'` or `'.join(names)}`, not both"})
        elif kind == "pattern" and isinstance(inst, str):
            out.append({"pointer": pointer(path), "detail": _pattern_detail(error)})
        elif kind in ("maxItems", "minItems") and isinstance(inst, list):
            # The limit and the count, never the list itself (which may be thousands of items).
            bound = "at most" if kind == "maxItems" else "at least"
            out.append({"pointer": pointer(path),
                        "detail": f"give {bound} {error.validator_value} items; got {len(inst)}"})
        elif kind == "type":
            expected = error.validator_value
            names = " or ".join(expected) if isinstance(expected, list) else expected
            out.append({"pointer": pointer(path), "detail": f"expected {names}, got {_json_type(inst)}"})
        else:
            out.append({"pointer": pointer(path), "detail": error.message[:300]})
    unique = {(e["pointer"], e["detail"]): e for e in out}
    return [unique[k] for k in sorted(unique)]


def _media_ok(allowed) -> bool:
    mimetype = request.mimetype or ""
    if "application/json" in allowed and (mimetype == "application/json" or mimetype.endswith("+json")):
        return True
    return mimetype in allowed


def read(op, state):
    """The checked body of a request to `op`: (value, variant component name)."""
    if not _media_ok(op.body_media):
        raise ApiProblem(415, "malformed-request",
                         f"send the body as {' or '.join(op.body_media)} (Content-Type header)",
                         [{"header": "Content-Type", "detail": f"got {request.mimetype or 'none'}"}])
    yaml_body = op.body_media[0] != "application/json"
    if yaml_body:      # a policy text is at most 1 MiB: refuse a bigger body before reading it
        request.max_content_length = min(request.max_content_length or MAX_YAML_BYTES, MAX_YAML_BYTES)
    try:
        data = request.get_data(cache=False)     # werkzeug enforces the length limit here (413)
    except RequestEntityTooLarge:
        if not yaml_body:
            raise
        raise RequestEntityTooLarge(f"a policy text may be at most {MAX_YAML_BYTES} bytes (1 MiB)") from None
    if yaml_body:
        return data, None
    value = decode_json(data)
    variant = _variant(op.body, value)
    if op.fast_body is not None and op.fast_body(value, state.settings):
        return value, variant
    errors = schema_errors(state.validators[variant], value)
    if errors:
        raise invalid(errors)
    return value, variant


def _variant(choices, value) -> str:
    """The body variant: the first whose discriminating key is present, else the last."""
    for key, name in choices:
        if key is not None and isinstance(value, dict) and key in value:
            return name
    return choices[-1][1]
