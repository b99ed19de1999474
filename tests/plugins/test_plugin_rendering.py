"""Templates: shipped coverage, compliance enforcement, sandboxing and error messages."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from arrears.engine.policy.templates import template_for
from arrears.plugins import hookimpl
from arrears.plugins.compliance import standard_text
from arrears.plugins.errors import TemplateError
from arrears.plugins.message import Rendered
from arrears.plugins.rendering import SHIPPED, Renderer, candidates
from arrears.plugins.testing import make_message, plugin_manager

POLICY = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"
ALL_FLAGS = ("opt_out", "disclosure", "validation_notice", "first_message")


def policy_uses():
    """(template, language, channel kind) for every stage and event-message channel of the shipped policy."""
    doc = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    kinds = {name: c["kind"] for name, c in doc["channels"].items()}
    out = set()
    for stage in doc["escalation"]["stages"] + doc.get("event_messages", []):
        for channel in stage["channels"]:
            template = template_for(stage["template"], kinds[channel])
            for lang in doc["templates"][template]["languages"]:
                out.add((template, lang, kinds[channel]))
    return sorted(out)


def test_every_template_language_has_a_generic_default():
    doc = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    for template, spec in doc["templates"].items():
        for lang in spec["languages"]:
            assert (SHIPPED / f"{template}.{lang}.j2").is_file(), (template, lang)


@pytest.mark.parametrize("template, language, kind", policy_uses())
def test_shipped_templates_render_with_every_flag(template, language, kind):
    message = make_message(template=template, language=language, channel_kind=kind, content=ALL_FLAGS,
                           context={"offers": [{"kind": "settlement", "amount": {"amount": "700.00", "currency": "EUR"},
                                                "discount": {"amount": "300.00", "currency": "EUR"},
                                                "expires_at": "2026-12-06T00:00:00Z", "requires_approval": False}]})
    out = Renderer().render(message)
    assert out.body.strip() and "{{" not in out.body
    if kind != "sms":
        assert out.subject
    for flag in ("opt_out", "disclosure", "validation_notice"):
        text = standard_text(flag, message)
        assert (text if out.body_format == "text" else text.replace("'", "&#x27;")) in out.body
    assert out.body.count(standard_text("opt_out", message).split(",")[0]) == 1   # not duplicated


@pytest.mark.parametrize("kind, line", [
    ("email", "To stop emails from Example Ltd about this account, reply to this email with the word STOP."),
    ("sms", "Reply STOP to stop text messages from Example Ltd.")])
def test_opt_out_line_is_appended_when_the_template_has_none(tmp_path, kind, line):
    (tmp_path / "bare.en.j2").write_text("{% set subject = 'Hi' %}Please pay {{ balance|money }}.\n")
    renderer = Renderer([tmp_path])
    message = make_message(template="bare", channel_kind=kind, content=("opt_out",))
    out = renderer.render(message)
    assert out.body == f"Please pay €1,000.00.\n\n{line}"
    plain = renderer.render(make_message(template="bare", channel_kind=kind))
    assert "STOP" not in plain.body


def test_disclosure_and_validation_notice_are_enforced(tmp_path):
    (tmp_path / "bare.de.j2").write_text("Bitte zahlen.\n")
    out = Renderer([tmp_path]).render(make_message(template="bare", language="de",
                                                   content=("disclosure", "validation_notice")))
    assert "dient der Einziehung einer Forderung" in out.body
    assert "Zum 22. November 2026 schulden Sie Example Ltd 1.000,00\u00a0€" in out.body
    assert "innerhalb von 30 Tagen" in out.body


def test_validation_notice_carries_amount_and_30_day_right():
    text = standard_text("validation_notice", make_message())
    assert "€1,000.00" in text and "30 days" in text and "dispute" in text


def test_a_template_rendering_the_notice_itself_is_not_appended_twice(tmp_path):
    (tmp_path / "own.en.j2").write_text("Pay.\n{{ opt_out_notice() }}\n")
    out = Renderer([tmp_path]).render(make_message(template="own", content=("opt_out",)))
    assert out.body.count("STOP") == 1


def test_html_templates_are_autoescaped_and_get_blocks_appended(tmp_path):
    (tmp_path / "h.en.letter.html.j2").write_text("{% set subject %}A & B{% endset %}<p>{{ account.id }}</p>")
    message = make_message(template="h", channel_kind="letter", account_id="<script>", content=("opt_out",))
    out = Renderer([tmp_path]).render(message)
    assert out.body_format == "html" and out.subject == "A & B"
    assert "<p>&lt;script&gt;</p>" in out.body
    assert '<p class="arrears-compliance arrears-opt_out">To stop receiving these messages' in out.body


@pytest.mark.parametrize("template,kind", [("friendly_reminder", "email"), ("formal_notice", "letter")])
def test_the_shipped_english_templates_greet_the_debtor_by_name(template, kind):
    def greeting(name):
        account = {**make_message().context["account"], "name": name}
        message = make_message(template=template, channel_kind=kind, context={"account": account})
        return Renderer().render(message).body
    assert "Dear customer," in greeting(None)
    named = greeting("Zoë <O'Brien>")
    assert ("Dear Zoë &lt;O&#39;Brien&gt;," if kind == "letter" else "Dear Zoë <O'Brien>,") in named


def test_the_template_context_carries_the_contacts_name():
    from arrears.engine import decide, load_policy
    from arrears.engine.domain.model import Account
    from arrears.plugins.compose import template_context
    from tests.api.apikit import account
    acc = Account.from_dict(account(contact={"name": "Ada Lovelace", "email": "ada@example.com"}))
    policy = load_policy(POLICY)
    from datetime import datetime, timezone
    decision = decide(acc, [], policy, datetime(2026, 12, 1, 12, tzinfo=timezone.utc))
    assert decision.action is not None
    assert template_context(decision, acc)["account"]["name"] == "Ada Lovelace"


def test_lookup_order_and_operator_dirs_override_shipped(tmp_path):
    assert candidates("t", "en", "sms") == ["t.en.sms.html.j2", "t.en.sms.j2", "t.en.j2"]
    assert candidates("t", "en", "task", "teams")[:2] == ["t.en.teams.html.j2", "t.en.teams.j2"]
    (tmp_path / "friendly_reminder.en.email.j2").write_text("{% set subject = 'Ours' %}Our text.")
    out = Renderer([tmp_path]).render(make_message())
    assert out.subject == "Ours" and out.body == "Our text.\n"


def test_undefined_variable_error_names_template_language_and_line(tmp_path):
    (tmp_path / "broken.fr.j2").write_text("Bonjour,\n\nVous devez {{ balanse }}.\n")
    with pytest.raises(TemplateError) as err:
        Renderer([tmp_path]).render(make_message(template="broken", language="fr"))
    e = err.value
    assert (e.template, e.language, e.line) == ("broken", "fr", 3)
    assert e.file.endswith("broken.fr.j2")
    assert "'balanse' is undefined" in str(e) and "template 'broken', language 'fr'" in str(e)
    assert "line 3" in str(e)


def test_sandbox_violation_is_a_template_error(tmp_path):
    (tmp_path / "evil.en.j2").write_text("x\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    with pytest.raises(TemplateError) as err:
        Renderer([tmp_path]).render(make_message(template="evil"))
    assert err.value.line == 2 and "SecurityError" in str(err.value)


def test_syntax_error_and_missing_template(tmp_path):
    (tmp_path / "syn.en.j2").write_text("ok\n{% if %}\n")
    with pytest.raises(TemplateError) as err:
        Renderer([tmp_path]).render(make_message(template="syn"))
    assert err.value.line == 2 and "syntax error" in str(err.value)
    with pytest.raises(TemplateError, match="no template found .*nope.en.email.j2"):
        Renderer().render(make_message(template="nope"))


def test_error_in_an_included_template_names_that_file(tmp_path):
    (tmp_path / "outer.en.j2").write_text("a\n{% include '_inner.j2' %}\n")
    (tmp_path / "_inner.j2").write_text("b\nc {{ nothing.here }}\n")
    with pytest.raises(TemplateError) as err:
        Renderer([tmp_path]).render(make_message(template="outer"))
    assert err.value.file.endswith("_inner.j2") and err.value.line == 2


def test_compliance_texts_can_be_replaced_per_language():
    renderer = Renderer(compliance={"en": {"opt_out.email": "Unsubscribe: reply NO to {creditor}."}})
    out = renderer.render(make_message(content=("opt_out",)))
    assert "Unsubscribe: reply NO to Example Ltd." in out.body


def test_arrears_render_hook_overrides_but_compliance_still_applies():
    class Plugin:
        @hookimpl
        def arrears_render(self, message, template_id, language, context):
            if template_id == "friendly_reminder":
                return Rendered(body=f"Custom {language} {context['balance']['amount']}", subject="S")
            return None

    renderer = Renderer(pm=plugin_manager(Plugin()))
    out = renderer.render(make_message(content=("opt_out",)))
    assert out.subject == "S" and out.body.startswith("Custom en 1000.00")
    assert "reply to this email with the word STOP" in out.body
    # Returning None falls through to the templates.
    assert "Dear customer" in renderer.render(make_message(template="firm_reminder")).body


def test_arrears_render_may_return_a_plain_string():
    class Plugin:
        @hookimpl
        def arrears_render(self, message):
            return "just text"

    out = Renderer(pm=plugin_manager(Plugin())).render(make_message())
    assert out.body == "just text" and out.subject is None


def test_arrears_template_dirs_hook(tmp_path):
    (tmp_path / "friendly_reminder.en.email.j2").write_text("From a plugin.")

    class Plugin:
        @hookimpl
        def arrears_template_dirs(self):
            return [tmp_path]

    out = Renderer.from_config(plugin_manager(Plugin()), {}).render(make_message())
    assert out.body == "From a plugin.\n"
