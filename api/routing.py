"""Route specs: one `Operation` per endpoint is both its Flask route and its OpenAPI entry.

    accounts = Resource("accounts", "Accounts", "Debtor accounts and their invoices.")

    @accounts.route("GET", "/v1/accounts/{account_id}", roles=INTEGRATOR, summary="…",
                    responses={200: ("The account", ref("AccountResource"))})
    def get_account(call, account_id): ...

The wrapper around each view authenticates the caller, checks the role, parses the
query parameters and headers by their schemas, reads and checks the JSON body
envelope, then calls the view with a `Call`. `arrears.api.openapi.document` builds the
OpenAPI document from the same `Operation`s, so the two cannot disagree.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson
from flask import Blueprint, Response, current_app, request

from arrears.api import bodies, params
from arrears.api.auth import Principal, require

JSON = "application/json"
_PATH_ARG = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Param:
    """A query parameter or request header. `schema` may be a function of the settings."""

    name: str
    schema: Any
    description: str
    required: bool = False

    def schema_for(self, settings) -> dict:
        """The parameter's schema under `settings`."""
        return self.schema(settings) if callable(self.schema) else self.schema


@dataclass(frozen=True)
class Operation:
    """One endpoint: method, path (OpenAPI form), who may call it, what goes in and out."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    roles: tuple[str, ...] | None          # None: open (no API key needed)
    responses: dict                        # status -> (description, schema or None[, media type])
    description: str = ""
    query: tuple[Param, ...] = ()
    headers: tuple[Param, ...] = ()
    body: tuple[tuple[str | None, str], ...] = ()   # (discriminating key or None, component name)
    body_media: tuple[str, ...] = (JSON,)
    response_headers: dict = field(default_factory=dict)   # status -> {header name: OpenAPI Header Object}
    # (body, settings) -> True only if the body surely matches its schema: lets a big, simple
    # envelope skip jsonschema; on False the schema is checked and its errors reported as usual.
    fast_body: Callable | None = None

    @property
    def path_args(self) -> list[str]:
        """Names of the path parameters, in order."""
        return _PATH_ARG.findall(self.path)

    @property
    def flask_rule(self) -> str:
        """The path as a Flask URL rule."""
        return _PATH_ARG.sub(r"<\1>", self.path)


@dataclass
class Call:
    """What a view receives besides its path arguments."""

    state: Any
    principal: Principal | None
    query: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    body: Any = None
    variant: str | None = None      # component name of the body variant that matched


class Resource:
    """A blueprint and the operations registered on it."""

    def __init__(self, name: str, tag: str, description: str):
        self.blueprint = Blueprint(name, __name__)
        self.tag, self.description = tag, description
        self.operations: list[Operation] = []

    def route(self, method: str, path: str, *, summary: str, roles, responses: dict,
              operation_id: str | None = None, **spec) -> Callable:
        """Register the decorated view as `method path` with this spec (see `Operation`)."""
        def decorate(view):
            op = Operation(method=method, path=path, operation_id=operation_id or view.__name__,
                           summary=summary, tag=self.tag, roles=roles, responses=responses, **spec)
            self.operations.append(op)
            self.blueprint.add_url_rule(op.flask_rule, endpoint=op.operation_id,
                                        view_func=_wrap(view, op), methods=[method])
            return view
        return decorate


def _wrap(view, op: Operation):
    @functools.wraps(view)
    def handle(**path_args):
        state = current_app.extensions["arrears"]
        principal = None
        if op.roles is not None:
            principal = state.keys.authenticate(request.headers.get("Authorization"))
            require(principal, op.roles)
        call = Call(state, principal)
        call.query = params.parse_query(op.query, request.args, state.settings)
        call.headers = params.parse_headers(op.headers, request.headers, state.settings)
        if op.body:
            call.body, call.variant = bodies.read(op, state)
        return to_response(view(call, **path_args))
    return handle


def dumps(payload) -> bytes:
    """Compact JSON as UTF-8 (text that UTF-8 cannot carry, such as a lone surrogate from a
    YAML escape, is written as a JSON escape instead).

    Written by orjson (a decision in about 1 us rather than 20); what orjson refuses (a lone
    surrogate, an integer beyond 64 bits, a key that is not a string) by the standard library."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        pass
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(payload, separators=(",", ":")).encode("ascii")


def to_response(result) -> Response:
    """A view's result as a response: a Response, or (payload[, status[, headers]])."""
    if isinstance(result, Response):
        return result
    parts = list(result) if isinstance(result, tuple) else [result]
    payload = parts[0]
    status = parts[1] if len(parts) > 1 else 200
    headers = parts[2] if len(parts) > 2 else None
    resp = Response(dumps(payload), status=status, mimetype=JSON)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp
