"""Plugins add channel kinds of their own (issue 15): the example WhatsApp package
(examples/arrears-whatsapp-channel) delivered end to end through a real outbox and tick to a
real HTTP server, with its consent rule, its opt-out wording, the profiles' treatment of its
class, and its reporting name in the KPIs and the report; and the start-up errors."""
from __future__ import annotations

import importlib.util
import tomllib
from datetime import UTC, date, datetime, timedelta

import pytest

from arrears.engine.domain import kinds
from arrears.engine.domain.errors import PolicyError
from arrears.engine.kpis import compute_kpis
from arrears.engine.kpis.fromstore import ledger_from_store
from arrears.engine.policy.load import load_policy
from arrears.engine.report.data import gather
from arrears.engine.tick.trial import TickTrial
from arrears.plugins import hookimpl
from arrears.plugins.errors import PluginError
from arrears.plugins.kinds import ChannelKind
from arrears.plugins.manager import register_kinds
from arrears.plugins.testing import RecordingServer, plugin_manager
from tests.plugins.pluginkit import WHATSAPP as EXAMPLE
from tests.plugins.pluginkit import import_whatsapp
from tests.plugins.pluginkit import whatsapp_policy_text as policy_text

NEW_YORK_MORNING = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)       # 10:00 in New York, a Monday
US = {"currency": "USD", "timezone": "America/New_York", "jurisdiction": "US-TX", "language": "en",
      "invoices": [{"id": "I1", "amount": "1000.00", "due_date": "2026-11-10"}]}


@pytest.fixture
def whatsapp(monkeypatch):
    """The example package's plugin module, imported from its source directory."""
    return import_whatsapp(monkeypatch)


def test_a_whatsapp_reminder_goes_out_with_consent_its_opt_out_and_reports_as_whatsapp(whatsapp):
    pm = plugin_manager(whatsapp)
    policy = load_policy(policy_text(), kinds=register_kinds(pm))
    # The US profiles treat a text_message as SMS: their SMS rules now cover WhatsApp too.
    regf = policy.profiles["us-fdcpa-regf"]
    opt_out = next(r for r in regf.rules if r.kind == "required_content")
    assert opt_out.channels == ("email", "sms", "whatsapp")
    config = {"channels": {"whatsapp": {"url": "", "token": "t"}}, "creditor": {"name": "Example Ltd"}}
    with RecordingServer() as provider:
        config["channels"]["whatsapp"]["url"] = provider.url + "/v1/messages"
        provider.reply(200, {"id": "wamid.1"})
        with TickTrial(pm, config, policy=policy, now=NEW_YORK_MORNING) as trial:
            contact = {"mobile": "+12025550123", "email": "debtor@example.com"}
            trial.add({**US, "id": "A1", "contact": contact}, {**US, "id": "A2", "contact": contact},
                      events=[("A1", {"type": "consent_given", "at": "2026-11-01T12:00:00Z", "channel": "whatsapp"})])
            summary = trial.tick()
            rows = {r["account_id"]: r for r in trial.outbox()}
            # A1 consented: WhatsApp, delivered once to the provider, with the kind's own opt-out line.
            assert (rows["A1"]["channel"], rows["A1"]["status"], rows["A1"]["provider_id"]) == \
                   ("whatsapp", "sent", "wamid.1")
            [request] = provider.requests
            body = request.json()["text"]["body"]
            assert request.json()["to"] == "+12025550123"
            assert body.startswith("Hello from Example Ltd")
            assert body.endswith("Reply STOP to stop WhatsApp messages from Example Ltd.")
            # A2 never consented: the kind's consent rule moves the reminder to email.
            assert rows["A2"]["channel"] == "email" and summary.delivered == 1
            attempts = [(e.channel, e.outcome) for e in trial.history("A1") if e.type == "contact_attempt"]
            assert attempts == [("whatsapp", "sent")]
            paid = NEW_YORK_MORNING + timedelta(days=2)
            trial.add(events=[("A1", {"type": "payment", "at": paid.isoformat(), "amount": "1000.00"})])
            ledger = ledger_from_store(trial.store, policy)
    kpis = compute_kpis(ledger, date(2026, 11, 1), date(2026, 11, 30), group_by="channel", policy=policy)
    by_group = {row.group: row for row in kpis.groups}
    assert by_group["WhatsApp"].figures["attempts"] == 1
    assert "whatsapp" not in by_group
    assert kpis.total[0].figures["attempts"] == 1
    report = gather(ledger, policy, date(2026, 11, 1), date(2026, 11, 30))
    [usd] = report.currencies
    assert sum(usd.by_channel["WhatsApp"]) == 1000


def test_the_kinds_own_consent_rule_binds_where_no_profile_applies(whatsapp):
    pm = plugin_manager(whatsapp)
    policy = load_policy(policy_text(), kinds=register_kinds(pm))
    [rule] = policy.channel_rules
    assert (rule.kind, rule.channels) == ("consent_required", ("whatsapp",))
    assert "WhatsApp" in rule.source and rule.describe() == "whatsapp only with the debtor's written consent"


def test_a_policy_naming_a_kind_no_plugin_provides_is_refused_at_its_line_and_column(whatsapp):
    text = policy_text(kind="telegram")
    with pytest.raises(PolicyError) as err:
        load_policy(text, filename="p.yaml", kinds=())
    [problem] = [p for p in err.value.problems if "telegram" in p.message]
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "kind: telegram" in s)
    assert (problem.file, problem.line, problem.col) == ("p.yaml", line, text.splitlines()[line - 1].index("telegram") + 1)
    assert "'telegram' is not allowed" in problem.message


class PigeonPlugin:
    """A kind of a class no shipped profile covers."""

    @hookimpl
    def arrears_channel_kinds(self):
        return [ChannelKind("pigeon", "Carrier pigeon", guardrail_class="carrier_pigeon", reach="address",
                            opt_out={"en": "Tell the pigeon STOP."})]


def test_a_kind_whose_class_a_profile_does_not_cover_stops_the_policy_naming_kind_and_profile():
    pm = plugin_manager(PigeonPlugin())
    with pytest.raises(PolicyError) as err:
        load_policy(policy_text(kind="pigeon"), filename="p.yaml", kinds=register_kinds(pm))
    messages = [p.message for p in err.value.problems]
    assert len(messages) == 8                              # one per shipped profile
    assert any("channel kind 'pigeon'" in m and "class 'carrier_pigeon'" in m and "profile 'uk-fca-conc'" in m
               and "will not guess" in m for m in messages), messages


@pytest.mark.parametrize("declared, problem", [
    (ChannelKind("sms", "SMS", guardrail_class="text_message", reach="mobile", opt_out={"en": "x"}),
     "'sms' is a built-in kind; a plugin cannot redefine it"),
    (ChannelKind("Whats App", "W", guardrail_class="text_message", opt_out={"en": "x"}), "must be lower_snake_case"),
    (ChannelKind("push", "Push", guardrail_class=None, opt_out={"en": "x"}), "guardrail_class None"),
    (ChannelKind("push", "Push", guardrail_class="electronic", reach="fax", opt_out={"en": "x"}), "reach 'fax'"),
    (ChannelKind("push", "Push", guardrail_class="electronic"), "opt_out needs an 'en' text"),
])
def test_bad_kind_declarations_stop_the_plugin_manager(declared, problem):
    class Bad:
        @hookimpl
        def arrears_channel_kinds(self):
            return [declared]
    with pytest.raises(PluginError) as err:
        plugin_manager(Bad())
    assert problem in str(err.value) and "'Bad" not in str(err.value)
    assert "push" not in kinds.KINDS or kinds.KINDS["push"].label != "Push"


def test_a_kind_declared_again_differently_is_refused_and_the_tables_are_append_only(whatsapp):
    plugin_manager(whatsapp)
    code = kinds.KIND_CODES["whatsapp"]
    plugin_manager(whatsapp)                                # the same declaration again: nothing changes

    class Twin:
        @hookimpl
        def arrears_channel_kinds(self):
            return [whatsapp.KIND]
    plugin_manager(Twin())                                  # another plugin, the same terms: accepted

    class Rival:
        @hookimpl
        def arrears_channel_kinds(self):
            return [ChannelKind("whatsapp", "WhatsApp (rival)", guardrail_class="electronic", opt_out={"en": "x"})]
    with pytest.raises(PluginError, match="'whatsapp' .*already declared differently"):
        plugin_manager(Rival())
    assert kinds.KIND_CODES["whatsapp"] == code and kinds.label("whatsapp") == "WhatsApp"
    assert kinds.CHANNEL_KINDS[:6] == list(kinds.BUILTIN_NAMES)


def _example_test_names():
    source = (EXAMPLE / "tests" / "test_whatsapp_channel.py").read_text(encoding="utf-8")
    return [line.split("(")[0][4:] for line in source.splitlines() if line.startswith("def test_")]


@pytest.mark.parametrize("name", _example_test_names())
def test_the_example_packages_own_tests(whatsapp, name):
    spec = importlib.util.spec_from_file_location("example_whatsapp_tests",
                                                  EXAMPLE / "tests" / "test_whatsapp_channel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    getattr(module, name)()


def test_the_example_declares_its_entry_point_and_templates(whatsapp):
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["entry-points"] == {"arrears": {"whatsapp": "arrears_whatsapp_channel"}}
    assert meta["project"]["version"] == whatsapp.__version__
    assert list((EXAMPLE / "arrears_whatsapp_channel" / "templates").glob("*.whatsapp.j2"))


def test_arrears_plugins_lists_the_kind(whatsapp, monkeypatch):
    from arrears.engine.cli import plugins as cli
    monkeypatch.setattr("arrears.plugins.manager.get_plugin_manager",
                        lambda load_entrypoints=True: plugin_manager(whatsapp))
    report = cli.collect()
    [kind] = report["kinds"]
    assert (kind["name"], kind["label"], kind["class"], kind["consent"]) == ("whatsapp", "WhatsApp", "text_message", True)
    assert "whatsapp   WhatsApp, treated as text_message, needs consent" in cli.render_text(report)


def test_a_kind_registered_after_the_store_was_read_is_loaded_with_its_code_and_reach(tmp_path):
    """The store's compiled queries and reach table follow the kind table (no stale cache)."""
    from arrears.engine.domain.model import Account, Event
    from arrears.engine.store import Store
    with Store(f"sqlite:///{tmp_path / 'k.db'}") as store:
        store.upsert_accounts([Account.from_dict({**US, "id": "A1", "contact": {"email": "a@example.com"}})],
                              now=NEW_YORK_MORNING)
        store.load_batch(store.due_accounts(int(NEW_YORK_MORNING.timestamp()), 10).acct_nos)      # queries compiled now

        class InApp:
            @hookimpl
            def arrears_channel_kinds(self):
                return [ChannelKind("inapp_inbox", "In-app", guardrail_class="electronic", reach=None,
                                    opt_out={"en": "Turn off messages in the app's settings."})]
        plugin_manager(InApp())
        store.append_events([("A1", Event.from_dict({"type": "consent_given", "at": "2026-11-20T10:00:00Z",
                                                     "channel": "inapp_inbox"}), None)], now=NEW_YORK_MORNING)
        batch = store.load_batch(store.due_accounts(int(NEW_YORK_MORNING.timestamp()), 10).acct_nos)
    code = kinds.KIND_CODES["inapp_inbox"]
    assert list(batch.ev_kind) == [code]
    assert batch.reach[0] >> code & 1 == 1                   # reach None: always reachable


def test_tick_workers_know_the_kind_too(whatsapp, tmp_path):
    """A page planned in a worker process decides WhatsApp like this process does."""
    from arrears.engine.domain.model import Account, Event
    from arrears.engine.store import Store, outboxstore
    from arrears.engine.store.db import read_transaction
    from arrears.engine.tick.runner import run_tick
    pm = plugin_manager(whatsapp)
    policy = load_policy(policy_text(), kinds=register_kinds(pm))
    contact = {"mobile": "+12025550123", "email": "debtor@example.com"}
    with Store(f"sqlite:///{tmp_path / 'w.db'}") as store:
        store.upsert_accounts([Account.from_dict({**US, "id": i, "contact": contact}) for i in ("A1", "A2")],
                              now=NEW_YORK_MORNING)
        store.append_events([(i, Event.from_dict({"type": "consent_given", "at": "2026-11-01T12:00:00Z",
                                                  "channel": "whatsapp"}), None) for i in ("A1", "A2")],
                            now=NEW_YORK_MORNING)
        summary = run_tick(store, policy, NEW_YORK_MORNING, dispatch=False, workers=1, batch_size=1)
        assert summary.actions_queued == 2
        with read_transaction(store.engine) as conn:
            rows = outboxstore.listing(conn)
    # batch_size=1: A1's page is planned here, A2's by the worker
    assert [(r["account_id"], r["channel"]) for r in rows] == [("A1", "whatsapp"), ("A2", "whatsapp")]


def test_no_contact_at_work_keeps_a_whatsapp_message_out_of_working_hours(whatsapp):
    """A kind that reaches the debtor's mobile reaches them at work, like a call or an SMS."""
    from arrears.engine import decide
    from arrears.engine.domain.model import Account, Event
    pm = plugin_manager(whatsapp)
    policy = load_policy(policy_text(), kinds=register_kinds(pm))
    account = Account.from_dict({**US, "id": "A1", "contact": {"mobile": "+12025550123"}})
    consent = Event.from_dict({"type": "consent_given", "at": "2026-11-01T12:00:00Z", "channel": "whatsapp"})
    plain = decide(account, [consent], policy, NEW_YORK_MORNING)
    assert plain.action.channel == "whatsapp" and plain.action.not_before == NEW_YORK_MORNING
    wish = Event.from_dict({"type": "contact_preference", "at": "2026-11-10T14:00:00Z",
                            "wishes": {"no_contact_at_work": True, "working_hours": {"start": "08:30", "end": "17:30"}}})
    d = decide(account, [consent, wish], policy, NEW_YORK_MORNING)
    assert d.action.channel == "whatsapp"
    assert d.action.not_before == datetime(2026, 11, 23, 22, 30, tzinfo=UTC)      # 17:30 in New York


def test_a_debtor_who_asked_for_letters_only_gets_no_whatsapp(whatsapp):
    from arrears.engine import decide
    from arrears.engine.domain.model import Account, Event
    pm = plugin_manager(whatsapp)
    policy = load_policy(policy_text(), kinds=register_kinds(pm))
    account = Account.from_dict({**US, "id": "A1", "contact": {"mobile": "+12025550123", "address": "1 Main St"}})
    consent = Event.from_dict({"type": "consent_given", "at": "2026-11-01T12:00:00Z", "channel": "whatsapp"})
    wish = Event.from_dict({"type": "contact_preference", "at": "2026-11-10T14:00:00Z",
                            "wishes": {"channels": ["letter"]}})
    d = decide(account, [consent, wish], policy, NEW_YORK_MORNING)
    assert d.action.channel == "letter"


def test_house_contact_hours_may_cover_the_kind(whatsapp):
    pm = plugin_manager(whatsapp)
    text = policy_text().replace("      channels: [call, sms, email]\n      weekdays: {start: \"08:00\", end: \"20:00\"}",
                                 "      channels: [call, sms, email, whatsapp]\n      weekdays: {start: \"08:00\", end: \"20:00\"}", 1)
    assert "[call, sms, email, whatsapp]" in text
    policy = load_policy(text, kinds=register_kinds(pm))
    assert any("whatsapp" in house.rule.channels for house in policy.house)
