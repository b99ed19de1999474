"""Meta-tests: every hook spec is documented (in code and in the guide) and exercised by a test."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from arrears.plugins import hookspecs
from arrears.plugins.message import DeliveryResult, Message
from arrears.plugins.testing import make_message

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugin-guide.md"
TEST_SOURCES = [*Path(__file__).parent.glob("test_*.py"),
                *(ROOT / "examples" / "arrears-teams-channel" / "tests").glob("test_*.py")]


def hook_specs():
    """(name, function, firstresult) for every spec in plugins/hookspecs.py."""
    out = []
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        opts = getattr(fn, "arrears_spec", None)
        if opts is not None:
            out.append((name, fn, bool(opts.get("firstresult"))))
    return out


SPECS = hook_specs()
NAMES = [name for name, _, _ in SPECS]


def test_the_expected_hooks_exist():
    assert set(NAMES) >= {"arrears_channels", "arrears_deliver", "arrears_render", "arrears_facts",
                          "arrears_decision", "arrears_delivery", "arrears_config",
                          "arrears_template_dirs"}
    assert all(name.startswith("arrears_") for name in NAMES)


@pytest.mark.parametrize("name, fn, firstresult", SPECS, ids=NAMES)
def test_every_hookspec_says_what_is_passed_returned_and_who_wins(name, fn, firstresult):
    doc = inspect.getdoc(fn) or ""
    assert "Passed:" in doc and "Returns:" in doc, name
    if firstresult:
        assert "firstresult: the first non-None" in doc, name
    else:
        assert "Not firstresult" in doc or "Every implementation is called" in doc, name


@pytest.mark.parametrize("name", NAMES)
def test_every_hook_is_implemented_in_a_test(name):
    pattern = re.compile(rf"^\s+def {name}\(", re.MULTILINE)
    users = [p.name for p in TEST_SOURCES if pattern.search(p.read_text(encoding="utf-8"))]
    assert users, f"no test implements {name} in a throwaway plugin"


@pytest.mark.parametrize("name, fn, firstresult", SPECS, ids=NAMES)
def test_every_hook_is_in_the_plugin_guide(name, fn, firstresult):
    guide = GUIDE.read_text(encoding="utf-8")
    params = ", ".join(inspect.signature(fn).parameters)
    heading = f"### `{name}({params})`"
    assert heading in guide, f"docs/plugin-guide.md lacks the heading {heading}"
    section = re.split(r"\n##+ ", guide.split(heading, 1)[1], maxsplit=1)[0]
    text = " ".join(section.split()).lower()
    assert "**passed:**" in text and "**returns:**" in text and "**when:**" in text
    assert ("**firstresult**: the first non-`none`" in text) if firstresult else ("not firstresult" in text)


def test_the_guide_documents_the_message_model():
    guide = GUIDE.read_text(encoding="utf-8")
    fields = [f for f in Message.__dataclass_fields__] + ["idempotency_key"]
    missing = [f for f in fields if f"`{f}`" not in guide]
    assert not missing, f"docs/plugin-guide.md does not describe Message fields {missing}"
    for status in ("sent", "failed_retryable", "failed_permanent"):
        assert f"`{status}`" in guide
    for field in DeliveryResult.__dataclass_fields__:
        assert f"`{field}`" in guide


def test_idempotency_key_and_round_trip():
    message = make_message(account_id="ACME-7", stage="formal_notice", attempt=2)
    assert message.idempotency_key == "ACME-7:formal_notice:2:email"
    assert message.contact_key == "ACME-7:formal_notice:2"
    assert Message.from_dict(message.to_dict()) == message
    with pytest.raises(ValueError, match="status must be one of"):
        DeliveryResult("delivered")
    assert DeliveryResult.retryable("later").contact_outcome == "failed"
    assert DeliveryResult.sent(outcome="queued").to_dict()["outcome"] == "queued"
