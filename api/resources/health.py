"""Operations: GET /healthz, GET /metrics, GET /v1/openapi.json (no API key needed)."""
from __future__ import annotations

import logging

from flask import Response

from arrears.api.metrics import CONTENT_TYPE
from arrears.api.openapi.model import ref
from arrears.api.resources.common import OPEN
from arrears.api.routing import Resource
from arrears.engine.domain.errors import ArrearsError, PolicyTampered, StoreError

resource = Resource("operations", "Operations", "Health, metrics and the API description.")
log = logging.getLogger("arrears.api")


def _database(state) -> tuple[dict, str | None]:
    try:
        revision = state.store.ping()
        problem = state.write_problem()
    except StoreError as exc:
        log.error("health check: database: %s", exc)
        return {"status": "failing", "detail": "the database cannot be reached"}, None
    if problem is not None:
        log.error("health check: database: %s", problem)
        return {"status": "failing", "detail": f"the database cannot be written: {problem}"}, revision
    return {"status": "ok"}, revision


def _policy(state) -> tuple[dict, dict | None]:
    try:
        p = state.policies.active(force=True)      # the store's truth now: a tampered text shows at once
    except PolicyTampered as exc:
        return {"status": "failing", "detail": f"the active policy is refused: {exc}"}, None
    except (ArrearsError, LookupError, StoreError) as exc:
        log.error("health check: policy: %s", exc)
        return {"status": "failing", "detail": "no usable active policy"}, None
    return {"status": "ok"}, {"name": p.name, "version": p.version, "digest": p.digest}


@resource.route("GET", "/healthz", roles=OPEN, summary="Liveness, database and active policy",
                operation_id="healthz",
                description="200 when the database answers, can be written (no full disk, not "
                            "read-only, no write refused for that in the last minute) and a policy "
                            "is active, else 503.",
                responses={200: ("Healthy", ref("Health")),
                           503: ("Not healthy", ref("Health"), "application/json")})
def healthz(call):
    """GET /healthz: liveness, database and active policy."""
    db, revision = _database(call.state)
    readable = db["status"] == "ok" or revision is not None      # a read-only database still has its policy
    pol, ref_ = _policy(call.state) if readable else ({"status": "failing"}, None)
    ok = db["status"] == pol["status"] == "ok"
    body = {"status": "ok" if ok else "failing", "checks": {"database": db, "policy": pol},
            "policy": ref_, "schema_revision": revision}
    return body, 200 if ok else 503


@resource.route("GET", "/metrics", roles=OPEN, summary="Prometheus metrics", operation_id="metrics",
                responses={200: ("Metrics in the Prometheus text format", {"type": "string"}, "text/plain")})
def metrics(call):
    """GET /metrics: Prometheus metrics."""
    state = call.state
    try:
        digest = state.policies.active().digest
    except (ArrearsError, LookupError, StoreError):
        digest = None
    text = state.metrics.render(digest)
    if state.settings.broker_url:           # the distributed tick: its queues, pages and workers
        from arrears.engine.tick.scalestatus import metric_lines, scale_status
        try:
            text += "\n".join(metric_lines(scale_status(state.store, state.settings.broker_url))) + "\n"
        except StoreError as exc:
            log.error("metrics: the distributed tick's pages: %s", exc)
    response = Response(text)
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


@resource.route("GET", "/v1/openapi.json", roles=OPEN, summary="This API's OpenAPI 3.1 description",
                operation_id="openapi", responses={200: ("The OpenAPI document", {"type": "object"})})
def openapi(call):
    """GET /v1/openapi.json: this API's OpenAPI 3.1 description."""
    return call.state.document
