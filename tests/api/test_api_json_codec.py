"""The API's JSON reading and writing (orjson, with the standard library for what orjson refuses):
the values and the error messages are the standard library's."""
from __future__ import annotations

import json

import pytest

from arrears.api.bodies import decode_json
from arrears.api.problems import ApiProblem
from arrears.api.routing import dumps


@pytest.mark.parametrize("text", [b'{"a": [1, 2.5, -0.0, "\\u00e9\\ud83d\\ude00", null, true]}', b' {"a":1,"a":2} ',
                                  b"123456789012345678901234567890", b"-9223372036854775809", b"1e400",
                                  b'{"n": 18446744073709551615}'])
def test_values_are_the_standard_librarys(text):
    got = decode_json(text)
    want = json.loads(text)
    assert got == want and type(got) is type(want)
    assert json.dumps(got) == json.dumps(want)         # ints stay ints, floats floats


@pytest.mark.parametrize("text, detail", [
    (b"[1,]", "the request body is not valid JSON: Expecting value (line 1, column 4)"),
    (b"NaN", "the request body is not valid JSON: NaN is not valid JSON"),
    (b'"\\ud800"', "the request body is not valid JSON text: it escapes an unpaired surrogate"),
    (b'"\xff"', "the request body is not UTF-8 text"),
    (b"   ", "a JSON request body is required"),
])
def test_errors_are_the_standard_librarys(text, detail):
    with pytest.raises(ApiProblem) as caught:
        decode_json(text)
    assert caught.value.status == 400 and caught.value.detail == detail


@pytest.mark.parametrize("payload", [{"a": [1, 2.5, "é😀", None, True]}, {"big": 10**30}, {1: "x"}, "\ud800"])
def test_responses_are_compact_json(payload):
    text = dumps(payload)
    assert json.loads(text) == json.loads(json.dumps(payload))
    assert b": " not in text and b", " not in text
