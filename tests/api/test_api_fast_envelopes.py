"""The decide envelope's fast path (`arrears.api.resources.decide.fast_envelope`) agrees with the
published schema: whatever it lets through, jsonschema finds nothing wrong with either, and every
body it does not take still gets jsonschema's problem document."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.api.bodies import envelope_validators, schema_errors
from arrears.api.config import load
from arrears.api.openapi.messages import components
from arrears.api.resources.decide import fast_envelope
from tests.api.apikit import account, events

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
OBJECT = st.dictionaries(st.sampled_from(["id", "currency", "x"]), SCALARS, max_size=2)
VALUES = st.one_of(SCALARS, OBJECT, st.lists(st.one_of(OBJECT, SCALARS), max_size=3))
ITEM = st.dictionaries(st.sampled_from(["account", "events", "at", "policy", "x"]),
                       st.one_of(VALUES, OBJECT, st.lists(OBJECT, max_size=3)), max_size=3)
BODY = st.one_of(ITEM, st.fixed_dictionaries({"items": st.one_of(VALUES, st.lists(ITEM, max_size=4))},
                                             optional={"at": VALUES, "candidate": VALUES}), VALUES)


SETTINGS = load({"api": {"max_batch_items": 3}})
VALIDATORS = envelope_validators(components(SETTINGS))


def _validator(state, body):
    validators = VALIDATORS if state is None else state.validators
    return validators["DecideBatchRequest" if isinstance(body, dict) and "items" in body else "DecideRequest"]


@settings(max_examples=400, deadline=None)
@given(BODY)
def test_what_the_fast_path_takes_the_schema_takes(body):
    if fast_envelope(body, SETTINGS):
        assert schema_errors(_validator(None, body), body) == []


def test_the_common_shapes_take_the_fast_path(state):
    one = {"account": account(), "events": events()}
    for body in (one, {"account": account()}, {"items": [one, one]}):
        assert fast_envelope(body, state.settings)
        assert schema_errors(_validator(state, body), body) == []


def test_other_shapes_go_to_the_schema(state):
    one = {"account": account(), "events": events()}
    too_many = {"items": [one] * (state.settings.max_batch_items + 1)}
    for body in ({**one, "at": "2026-11-21T10:00:00Z"}, {**one, "events": None}, {"events": []},
                 {**one, "extra": 1}, {"items": []}, too_many, {"items": [one], "policy": "x"},
                 {"account": account(), "events": [1]}, [one], "text"):
        assert not fast_envelope(body, state.settings)


def test_a_bad_body_still_gets_the_schema_problem(api):
    r = api.post("/v1/decide", {"account": account(), "events": [1], "extra": True})
    assert r.status_code == 422
    pointers = sorted(e["pointer"] for e in r.get_json()["errors"])
    assert pointers == ["/events/0", "/extra"]
