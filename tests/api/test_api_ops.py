"""Operations: health, metrics, the OpenAPI document, and the error handlers."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from sqlalchemy import create_engine

from arrears.api.resources import RESOURCES
from tests.api.apikit import AT, account


def test_healthz(api, state):
    r = api.get("/healthz", role=None)
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok" and body["schema_revision"]
    assert body["policy"]["digest"] == state.policies.active().digest


def test_healthz_when_the_database_is_gone(api, state, tmp_path, monkeypatch):
    broken = create_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    monkeypatch.setattr(state.store, "engine", broken)
    r = api.get("/healthz", role=None)
    assert r.status_code == 503
    assert r.get_json()["checks"]["database"]["status"] == "failing"


def test_metrics(api):
    api.post("/v1/decide", {"account": account(), "at": AT})
    api.post("/v1/decide", {"items": [{"account": account()}], "at": AT})
    api.get("/v1/accounts/NOPE")
    r = api.get("/metrics", role=None)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = r.data.decode()
    assert 'arrears_http_requests_total{method="POST",endpoint="/v1/decide",status="200"} 2' in text
    assert 'endpoint="/v1/accounts/<account_id>",status="404"} 1' in text
    assert 'arrears_decisions_total{source="decide"} 1' in text
    assert 'arrears_decisions_total{source="decide_batch"} 1' in text
    assert re.search(r'arrears_http_request_duration_seconds_bucket\{method="POST",endpoint="/v1/decide",'
                     r'le="\+Inf"\} 2', text)
    assert "arrears_active_policy_info{digest=" in text
    for line in text.splitlines():        # every sample line parses as name{labels} value
        assert line.startswith("#") or re.fullmatch(r'[a-z_]+(\{[^}]*\})? [0-9.e+-]+', line), line


def test_the_openapi_document_is_valid_and_complete(app, api):
    doc = api.get("/v1/openapi.json", role=None).get_json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    # every route but the web console's pages (not an API: docs/console.md)
    routed = {(m, r.rule.replace("<", "{").replace(">", "}")) for r in app.url_map.iter_rules()
              if r.endpoint != "static" and not r.endpoint.startswith("console_")
              for m in r.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert doc["components"]["schemas"]["DecideBatchRequest"]["properties"]["items"]["maxItems"] == 100


def test_every_operation_is_described_from_its_route_spec(api):
    doc = api.get("/v1/openapi.json").get_json()
    for op in (op for r in RESOURCES for op in r.operations):
        entry = doc["paths"][op.path][op.method.lower()]
        assert entry["summary"] == op.summary
        assert ("security" in entry and entry["security"] == []) == (op.roles is None)


def test_unknown_paths_and_methods(api):
    r = api.get("/v2/nothing")
    assert r.status_code == 404 and r.get_json()["type"] == "urn:arrears:problem:not-found"
    r = api.request("DELETE", "/v1/decide")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    assert r.mimetype == "application/problem+json"


def test_an_unexpected_error_is_a_500_problem_without_details(api, state, monkeypatch):
    def boom():
        raise RuntimeError("secret internals")
    monkeypatch.setattr(state.policies, "active", boom)
    r = api.post("/v1/decide", {"account": account()})
    assert r.status_code == 500
    assert r.get_json()["type"] == "urn:arrears:problem:internal"
    assert "secret" not in r.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/healthz", "/metrics", "/v1/openapi.json"])
def test_open_endpoints_need_no_key(api, path):
    assert api.get(path, role=None).status_code == 200


def test_the_guide_shows_every_endpoint():
    from tests.api.apikit import ROOT
    guide = (ROOT / "docs" / "api-guide.md").read_text(encoding="utf-8")
    for op in (op for r in RESOURCES for op in r.operations):
        pattern = re.sub(r"\\\{\w+\\\}", r"[^/\\s?\"`]+", re.escape(op.path)) + r"(?![\w/:])"
        assert re.search(pattern, guide), f"docs/api-guide.md does not show {op.method} {op.path}"


def test_serving_freezes_what_was_built_before_it(app):
    # `serve` moves the app built before it out of the cyclic collector's way (gc.freeze), so a
    # full collection under load walks only what requests made since. The `parent` hook runs
    # once the server listens; leaving from it stops the server.
    import contextlib
    import gc

    from arrears.api.server import serve
    seen = []

    @contextlib.contextmanager
    def parent():
        seen.append(gc.get_freeze_count())
        raise SystemExit
        yield

    gc.unfreeze()
    try:
        serve(app, "127.0.0.1", 0, threads=2, parent=parent)
    finally:
        gc.unfreeze()
    assert seen and seen[0] > 10_000
