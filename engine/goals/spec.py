"""Recovery goals as data: load `goals.yaml`, check it, and build immutable `Goal`s.

The file is read with the policies' own machinery (`arrears.engine.policy.yamlsrc` for positions,
`arrears.engine.policy.validation.validate_document` against `engine/policy/schemas/goals.schema.json`), so
every mistake is reported as `file:line:col: message`, all of them at once. The
rules a schema cannot say (one of `value`/`change_percent`, dates in order, known
KPI and bucket names) are checked here, with the same positions. The KPI names, and a KPI
goal's default direction, are the KPI catalogue's (`arrears.engine.kpis.catalogue`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path

from arrears.engine.domain.errors import PolicyError, Problem
from arrears.engine.domain.words import did_you_mean
from arrears.engine.kpis.catalogue import BY_NAME as KPIS
from arrears.engine.kpis.catalogue import NAMES as KPI_NAMES
from arrears.engine.policy.yamlsrc import Document, load_file, pointer

DEFAULT_TOLERANCE = Fraction(10)    # percent of the planned change
DEFAULT_WINDOW = 90                 # days of the period a flow KPI is measured over


@dataclass(frozen=True)
class Metric:
    """What a goal measures: a KPI (`kind` "kpi"), aging buckets' balance or count ("aging"),
    or the roll rate out of a bucket into the next one ("roll")."""

    kind: str
    kpi: str = ""
    buckets: tuple[str, ...] = ()
    measure: str = "balance"          # aging and roll: balance or count

    def label(self) -> str:
        """The metric in words: 'dso', '90+ balance', 'roll 61-90 to next (count)'."""
        if self.kind == "kpi":
            return self.kpi
        if self.kind == "aging":
            return f"{' + '.join(self.buckets)} {self.measure}"
        return f"roll rate from {self.buckets[0]} ({'by ' + self.measure})"

    def to_dict(self) -> dict:
        """JSON form: kind, kpi (or null), buckets, measure (or null for KPIs), label."""
        return {"kind": self.kind, "kpi": self.kpi or None, "buckets": list(self.buckets),
                "measure": None if self.kind == "kpi" else self.measure, "label": self.label()}


@dataclass(frozen=True)
class Point:
    """A dated level: the absolute `value`, or `change_percent` from the baseline level."""

    day: date
    value: Fraction | None = None
    change_percent: Fraction | None = None

    def level(self, baseline: Fraction) -> Fraction:
        """The level this point asks for, given the baseline level."""
        if self.value is not None:
            return self.value
        return baseline * (1 + self.change_percent / 100)


@dataclass(frozen=True)
class Goal:
    """One goal, checked: dates in order, names known (see `load_goals`)."""

    id: str
    title: str
    metric: Metric
    direction: str                    # "down" or "up": which way is better
    baseline_day: date
    baseline_value: Fraction | None   # stated in the file; None: measured on baseline_day
    target: Point
    milestones: tuple[Point, ...] = ()
    currency: str | None = None
    segment: str | None = None
    tolerance_percent: Fraction = DEFAULT_TOLERANCE
    window_days: int = DEFAULT_WINDOW


@dataclass(frozen=True)
class GoalSet:
    """The goals of one file."""

    goals: tuple[Goal, ...]
    path: str
    description: str = ""


def _number(value) -> Fraction:
    # Through str: YAML's 0.7 is the float 0.69999…; the author meant 7/10.
    return Fraction(str(value))


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class _Checker:
    """Semantic checks of a schema-valid document, collecting located problems."""

    def __init__(self, doc: Document, filename: str, buckets, segments):
        self.doc, self.filename = doc, filename
        self.buckets, self.segments = buckets, segments
        self.problems: list[Problem] = []

    def add(self, path, message: str, at_key: bool = False) -> None:
        line, col = self.doc.key_position(path) if at_key else self.doc.position(path)
        self.problems.append(Problem(self.filename, line, col, message, pointer(path)))

    def goal(self, i: int, spec: dict, defaults: dict) -> Goal | None:
        here = ("goals", i)
        before = len(self.problems)
        metric = self.metric(here + ("metric",), spec["metric"])
        scope = {**(defaults.get("scope") or {}), **(spec.get("scope") or {})}
        if scope.get("segment") is not None and self.segments is not None and scope["segment"] not in self.segments:
            where = here + ("scope", "segment") if "segment" in (spec.get("scope") or {}) else ("defaults", "scope")
            self.add(where, f"unknown segment {scope['segment']!r}{did_you_mean(scope['segment'], self.segments)}"
                            f" (the policy's segments: {', '.join(self.segments) or 'none'})")
        # Which way is better: a KPI's own (the catalogue's); balances, counts and roll rates: down.
        direction = spec.get("direction") or (KPIS[metric.kpi].better if metric and metric.kind == "kpi"
                                              else "down")
        base = spec["baseline"]
        base_day = _day(base["date"] if isinstance(base, dict) else base)
        base_value = _number(base["value"]) if isinstance(base, dict) and "value" in base else None
        target = self.point(here + ("target",), spec["target"])
        milestones = tuple(self.point(here + ("milestones", k), m) for k, m in enumerate(spec.get("milestones") or []))
        self.dates(here, base_day, target, milestones)
        if len(self.problems) > before:
            return None
        return Goal(id=spec["id"], title=spec.get("title") or spec["id"], metric=metric, direction=direction,
                    baseline_day=base_day, baseline_value=base_value, target=target, milestones=milestones,
                    currency=scope.get("currency"), segment=scope.get("segment"),
                    tolerance_percent=_number(spec.get("tolerance_percent",
                                                       defaults.get("tolerance_percent", DEFAULT_TOLERANCE))),
                    window_days=int(spec.get("window_days", defaults.get("window_days", DEFAULT_WINDOW))))

    def metric(self, path, spec) -> Metric | None:
        if isinstance(spec, str):
            if spec not in KPI_NAMES:
                self.add(path, f"unknown KPI {spec!r}{did_you_mean(spec, KPI_NAMES)}; known: {', '.join(KPI_NAMES)}"
                               " (or {bucket: NAME} for an aging balance)")
                return None
            return Metric("kpi", kpi=spec)
        has = [k for k in ("bucket", "roll_from") if k in spec]
        if len(has) != 1:
            self.add(path, "a metric mapping needs exactly one of `bucket` (aging balance or count) and "
                           f"`roll_from` (roll rate); found {' and '.join(has) or 'neither'}")
            return None
        measure = spec.get("measure", "balance")
        if has == ["roll_from"]:
            name = spec["roll_from"]
            if self.known_bucket(path + ("roll_from",), name) and self.buckets is not None \
                    and name == self.buckets[-1]:
                self.add(path + ("roll_from",), f"{name!r} is the last aging bucket: nothing rolls out of it")
            return Metric("roll", buckets=(name,), measure=measure)
        names = spec["bucket"] if isinstance(spec["bucket"], list) else [spec["bucket"]]
        sub = path + ("bucket",)
        for k, name in enumerate(names):
            self.known_bucket(sub + (k,) if isinstance(spec["bucket"], list) else sub, name)
        return Metric("aging", buckets=tuple(names), measure=measure)

    def known_bucket(self, path, name: str) -> bool:
        if self.buckets is None or name in self.buckets:
            return True
        self.add(path, f"unknown aging bucket {name!r}{did_you_mean(name, self.buckets)} "
                       f"(the policy's buckets: {', '.join(self.buckets)})")
        return False

    def point(self, path, spec: dict) -> Point:
        has = [k for k in ("value", "change_percent") if k in spec]
        if len(has) != 1:
            self.add(path, "give exactly one of `value` (the level to reach) and `change_percent` (the change "
                           f"from the baseline level); found {' and '.join(has) or 'neither'}")
        value = _number(spec["value"]) if "value" in spec else None
        change = _number(spec["change_percent"]) if "change_percent" in spec and value is None else None
        return Point(_day(spec["by"]), value, change if value is None else None)

    def dates(self, here, base_day: date, target: Point, milestones) -> None:
        if target.day <= base_day:
            self.add(here + ("target", "by"), f"the target date {target.day} must be after the baseline date "
                                              f"{base_day}")
        previous = base_day
        for k, m in enumerate(milestones):
            if not previous < m.day < target.day:
                self.add(here + ("milestones", k, "by"),
                         f"milestone dates must be after the baseline ({base_day}), before the target "
                         f"({target.day}) and in order; {m.day} is not")
            previous = max(previous, m.day)


def load_goals(path, *, buckets=None, segments=None) -> GoalSet:
    """Load and check a goals file; raise PolicyError with every problem (file:line:col).

    `buckets` / `segments`: the policy's aging bucket and segment names, to check the
    names the goals use (None: not checked here; an unknown name then leaves that goal
    without data when it is evaluated).
    """
    from arrears.engine.policy.validation import validate_document

    filename = str(path)
    doc = load_file(Path(path), filename)
    problems = validate_document(doc, filename, schema="goals")
    if problems:
        raise PolicyError(problems)
    checker = _Checker(doc, filename, None if buckets is None else tuple(buckets),
                       None if segments is None else tuple(segments))
    defaults = doc.data.get("defaults") or {}
    goals, seen = [], {}
    for i, spec in enumerate(doc.data["goals"]):
        if spec["id"] in seen:
            checker.add(("goals", i, "id"), f"duplicate goal id {spec['id']!r} (first used on line {seen[spec['id']]})")
        seen.setdefault(spec["id"], doc.position(("goals", i, "id"))[0])
        goal = checker.goal(i, spec, defaults)
        if goal is not None:
            goals.append(goal)
    if checker.problems:
        raise PolicyError(checker.problems)
    return GoalSet(tuple(goals), filename, doc.data.get("description", ""))
