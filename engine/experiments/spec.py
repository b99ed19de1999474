"""An experiment file as data: load the YAML, check it, and build an immutable `Experiment`.

Read with the policies' own machinery (`arrears.engine.policy.yamlsrc` for positions,
`validation.validate_document` against `engine/policy/schemas/experiment.schema.json`), so
every mistake is `file:line:col: message`, all at once. What a schema cannot say is checked
here with the same positions: the shares add up to 100, strategy names and policies are
distinct, the end is after the start, the primary metric is a KPI of the KPI table with a
baseline that fits its unit, and the eligibility condition uses known facts, operators and
values (`semantics.condition_problems`, as in a policy).
"""
from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass
from fractions import Fraction

from arrears.engine.domain.errors import PolicyError, Problem
from arrears.engine.domain.words import did_you_mean
from arrears.engine.experiments import metrics, samplesize
from arrears.engine.kpis.catalogue import BY_NAME as KPIS
from arrears.engine.policy.semantics import condition_problems
from arrears.engine.policy.validation import validate_document
from arrears.engine.policy.yamlsrc import Document, load_document, load_file, pointer

CHAMPION = "champion"
GUARDRAILS = tuple(metrics.GUARDRAILS)
SCHEMA = "experiment"


@dataclass(frozen=True)
class Arm:
    """One strategy: its `name`, the stored policy version it decides with (`policy`: a digest;
    None for the champion, which is the active policy) and its `share` of the eligible debtors."""

    name: str
    policy: str | None
    share: Fraction


@dataclass(frozen=True)
class PrimaryMetric:
    """The KPI the verdict is about and the difference the experiment must be able to see."""

    kpi: str
    minimum_detectable_effect: float
    baseline: float
    standard_deviation: float | None = None
    alpha: float = 0.05
    power: float = 0.8

    @property
    def how(self) -> metrics.MetricTest:
        """How the KPI is tested (`metrics.TESTS`)."""
        return metrics.TESTS[self.kpi]

    @property
    def is_rate(self) -> bool:
        """Compared as two proportions (else per-debtor ratios, Welch's test)."""
        return self.how.kind == metrics.PROPORTION

    @property
    def better(self) -> str:
        """"up" or "down": which way the KPI improves (the KPI table's direction)."""
        return KPIS[self.kpi].better


@dataclass(frozen=True)
class Experiment:
    """A checked experiment file (see the module docstring); `arms` hold the champion first."""

    name: str
    salt: str
    arms: tuple[Arm, ...]
    start: datetime.date
    end: datetime.date
    metric: PrimaryMetric
    guardrails: tuple[str, ...] = GUARDRAILS
    eligibility: dict | None = None
    description: str = ""
    source: str = ""

    @property
    def digest(self) -> str:
        """SHA-256 of the file's text: what `start` records and audits."""
        return "sha256:" + hashlib.sha256(self.source.encode("utf-8")).hexdigest()

    def arm(self, name: str) -> Arm:
        """The strategy called `name` (KeyError if there is none)."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(name)

    def sample_size(self) -> samplesize.SampleSize:
        """The eligible debtors needed to see the minimum detectable effect (samplesize)."""
        m = self.metric
        shares = {arm.name: float(arm.share) for arm in self.arms}
        if m.is_rate:
            def total(s0, s1):
                return samplesize.proportions_total(m.baseline / 100, m.minimum_detectable_effect / 100, s0, s1,
                                                    m.alpha, m.power)
        else:
            # Per-debtor ratios lie in 0..100%: with mean p their standard deviation is at most
            # 100 * sqrt(p (1 - p)), a safe default when none is given.
            p = m.baseline / 100
            sd = m.standard_deviation or 100 * (p * (1 - p)) ** 0.5

            def total(s0, s1):
                return samplesize.means_total(sd, m.minimum_detectable_effect, s0, s1, m.alpha, m.power)
        return samplesize.needed(shares, total)

    def to_dict(self) -> dict:
        """JSON form (the API's and `status --format json`'s `experiment`)."""
        m = self.metric
        return {"name": self.name, "description": self.description, "unit": "debtor",
                "strategies": [{"name": a.name, "policy": a.policy, "share": float(a.share * 100)}
                               for a in self.arms],
                "eligibility": self.eligibility, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "primary_metric": {"kpi": m.kpi, "minimum_detectable_effect": m.minimum_detectable_effect,
                                   "baseline": m.baseline, "standard_deviation": m.standard_deviation,
                                   "alpha": m.alpha, "power": m.power,
                                   "test": m.how.test},
                "guardrails": list(self.guardrails), "sample_size": self.sample_size().to_dict(),
                "digest": self.digest}


def load_experiment(source, filename: str | None = None, *, facts: dict | None = None,
                    segments=None) -> Experiment:
    """Load an experiment from a path, or from YAML text named `filename`; raise PolicyError
    with every problem at once. `facts`: the plugins' facts the eligibility may use;
    `segments`: the champion policy's segment names it may use (None: not checked)."""
    if filename is None:
        filename = os.fspath(source)
        doc = load_file(filename, filename)
        text = open(filename, encoding="utf-8").read()
    else:
        doc, text = load_document(source, filename), source if isinstance(source, str) else source.decode()
    problems = validate_document(doc, filename, schema=SCHEMA)
    flagged = {(p.line, p.col) for p in problems}
    problems += [p for p in _semantic_problems(doc, filename, facts, segments) if (p.line, p.col) not in flagged]
    if problems:
        raise PolicyError(sorted(set(problems)))
    return _build(doc.data, text)


def _semantic_problems(doc: Document, filename: str, facts, segments) -> list[Problem]:
    """The rules a schema cannot say. Each runs on the parts it reads; a part the schema
    found misshapen (reported already) leaves its rule out instead of failing."""
    data, problems = doc.data, []

    def add(path, message):
        line, col = doc.position(path)
        problems.append(Problem(filename, line, col, message, pointer(path)))

    for rule in (_shares, _distinct, _dates, _metric):
        try:
            rule(data, add)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            continue
    if isinstance(data, dict) and isinstance(data.get("eligibility"), dict):
        problems += condition_problems(data["eligibility"], doc, filename, ("eligibility",), facts=facts,
                                       segments=segments)
    return problems


def _shares(data: dict, add) -> None:
    shares = [Fraction(str(data["champion"]["share"]))] + [Fraction(str(c["share"])) for c in data["challengers"]]
    if sum(shares) != 100:
        listed = " + ".join(f"{float(s):g}" for s in shares)
        add(("challengers",), f"the shares add up to {float(sum(shares)):g} ({listed}), not 100")


def _distinct(data: dict, add) -> None:
    seen_names, seen_policies = {CHAMPION: None}, {}
    for i, challenger in enumerate(data["challengers"]):
        name, policy = challenger.get("name"), challenger.get("policy")
        if name in seen_names:
            add(("challengers", i, "name"), f"strategy name {name!r} is taken"
                + (" (the champion is called so)" if name == CHAMPION else ""))
        if policy is not None and policy in seen_policies:
            add(("challengers", i, "policy"), f"policy {policy} is already challenger {seen_policies[policy]!r}")
        seen_names.setdefault(name, i)
        seen_policies.setdefault(policy, name)


def _dates(data: dict, add) -> None:
    if _date(data["end"]) <= _date(data["start"]):
        add(("end",), f"the end {data['end']} must be after the start {data['start']}")


def _metric(data: dict, add) -> None:
    metric = data["primary_metric"]
    kpi = KPIS.get(metric["kpi"])
    path = ("primary_metric",)
    testable = ", ".join(metrics.TESTS)
    if kpi is None:
        add(path + ("kpi",), f"unknown KPI {metric['kpi']!r} (an experiment can test: {testable})"
                             f"{did_you_mean(metric['kpi'], list(metrics.TESTS))}")
        return
    if kpi.name not in metrics.TESTS:
        add(path + ("kpi",), f"{kpi.name} has no per-debtor value an experiment can test; "
                             f"use one of: {testable}")
        return
    effect, baseline = metric["minimum_detectable_effect"], metric["baseline"]
    if kpi.unit == "percent":
        target = baseline + effect if kpi.better == "up" else baseline - effect
        if not (0 < baseline < 100):
            add(path + ("baseline",), f"{kpi.name} is a percentage: the baseline must lie between 0 and 100")
        elif not (0 < target < 100):
            add(path + ("minimum_detectable_effect",),
                f"the baseline {baseline:g}% moved by {effect:g} points leaves 0..100")



def _build(data: dict, text: str) -> Experiment:
    champion_share = Fraction(str(data["champion"]["share"])) / 100
    arms = (Arm(CHAMPION, None, champion_share),) + tuple(
        Arm(c["name"], c["policy"], Fraction(str(c["share"])) / 100) for c in data["challengers"])
    m = data["primary_metric"]
    sd = m.get("standard_deviation")
    metric = PrimaryMetric(m["kpi"], float(m["minimum_detectable_effect"]), float(m["baseline"]),
                           None if sd is None else float(sd), float(m.get("alpha", 0.05)),
                           float(m.get("power", 0.8)))
    return Experiment(name=data["name"], salt=data.get("salt", data["name"]), arms=arms,
                      start=_date(data["start"]), end=_date(data["end"]), metric=metric,
                      guardrails=tuple(data.get("guardrails", GUARDRAILS)), eligibility=data.get("eligibility"),
                      description=data.get("description", ""), source=text)


def _date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))
