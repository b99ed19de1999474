"""Build the OpenAPI 3.1 document from the resources' `Operation`s and the component schemas.

Nothing here is written twice: paths, parameters, bodies, roles and responses come
from the route specs the views are registered with; schemas from `arrears.api.openapi.model`
and `arrears.api.openapi.messages`. Error responses are added by rule (400 everywhere, 401/403/503 where a key
is needed, 404 where the path names something, 413/415/422 where there is a body), all
as problem documents with the headers they carry (`WWW-Authenticate`, `Retry-After`).
"""
from __future__ import annotations

from arrears.api.openapi.messages import components
from arrears.api.openapi.model import ref
from arrears.api.problems import MEDIA_TYPE as PROBLEM_MEDIA

VERSION = "0.1.0"
INFO = {
    "title": "Arrears API",
    "version": VERSION,
    "summary": "Collections-policy decisions over HTTP.",
    "description": (
        "Send accounts and events, read decisions with their explanations, manage policies. "
        "JSON in and out; money as decimal strings with a currency; times as RFC 3339. Every "
        "error is an RFC 9457 problem document. Authenticate with `Authorization: Bearer <key>`; "
        "a key has one role: integrator, compliance, agent or admin (admin may call everything). "
        "See docs/api-guide.md."),
    "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
}
ERRORS = {400: "Malformed request or query parameter (unknown or repeated parameters included; a "
               "`cursor` this server did not issue for this list and these filters)",
          401: "No valid API key", 403: "The key's role may not do this", 404: "Not found", 409: "Conflict",
          413: "The body is larger than the configured limit", 415: "Unsupported Content-Type",
          422: "The body is well-formed but invalid (see `errors`)",
          503: "Not available now: the store cannot be read or written, or the server is overloaded or "
               "shutting down; retry later (`Retry-After`, when given)"}
# Headers every response of a status may carry.
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"},
                               "description": "The authentication scheme: `Bearer realm=\"arrears\"`."}},
    503: {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"},
                          "description": "Seconds to wait before retrying, when known."}},
}


# On every response (api/requestids.py).
REQUEST_ID = {"X-Request-Id": {
    "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:@/+=-]{1,128}$"},
    "description": "The request's id, also in the server's log lines: the caller's own `X-Request-Id` "
                   "when it is 1-128 characters of letters, digits and `._:@/+=-`, else one the server "
                   "made (32 hex digits)."}}


def _problem(status: int) -> dict:
    return {"description": ERRORS.get(status, "Error"),
            "content": {PROBLEM_MEDIA: {"schema": ref("Problem")}},
            "headers": {**ERROR_HEADERS.get(status, {}), **REQUEST_ID}}


def _parameters(op, settings) -> list[dict]:
    out = [{"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}} for name in op.path_args]
    for where, specs in (("query", op.query), ("header", op.headers)):
        out += [{"name": p.name, "in": where, "required": p.required, "description": p.description,
                 "schema": p.schema_for(settings)} for p in specs]
    return out


def _responses(op) -> dict:
    out = {}
    for status, spec in sorted(op.responses.items()):
        description, schema = spec[0], spec[1]
        media = spec[2] if len(spec) > 2 else ("application/json" if status < 400 else PROBLEM_MEDIA)
        out[str(status)] = {"description": description}
        if schema is not None:
            out[str(status)]["content"] = {media: {"schema": schema}}
        out[str(status)]["headers"] = {**op.response_headers.get(status, {}), **ERROR_HEADERS.get(status, {}),
                                       **REQUEST_ID}
    errors = [400]
    if op.roles is not None:
        errors += [401, 403, 503]      # 503: every keyed operation reads or writes the store
    if op.path_args:
        errors.append(404)
    if op.body:
        errors += [413, 415, 422]
    for status in errors:
        out.setdefault(str(status), _problem(status))
    out["default"] = {"description": "Any other error",
                      "content": {PROBLEM_MEDIA: {"schema": ref("Problem")}}, "headers": REQUEST_ID}
    return out


def _body(op) -> dict:
    refs = [ref(name) for _, name in op.body]
    schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
    return {"required": True, "content": {media: {"schema": schema} for media in op.body_media}}


def operation(op, settings) -> dict:
    """The OpenAPI Operation Object of one route spec."""
    roles = None if op.roles is None else list(dict.fromkeys([*op.roles, "admin"]))
    text = op.description
    if roles:
        text = (text + "\n\n" if text else "") + f"Roles: {', '.join(roles)}."
    out = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag],
           "parameters": _parameters(op, settings), "responses": _responses(op)}
    if text:
        out["description"] = text
    if op.body:
        out["requestBody"] = _body(op)
    if roles is None:
        out["security"] = []
    else:
        out["x-roles"] = roles
    return out


def build(resources, settings) -> dict:
    """The whole document for `resources` under `settings`."""
    paths: dict = {}
    tags: dict = {}
    for resource in resources:
        tags.setdefault(resource.tag, resource.description)
        for op in resource.operations:
            paths.setdefault(op.path, {})[op.method.lower()] = operation(op, settings)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": [{"name": name, "description": text} for name, text in tags.items()],
        "paths": paths,
        "components": {
            "schemas": components(settings),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API key: `Authorization: Bearer <key>`."}},
        },
        "security": [{"bearerAuth": []}],
    }
