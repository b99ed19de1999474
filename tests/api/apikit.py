"""Helpers for the API tests: keys per role, request bodies, and a client that checks every
response against the OpenAPI document the app publishes.

(A module of its own, named so no other test directory's helpers clash with it.)
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

from jsonschema import Draft202012Validator

from arrears.engine.demo import generate

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)
AT = "2026-11-22T15:00:00Z"
KEYS = {"integrator": "integrator-key-000000000001", "compliance": "compliance-key-00000000002",
        "agent": "agent-key-000000000000000003", "admin": "admin-key-000000000000000004"}
ROLES = tuple(KEYS)

ACCOUNT = {
    "id": "ACME-0042", "currency": "GBP", "debtor_type": "business", "jurisdiction": "GB-ENG",
    "timezone": "Europe/London", "language": "en", "relationship_tier": "standard",
    "on_time_ratio": 0.82, "risk_score": 0.35, "account_manager": "Priya Shah",
    "contact": {"email": "accounts@acme.example", "phone": "+441632960001",
                "address": "Acme Ltd, 2 Dock Road, London"},
    "invoices": [{"id": "INV-1001", "amount": "4200.00", "issued_date": "2026-08-15", "due_date": "2026-09-14"},
                 {"id": "INV-1044", "amount": "860.50", "issued_date": "2026-09-20", "due_date": "2026-10-20"}],
}
EVENTS = [
    {"type": "contact_attempt", "at": "2026-09-20T09:00:00Z", "channel": "email", "stage": "friendly_reminder",
     "outcome": "sent"},
    {"type": "payment", "at": "2026-09-28T14:12:00Z", "amount": "1200.00", "invoice_id": "INV-1001"},
    {"type": "contact_attempt", "at": "2026-10-01T09:00:00Z", "channel": "email", "stage": "firm_reminder",
     "outcome": "sent"},
]


def account(**overrides) -> dict:
    """A copy of the example account JSON with `overrides` applied."""
    data = copy.deepcopy(ACCOUNT)
    data.update(overrides)
    return data


def events() -> list[dict]:
    """A copy of the example history."""
    return copy.deepcopy(EVENTS)


def call_account(i: int, **overrides) -> dict:
    """An account whose next action is a call (about 45 days late, phone known)."""
    return account(id=f"CALL-{i:03d}", debtor_type="consumer", jurisdiction=None,
                   invoices=[{"id": "I1", "amount": f"{300 + 100 * i}.00", "due_date": "2026-10-15"}],
                   **overrides)


def portfolio(n: int, seed: int = 5):
    """`n` generated accounts and histories (the demo generator's)."""
    return generate(n, seed=seed, today=NOW.date())


class Conformance:
    """Checks a response against the operation's documented responses."""

    def __init__(self, document: dict):
        self.doc = document
        self._cache: dict = {}

    def operation(self, method: str, rule: str) -> dict | None:
        """The documented operation for a Flask rule (`/v1/accounts/<account_id>`)."""
        path = rule.replace("<", "{").replace(">", "}")
        return self.doc["paths"].get(path, {}).get(method.lower())

    def check(self, method: str, rule: str, response) -> None:
        """Assert the status is documented and the body matches its schema."""
        op = self.operation(method, rule)
        assert op is not None, f"{method} {rule} is not documented"
        spec = op["responses"].get(str(response.status_code)) or op["responses"]["default"]
        content = spec.get("content", {})
        if not content:
            assert not response.data, f"{response.status_code} should have no body"
            return
        media = response.mimetype
        assert media in content, f"{method} {rule} {response.status_code}: {media} not in {list(content)}"
        if media == "text/plain":
            return
        schema = content[media]["schema"]
        key = json.dumps(schema, sort_keys=True)
        if key not in self._cache:
            self._cache[key] = Draft202012Validator({"components": self.doc["components"], **schema})
        errors = sorted(self._cache[key].iter_errors(response.get_json()), key=str)
        assert not errors, f"{method} {rule} {response.status_code}: {errors[0]}"


class Api:
    """A Flask test client that authenticates as a role and checks every response."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.conformance = Conformance(app.extensions["arrears"].document)
        self.state = app.extensions["arrears"]

    def request(self, method: str, path: str, *, role: str | None = "admin", json_body=None, data=None,
                headers=None, content_type=None, check: bool = True):
        """Send a request as `role` (None: no key); checks the response against the document."""
        all_headers = dict(headers or {})
        if role is not None:
            all_headers["Authorization"] = f"Bearer {KEYS[role]}"
        kwargs = {"headers": all_headers}
        if json_body is not None:
            kwargs["json"] = json_body
        if data is not None:
            kwargs["data"] = data
        if content_type is not None:
            kwargs["content_type"] = content_type
        response = self.client.open(path, method=method, **kwargs)
        if response.status_code >= 400 and path != "/healthz":
            assert response.mimetype == "application/problem+json", response.data[:200]
            problem = response.get_json()
            assert problem["status"] == response.status_code
            assert set(problem) >= {"type", "title", "status", "detail"}
        rule = self._rule(method, path)
        if check and rule is not None:
            self.conformance.check(method, rule, response)
        return response

    def _rule(self, method: str, path: str) -> str | None:
        adapter = self.app.url_map.bind("localhost")
        try:
            rule, _ = adapter.match(path.split("?")[0], method=method, return_rule=True)
        except Exception:
            return None
        return rule.rule

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, json_body=body, **kw)
