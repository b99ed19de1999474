"""Plugin facts in policy conditions, end to end through the engine: checking (with
file:line:col), compiling, the digest, column-wise evaluation, and what a failure does."""
from __future__ import annotations

import numpy as np
import pytest

from arrears.engine.decisions.core import decide_batch
from arrears.engine.decisions.explain import render_text
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.clock import as_epoch
from arrears.engine.domain.errors import ArrearsError, PolicyError
from arrears.engine.facts.catalogue import BOOL, INT, NUMBER, SET, STRING, FactDef
from arrears.engine.facts.compute import Facts
from arrears.engine.policy.compiler import compile_policy
from arrears.engine.policy.conditions import compile_condition
from arrears.engine.policy.digest import digest_of
from arrears.engine.policy.load import load_policy
from arrears.engine.policy.yamlsrc import load_document
from arrears.plugins import hookimpl
from arrears.plugins.facts import PluginFact, plugin_facts
from arrears.plugins.testing import plugin_manager
from arrears.policies import DEFAULT_POLICY

TEXT = DEFAULT_POLICY.read_text(encoding="utf-8")
# The default policy plus a segment on a plugin fact (used for grace) and a plugin fact in a stage.
WITH_FACTS = TEXT.replace(
    "\n# Priority score", """
  strategic:
    description: On the CRM's strategic list.
    when: {fact: x_crm_strategic, eq: true}

# Priority score""", 1).replace(
    "segments: {vip: 10, business: 5}", "segments: {vip: 10, business: 5, strategic: 30}", 1).replace(
    '          - {fact: balance, gte: "500.00"}', '          - {fact: balance, gte: "500.00"}\n'
    "          - {fact: x_crm_score, gte: 0.5}", 1)


class Crm:
    """A CRM plugin whose facts count their calls (and can be made to fail)."""

    def __init__(self, strategic=("A1", "A3"), fail=False):
        self.strategic_ids, self.fail, self.calls = np.array(strategic, dtype=str), fail, []

    @hookimpl
    def arrears_facts(self):
        return [PluginFact("x_crm_strategic", BOOL, "On the strategic list.", self.strategic),
                PluginFact("x_crm_score", NUMBER, "CRM score, if any.", self.score, optional=True),
                PluginFact("x_crm_tier", STRING, "CRM tier.", self.tier, choices=("gold", "silver")),
                PluginFact("x_crm_labels", SET, "CRM labels, if known.", self.labels, optional=True),
                PluginFact("x_crm_paid", INT, "Payments in the window.", self.paid, params=("window_days",))]

    def strategic(self, facts):
        self.calls.append(("x_crm_strategic", facts.n))
        if self.fail:
            raise ConnectionError("CRM unreachable")
        return np.isin(np.asarray(facts.b.ids, dtype=str), self.strategic_ids)

    def score(self, facts):
        self.calls.append(("x_crm_score", facts.n))
        values = np.linspace(0.0, 1.0, facts.n)
        present = np.arange(facts.n) % 2 == 0          # every other account has a score
        return values, present

    def tier(self, facts):
        return np.array(["gold"] * facts.n, dtype=object)

    def labels(self, facts):
        values = np.empty(facts.n, dtype=object)
        values[:] = [frozenset({"key"})] * facts.n
        return values, np.arange(facts.n) == 0          # known for the first account only

    def paid(self, facts, window_days):
        self.calls.append(("x_crm_paid", window_days))
        return facts.payments(window_days)


@pytest.fixture
def crm():
    return Crm()


@pytest.fixture
def registry(crm):
    return plugin_facts(plugin_manager(crm))


def position(text: str, anchor: str, after: str) -> tuple[int, int]:
    """1-based (line, column) of `anchor`, searched from `after` on."""
    at = text.index(anchor, text.index(after))
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def problems(text: str, facts) -> list:
    with pytest.raises(PolicyError) as err:
        load_policy(text, filename="p.yaml", facts=facts)
    return err.value.problems


def test_a_policy_using_plugin_facts_loads_and_records_which_it_uses(registry):
    policy = load_policy(WITH_FACTS, filename="p.yaml", facts=registry)
    plugin = registry["x_crm_strategic"].plugin
    assert plugin
    assert list(policy.plugin_facts) == ["x_crm_strategic", "x_crm_score"]
    assert policy.plugin_facts["x_crm_strategic"] == FactDef(
        "x_crm_strategic", BOOL, "On the strategic list.", (), False, plugin, ())
    # the digest is the document's, whichever plugin provides the facts
    assert policy.digest == digest_of(policy.document)
    other = plugin_facts(plugin_manager(Crm(strategic=())))
    assert load_policy(WITH_FACTS, filename="p.yaml", facts=other).digest == policy.digest
    # an iterable of facts works as well as the mapping
    assert load_policy(WITH_FACTS, filename="p.yaml", facts=list(registry.values())).digest == policy.digest


def test_the_digest_does_not_depend_on_which_plugins_are_loaded(registry):
    plain = load_policy(DEFAULT_POLICY)
    loaded = load_policy(DEFAULT_POLICY, facts=registry)
    assert plain.digest == loaded.digest and loaded.plugin_facts == plain.plugin_facts == {}


LOCATED = [
    ("{fact: x_crm_strategic, eq: true}", "{fact: x_crm_strategc, eq: true}", "x_crm_strategc",
     ("no plugin provides fact 'x_crm_strategc'; loaded plugins provide: x_crm_labels ({p}), "
      "x_crm_paid ({p}), x_crm_score ({p}), x_crm_strategic ({p}), x_crm_tier ({p}); "
      "did you mean 'x_crm_strategic'?")),
    ("{fact: x_crm_strategic, eq: true}", "{fact: x_crm_strategic, gte: 1}", "gte",
     "operator 'gte' does not apply to 'x_crm_strategic' (bool); use one of: eq, ne, exists"),
    ("{fact: x_crm_strategic, eq: true}", '{fact: x_crm_strategic, eq: "yes"}', '"yes"',
     "fact 'x_crm_strategic' is bool: expected true or false, got 'yes'"),
    ("{fact: x_crm_score, gte: 0.5}", "{fact: x_crm_score, gte: high}", "high",
     "fact 'x_crm_score' is number: expected a number, got 'high'"),
    ("{fact: x_crm_strategic, eq: true}", "{fact: x_crm_strategic, window_days: 7, eq: true}",
     "window_days", "fact 'x_crm_strategic' takes no 'window_days'"),
    ("{fact: x_crm_strategic, eq: true}", "{fact: x_crm_tier, in: [gold, silvr]}", "silvr",
     "unknown x_crm_tier value 'silvr'; did you mean 'silver'?"),
    ("{fact: x_crm_strategic, eq: true}", "{fact: x_crm_labels, eq: key}", "eq",
     "operator 'eq' does not apply to 'x_crm_labels' (set); use one of: contains, not_contains, exists"),
]


@pytest.mark.parametrize("old, new, anchor, message", LOCATED, ids=[m[:45] for *_, m in LOCATED])
def test_problems_with_plugin_facts_are_located(registry, old, new, anchor, message):
    text = WITH_FACTS.replace(old, new, 1)
    plugin = registry["x_crm_strategic"].plugin
    (problem,) = problems(text, registry)
    assert problem.message == message.format(p=plugin)
    assert (problem.file, problem.line, problem.col) == ("p.yaml", *position(text, anchor, new))


def test_without_the_plugin_every_use_is_reported_at_once():
    found = problems(WITH_FACTS, None)
    assert [(p.message, (p.line, p.col)) for p in found] == [
        ("no plugin provides fact 'x_crm_strategic'; loaded plugins provide: none",
         position(WITH_FACTS, "x_crm_strategic", "strategic:")),
        ("no plugin provides fact 'x_crm_score'; loaded plugins provide: none",
         position(WITH_FACTS, "x_crm_score", "x_crm_score"))]
    assert [p.path for p in found] == ["/segments/strategic/when/fact",
                                       "/escalation/stages/3/when/any/2/fact"]


def test_compiling_an_unchecked_document_without_the_plugin_is_a_clear_error():
    doc = load_document(WITH_FACTS, "p.yaml").data
    with pytest.raises(ArrearsError, match="fact 'x_crm_strategic' is neither built in nor provided"):
        compile_policy(doc)


def test_plugin_facts_are_computed_once_per_batch_column_wise(registry, crm, make_account, now):
    policy = load_policy(WITH_FACTS, filename="p.yaml", facts=registry)
    accounts = [make_account(id=f"A{i}", amount=f"{100 * i}.00", due_date="2026-10-01") for i in range(6)]
    db = decide_batch(Batch.from_objects(accounts, [[] for _ in accounts]), policy, now)
    segments = [d.segments for d in db.decisions()]
    # one call per fact for the whole batch, although the segment is used by grace,
    # by the decisions' segment lists and by the trace
    assert sorted(crm.calls) == [("x_crm_score", 6), ("x_crm_strategic", 6)]
    assert ["strategic" in s for s in segments] == [False, True, False, True, False, False]
    assert db.plugin_failures == []
    trace = {t.step: t.detail for t in db.decision(1).trace}
    assert trace["segment strategic"] == "x_crm_strategic = True: yes (is True)"


def test_a_parameter_gives_one_column_per_window(registry, crm, policy, make_account, ev, now):
    facts = Facts(Batch.from_objects([make_account()], [[ev("payment", "2026-11-01T10:00:00Z",
                                                            amount="10.00")]]), policy, as_epoch(now))
    recent = compile_condition({"fact": "x_crm_paid", "window_days": 7, "gte": 1}, registry)
    month = compile_condition({"fact": "x_crm_paid", "gte": 1}, registry)
    again = compile_condition({"fact": "x_crm_paid", "window_days": 30, "eq": 1}, registry)
    assert [recent.evaluate(facts)[0], month.evaluate(facts)[0], again.evaluate(facts)[0]] == [False, True, True]
    assert crm.calls == [("x_crm_paid", 7), ("x_crm_paid", 30)]
    assert recent.explain(facts, 0) == "x_crm_paid (last 7 days) ≥ 1: no (is 0)"


def test_optional_plugin_facts_are_false_where_unknown(registry, policy, make_account, now):
    accounts = [make_account(id=f"A{i}") for i in range(3)]
    facts = Facts(Batch.from_objects(accounts, [[], [], []]), policy, as_epoch(now))
    cases = {"x_crm_score": [({"ne": 0.25}, [True, False, True]), ({"exists": False}, [False, True, False])],
             "x_crm_labels": [({"contains": "key"}, [True, False, False]),
                              ({"not_contains": "vip"}, [True, False, False])]}
    # (nodes are kept alive: a batch memoises results by node identity)
    nodes = [(compile_condition({"fact": name, **op}, registry), expected, name, op)
             for name, tests in cases.items() for op, expected in tests]
    for node, expected, name, op in nodes:
        assert node.evaluate(facts).tolist() == expected, (name, op)


def test_a_failing_plugin_fact_is_unknown_for_the_batch_and_recorded(make_account, now, caplog):
    crm = Crm(fail=True)
    registry = plugin_facts(plugin_manager(crm))
    plugin = registry["x_crm_strategic"].plugin
    policy = load_policy(WITH_FACTS, filename="p.yaml", facts=registry)
    accounts = [make_account(id=f"A{i}", due_date="2026-10-01") for i in range(4)]
    db = decide_batch(Batch.from_objects(accounts, [[] for _ in accounts]), policy, now)   # no raise
    error = (f"fact 'x_crm_strategic' from plugin '{plugin}': compute raised ConnectionError: "
             "CRM unreachable")
    assert db.plugin_failures == [{"plugin": plugin, "hook": "arrears_facts", "fact": "x_crm_strategic",
                                   "error": error}]
    decision = db.decision(1)                   # A1 is on the list, but the list is unavailable
    assert "strategic" not in decision.segments
    steps = {t.step: t for t in decision.trace}
    assert steps["plugin fact x_crm_strategic"].outcome == "failed"
    assert steps["plugin fact x_crm_strategic"].detail.startswith(error + "; unknown for this evaluation")
    assert steps["segment strategic"].detail == (f"x_crm_strategic = True: no (is unknown: plugin {plugin} "
                                                 "could not compute it)")
    text = render_text(decision)
    assert "Plugin facts that could not be computed (unknown in every condition):\n  x_crm_strategic: " \
        + error in text
    # the other plugin fact was computed; the failure was logged with its traceback
    assert ("x_crm_score", 4) in crm.calls
    assert any(r.exc_info and r.exc_info[0] is ConnectionError for r in caplog.records)


def test_any_source_that_fails_leaves_its_fact_unknown(policy, make_account, now):
    class Broken:
        """Not a PluginFact: the engine relies only on `definition` and `column()`."""

        definition = FactDef("x_broken", BOOL, "always fails", plugin="legacy")

        def column(self, facts, window_days=None, channel=None):
            raise KeyError("no such column")

    class Short(Broken):
        definition = FactDef("x_short", BOOL, "too short", plugin="legacy")

        def column(self, facts, window_days=None, channel=None):
            return np.ones(1, dtype=bool), None

    facts = Facts(Batch.from_objects([make_account(id="A1"), make_account(id="A2")], [[], []]),
                  policy, as_epoch(now))
    sources = {"x_broken": Broken(), "x_short": Short()}
    for name in sources:
        nodes = [compile_condition(spec, sources) for spec in (
            {"fact": name, "eq": True}, {"fact": name, "ne": True}, {"not": {"fact": name, "eq": True}},
            {"fact": name, "exists": False})]
        results = [node.evaluate(facts).tolist() for node in nodes]
        assert results == [[False, False], [False, False], [True, True], [True, True]], name
    assert {k: f.error for k, f in facts.plugin_failures.items()} == {
        "x_broken": "fact 'x_broken' from plugin 'legacy': KeyError: 'no such column'",
        "x_short": "fact 'x_short' from plugin 'legacy' returned 1 values for 2 accounts"}
