"""Problem documents (RFC 9457): every error the API returns, in one shape.

    {"type": "urn:arrears:problem:invalid-input", "title": "Invalid input", "status": 422,
     "detail": "…", "errors": [{"pointer": "/account/invoices/1/due_date", "detail": "…"}]}

`errors` lists field errors: `pointer` (a JSON pointer into the request body),
`parameter` (a query parameter) or `header` (a request header), each with `detail`.
Views raise `ApiProblem`; `init_app` installs handlers that turn it, every werkzeug
`HTTPException` and the engine's own errors into such a document, so no error leaves
the API as HTML or as a bare 500. A database that fails (`StoreError`) is 503 `unavailable`
with `Retry-After` (a broken constraint, 409), its details logged, not sent.
"""
from __future__ import annotations

import json
import logging
import re

from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from arrears.engine.domain.errors import (
    ArrearsError,
    InputError,
    PolicyError,
    PolicyTampered,
    StoreConflict,
    StoreError,
    StoreLocked,
    StoreUnwritable,
)

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("arrears.api")

# type slug -> title; documented in docs/api-guide.md ("Problem documents").
TYPES = {
    "malformed-request": "Malformed request",
    "invalid-input": "Invalid input",
    "invalid-parameter": "Invalid query parameter",
    "unauthorized": "Authentication required",
    "forbidden": "Not allowed for this API key",
    "not-found": "Not found",
    "conflict": "Conflict",
    "invalid-policy": "Invalid policy",
    "invalid-experiment": "Invalid experiment file",
    "unavailable": "Service unavailable",
    "internal": "Internal error",
}


def type_uri(slug: str) -> str:
    """The `type` URI of a problem kind (`urn:arrears:problem:<slug>`)."""
    return f"urn:arrears:problem:{slug}"


class ApiProblem(Exception):
    """An error to answer with a problem document; raise it from any view."""

    def __init__(self, status: int, slug: str, detail: str, errors: list[dict] | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail
        self.errors, self.headers, self.extra = errors or [], headers or {}, extra

    def to_dict(self) -> dict:
        """The problem document."""
        doc = {"type": type_uri(self.slug), "title": TYPES[self.slug], "status": self.status,
               "detail": self.detail}
        if self.errors:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc


def escape_token(token) -> str:
    """One JSON-pointer reference token (RFC 6901: `~` -> `~0`, `/` -> `~1`)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(parts) -> str:
    """A JSON pointer from path parts (`("items", 3, "account")` -> `/items/3/account`)."""
    return "".join("/" + escape_token(p) for p in parts)


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def where_to_pointer(where: str) -> str:
    """The engine's field path (`account.invoices[1].due_date`) as a JSON pointer."""
    return pointer(m.group(1) or m.group(2) for m in _STEP.finditer(where or ""))


def input_message(exc: InputError) -> str:
    """An InputError's message without its `where:` prefix."""
    text = str(exc)
    prefix = f"{exc.where}: "
    return text[len(prefix):] if exc.where and text.startswith(prefix) else text


def invalid(errors: list[dict], detail: str | None = None) -> ApiProblem:
    """A 422 invalid-input problem for field errors."""
    if detail is None:
        first = errors[0]
        where = first.get("pointer") or first.get("parameter") or ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        detail = f"{where or 'the request body'}: {first['detail']}{more}"
    return ApiProblem(422, "invalid-input", detail, errors)


def from_input_error(exc: InputError, prefix: str = "") -> ApiProblem:
    """A 422 problem for an engine InputError; `prefix` is the pointer of the parsed value."""
    ptr = prefix + where_to_pointer(exc.where)
    return invalid([{"pointer": ptr, "detail": input_message(exc)}])


def policy_errors(exc: PolicyError) -> list[dict]:
    """A PolicyError's problems as field errors with line and column."""
    return [{"pointer": p.path, "line": p.line, "column": p.col, "detail": p.message}
            for p in exc.problems]


def response(doc: dict, status: int, headers=None) -> Response:
    """A problem document as a Flask response."""
    body = json.dumps(doc, separators=(",", ":"))     # ASCII: safe whatever the input echoed
    resp = Response(body, status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def _http_slug(status: int) -> str:
    return {400: "malformed-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
            409: "conflict", 422: "invalid-input", 503: "unavailable"}.get(status, "")


def handle_http(exc: HTTPException) -> Response:
    """Any werkzeug HTTPException (404, 405, 413, 415 …) as a problem document."""
    status = exc.code or 500
    slug = _http_slug(status)
    detail = exc.description or exc.name
    if status == 413 and detail == RequestEntityTooLarge.description:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        detail = (f"the body is larger than this server accepts: at most {limit} bytes "
                  "(api.max_body_bytes); send fewer items per request") if limit else detail
    doc = {"type": type_uri(slug) if slug else "about:blank",
           "title": TYPES[slug] if slug else exc.name, "status": status, "detail": detail}
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return response(doc, status, headers)


def handle_problem(exc: ApiProblem) -> Response:
    """An ApiProblem raised by a view."""
    return response(exc.to_dict(), exc.status, exc.headers)


def handle_input(exc: InputError) -> Response:
    """An engine InputError that no view caught: 422 with the field it names."""
    return handle_problem(from_input_error(exc))


def handle_policy(exc: PolicyError) -> Response:
    """A PolicyError that no view caught: 422 with every problem."""
    return handle_problem(ApiProblem(422, "invalid-policy", "the policy is not valid",
                                     policy_errors(exc)))


def handle_store(exc: StoreError) -> Response:
    """A database failure no view caught: 503 `unavailable` with `Retry-After` (409 for a broken
    constraint); nothing was changed, since the transaction rolled back. The message, which
    names the database, is logged, not sent; a write refused for a full disk or a read-only
    database is also noted for `/healthz` (`ApiState.note_unwritable`)."""
    if isinstance(exc, StoreConflict):
        log.warning("database: %s", exc)
        return handle_problem(ApiProblem(409, "conflict", "the request conflicts with stored data; "
                                                          "nothing was changed"))
    log.error("database: %s", exc)
    if isinstance(exc, StoreUnwritable):
        state = current_app.extensions.get("arrears")
        if state is not None:
            state.note_unwritable()
        detail, retry = "the database cannot be written now (disk full or read-only)", 30
    elif isinstance(exc, StoreLocked):
        detail, retry = "the database is busy", 1
    else:
        detail, retry = "the database cannot be used now", 30
    return handle_problem(ApiProblem(503, "unavailable", f"{detail}; nothing was changed; retry later",
                                     headers={"Retry-After": str(retry)}))


def handle_tampered(exc: PolicyTampered) -> Response:
    """The stored policy was edited in the database: 503, nothing decided (fail closed)."""
    return response({"type": type_uri("unavailable"), "title": TYPES["unavailable"], "status": 503,
                     "detail": f"the active policy is refused: {exc}"}, 503)


def handle_unexpected(exc: Exception) -> Response:
    """Anything else: logged with its traceback, answered as a 500 problem without details."""
    if isinstance(exc, HTTPException):
        return handle_http(exc)
    if isinstance(exc, ArrearsError) and not isinstance(exc, (InputError, PolicyError)):
        log.error("engine error: %s", exc)
    else:
        log.exception("unhandled error")
    return response({"type": type_uri("internal"), "title": TYPES["internal"], "status": 500,
                     "detail": "an unexpected error occurred; it has been logged"}, 500)


def init_app(app: Flask) -> None:
    """Install the JSON error handlers on `app`."""
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(ApiProblem, handle_problem)
    app.register_error_handler(InputError, handle_input)
    app.register_error_handler(PolicyError, handle_policy)
    app.register_error_handler(StoreError, handle_store)
    app.register_error_handler(PolicyTampered, handle_tampered)
    app.register_error_handler(Exception, handle_unexpected)
