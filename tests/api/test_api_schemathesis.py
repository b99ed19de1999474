"""Property-based API testing with schemathesis, through the app's WSGI interface.

For every operation of the published OpenAPI document and both generation modes,
schemathesis generates requests (valid ones; invalid ones in the negative mode), sends
them as admin, and checks that nothing answers 5xx, that every status code, content
type and body is the one documented, and that invalid data is refused. Bounded
(`MAX_EXAMPLES` per operation and mode) to keep the whole file near a minute.

(Hypothesis drives each operation directly: schemathesis's lazy `from_fixture`
loader does not run on pytest 9.)
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from arrears.api.resources import RESOURCES
from tests.api.apikit import KEYS, account
from tests.profiles import derandomize, examples

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("ARREARS_SCHEMATHESIS_EXAMPLES", "25"))    # raise it for a deeper run
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
OPERATIONS = [op for resource in RESOURCES for op in resource.operations]
# Negative data needs something to make invalid: a parameter or a JSON body.
CASES = [(op.method, op.path, mode) for op in OPERATIONS for mode in GenerationMode
         if mode is GenerationMode.POSITIVE or op.query or op.headers or op.path_args
         or (op.body and "application/json" in op.body_media)]
HEADERS = {"Authorization": f"Bearer {KEYS['admin']}"}


@pytest.fixture
def wsgi_schema(app, api):
    """The app's own OpenAPI document, loaded through WSGI, with a stored account to aim at."""
    api.put("/v1/accounts/ACME-0042", account())
    return schemathesis.openapi.from_wsgi("/v1/openapi.json", app)


@pytest.mark.parametrize("method, path, mode", CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_no_5xx_and_every_response_as_documented(wsgi_schema, method, path, mode):
    operation = wsgi_schema[path][method]

    @settings(max_examples=examples(MAX_EXAMPLES), deadline=None, database=None, derandomize=derandomize(),
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.call_and_validate(headers=HEADERS, checks=CHECKS)

    check()
