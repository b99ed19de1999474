"""An experiment's results: per-strategy KPIs (for the period and per month), the difference with its 95% interval and p-value,
the sample-ratio check, guardrail alarms, and a verdict in plain words.

    report = experiment_results(store, "sms-first", now=now)
    report.to_dict()          # GET /v1/experiments/{name}, `arrears experiment status --format json`
    report.to_text()          # `arrears experiment status`

The period is the experiment's start to its end (or today, if sooner; for a stopped or
promoted experiment, to the day it was stopped). The KPIs are the KPI
table's, computed per strategy over the debtors assigned to it (`compute_kpis` grouped by a
`assigned_strategy` label; `ineligible` debtors and those never assigned are left out); the primary
metric is tested as `metrics.TESTS` says, each challenger against the champion (`stats`).

A stretch the experiment was paused (the tick pauses one it cannot run; `experiment_pauses`) has
every debtor decided by the champion, so what the debtors did in it is not either strategy's:
every day a pause touched, from the day it began to the day it was resumed (UTC), is left out of
both strategies' figures (payments, contacts, promises, disputes, and the guardrails' events),
and the results say how many days were (`paused`).
"""
from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field, replace

import numpy as np

from arrears.engine.domain.batch import day_to_date, epoch_day
from arrears.engine.experiments import metrics, stats
from arrears.engine.experiments.assign import INELIGIBLE
from arrears.engine.experiments.lifecycle import stored
from arrears.engine.experiments.spec import CHAMPION, Experiment
from arrears.engine.kpis import account_figures, compute_kpis, kpi_series, ledger_from_store, month_ends
from arrears.engine.kpis.catalogue import BY_NAME as KPIS
from arrears.engine.kpis.ledger import object_array
from arrears.engine.policy.load import load_policy

# The ledger label of each account's assigned strategy (not `group_by="strategy"`, which reads the
# strategy recorded on the account's latest decision: the results count the assigned debtors).
LABEL = "assigned_strategy"
GUARDRAIL_ALPHA = 0.05


@dataclass
class Results:
    """Everything `to_dict` and `to_text` show (see the module docstring)."""

    experiment: Experiment
    row: dict
    period: tuple[str, str] | None
    debtors: dict                       # arm -> debtors assigned (ineligible included)
    kpis: dict = field(default_factory=dict)          # arm -> {kpi: value or None}
    series: list = field(default_factory=list)        # per calendar month: from, to, {arm: primary KPI}
    comparisons: dict = field(default_factory=dict)   # challenger -> stats.Comparison (primary metric)
    sample_ratio: stats.SampleRatio | None = None
    guardrails: dict = field(default_factory=dict)    # challenger -> {metric: Comparison}
    alarms: list = field(default_factory=list)
    verdict: str = ""
    paused: list = field(default_factory=list)        # (first day, last day, reason) left out, in order

    def to_dict(self) -> dict:
        """JSON form."""
        row = self.row
        return {"name": row["name"], "status": row["status"], "started_at": row["started_at"],
                "started_by": row["started_by"], "ended_at": row["ended_at"], "ended_by": row["ended_by"],
                "promoted": row["promoted"], "paused_reason": row.get("paused_reason"),
                "champion_policy": row["champion_digest"],
                "experiment": self.experiment.to_dict(),
                "period": None if self.period is None else {"from": self.period[0], "to": self.period[1]},
                "debtors": dict(self.debtors), "kpis": self.kpis, "series": list(self.series),
                "primary": {name: c.to_dict() for name, c in self.comparisons.items()},
                "sample_ratio": None if self.sample_ratio is None else self.sample_ratio.to_dict(),
                "guardrails": {name: {g: c.to_dict() for g, c in gs.items()} for name, gs in self.guardrails.items()},
                "alarms": list(self.alarms), "verdict": self.verdict,
                "paused": {"days_excluded": self.days_excluded,
                           "stretches": [{"from": a.isoformat(), "to": b.isoformat(), "reason": why}
                                         for a, b, why in self.paused]}}

    @property
    def days_excluded(self) -> int:
        """Days of the period left out of the results because the experiment was paused."""
        return sum((b - a).days + 1 for a, b, _why in self.paused)

    def to_text(self) -> str:
        """Plain text for the terminal."""
        e, row = self.experiment, self.row
        lines = [f"experiment {e.name}: {row['status']}, {e.start} to {e.end}"
                 + (f" (promoted {row['promoted']})" if row["promoted"] else "")
                 + (f"; paused by the tick, everyone decided under the champion: {row['paused_reason']}"
                    if row.get("paused_reason") else "")]
        lines.append("debtors: " + ", ".join(f"{arm} {n:,}" for arm, n in self.debtors.items()) if self.debtors
                     else "debtors: none assigned yet")
        needed = e.sample_size()
        lines.append(f"needed: {needed.total:,} eligible debtors "
                     f"({', '.join(f'{a} {n:,}' for a, n in needed.per_arm.items())})")
        if self.period:
            lines.append(f"period: {self.period[0]} to {self.period[1]}")
        if self.paused:
            lines.append(f"paused: {self.days_excluded} day{'s' if self.days_excluded != 1 else ''} left out of "
                         "every strategy's figures (the champion decided everyone): "
                         + "; ".join(f"{a} to {b} ({why})" for a, b, why in self.paused))
        kpi = e.metric.kpi
        for arm, values in self.kpis.items():
            shown = values.get(kpi)
            lines.append(f"  {arm}: {kpi} {'n/a' if shown is None else shown}")
        for point in self.series if len(self.series) > 1 else ():
            shown = ", ".join(f"{arm} {'n/a' if v is None else v}" for arm, v in point["values"].items())
            lines.append(f"  {point['from']} to {point['to']}: {shown}")
        for name, c in self.comparisons.items():
            lines.append(f"  {name} - champion: {_signed(c.difference, e)} (95% CI {_signed(c.low, e)} to "
                         f"{_signed(c.high, e)}), p = {_p(c.p_value)}, {c.test}")
        if self.sample_ratio is not None:
            lines.append(f"sample ratio: chi-square {self.sample_ratio.chi_square:.2f}, "
                         f"p = {_p(self.sample_ratio.p_value)}{' MISMATCH' if self.sample_ratio.mismatch else ''}")
        lines += [f"ALARM: {alarm}" for alarm in self.alarms]
        lines.append(f"verdict: {self.verdict}")
        return "\n".join(lines)


def _p(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "n/a"
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}"


def _points(value: float, experiment: Experiment) -> float:
    """A difference in the KPI's unit: percentage points (proportions are fractions of 1)."""
    return value * 100 if experiment.metric.is_rate else value


def _signed(value: float, experiment: Experiment) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{_points(value, experiment):+.2f} points"


def experiment_results(store, name: str, *, now: datetime.datetime, costs=None, facts=None,
                       profiles=None) -> Results:
    """The results of experiment `name` as of `now` (see the module docstring); the champion is
    compiled with the plugin `facts` and the company `profiles` directory, as the tick compiles it
    (a champion whose conditions use a plugin fact does not compile without them)."""
    row, experiment = stored(store, name)
    debtors = store.experiments.arm_counts(row["id"])
    result = Results(experiment, row, None, {a.name: debtors.get(a.name, 0) for a in experiment.arms}
                     | ({INELIGIBLE: debtors[INELIGIBLE]} if debtors.get(INELIGIBLE) else {}))
    end, until = _period_end(row, experiment, now)
    if end < experiment.start or not sum(n for a, n in debtors.items() if a != INELIGIBLE):
        result.verdict = ("no debtor has been assigned yet: the tick assigns each eligible debtor at its first "
                          "evaluation on or after the start")
        return result
    result.period = (experiment.start.isoformat(), end.isoformat())
    champion = _champion(store, row, facts, profiles)
    start_day, end_day = epoch_day(experiment.start), epoch_day(end)
    result.paused = paused_stretches(store.experiments.pauses(row["id"]), experiment.start, end, until)
    ledger, arms, debtor_of = _ledger(store, row, champion)
    ledger = without_days(ledger, result.paused)
    report = compute_kpis(ledger, start_day, end_day, group_by=LABEL, policy=champion, costs=costs)
    result.kpis = _kpis_by_arm(report, experiment)
    result.series = _series(ledger, start_day, end_day, champion, costs, experiment)
    matrix, cols = account_figures(ledger, start_day, end_day, policy=champion)
    result.comparisons = {arm.name: _compare(experiment, matrix, cols, arms, debtor_of, arm.name)
                          for arm in experiment.arms[1:]}
    shares = {arm.name: float(arm.share) for arm in experiment.arms}
    result.sample_ratio = stats.sample_ratio({a: debtors.get(a, 0) for a in shares}, shares)
    result.guardrails, result.alarms = _guardrails(store, row, experiment, debtors, until, result.paused)
    result.verdict = verdict(experiment, result)
    return result


def _period_end(row: dict, experiment: Experiment, now: datetime.datetime) -> tuple[datetime.date, int]:
    """The results' last day (UTC) and last instant (epoch s): the file's end, or today if sooner;
    for an experiment stopped or promoted, its stop (the champion decides everyone after it, so
    what follows is not the experiment's: a stopped experiment's results stay as they were)."""
    end = min(now.date(), experiment.end)
    until = int(datetime.datetime.combine(end, datetime.time.max, datetime.timezone.utc).timestamp())
    if row["ended_at"] is not None:
        end = min(end, datetime.datetime.fromtimestamp(row["ended_at"], datetime.timezone.utc).date())
        until = min(until, int(row["ended_at"]))
    return end, until


def _utc_day(epoch: int) -> datetime.date:
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()


def paused_stretches(pauses, first: datetime.date, last: datetime.date, until: int) -> list[tuple]:
    """The days (UTC) the `pauses` ((paused_at, resumed_at or None, reason), epoch s) touched
    within `first`..`last`, as (first day, last day, reason) stretches, in order; a pause not yet
    resumed lasts to `until`; stretches sharing or adjoining a day are merged."""
    out: list[list] = []
    for paused_at, resumed_at, reason in sorted(pauses, key=lambda p: p[0]):
        a = max(_utc_day(paused_at), first)
        b = min(_utc_day(min(until, resumed_at if resumed_at is not None else until)), last)
        if a > b:
            continue
        if out and a <= out[-1][1] + datetime.timedelta(days=1):
            out[-1][1] = max(out[-1][1], b)
            out[-1][2] = out[-1][2] if reason in out[-1][2].split("; ") else f"{out[-1][2]}; {reason}"
        else:
            out.append([a, b, reason])
    return [tuple(s) for s in out]


# The ledger's tables of what debtors did (the outcomes), with the day column each is dated by.
_OUTCOMES = {"payments": "day", "contacts": "day", "promises": "made_day", "disputes": "day"}


def without_days(ledger, stretches):
    """`ledger` without the outcomes (`_OUTCOMES`) dated on a day of `stretches`."""
    if not stretches:
        return ledger
    days = np.concatenate([np.arange(epoch_day(a), epoch_day(b) + 1) for a, b, _why in stretches])
    return replace(ledger, **{name: getattr(ledger, name).take(~np.isin(getattr(getattr(ledger, name), col), days))
                              for name, col in _OUTCOMES.items()})


def _champion(store, row: dict, facts, profiles):
    version = store.policy_version(row["champion_digest"]) or store.active_policy()
    return load_policy(version["source"], filename=f"<stored policy {version['name']} {version['version']}>",
                       facts=facts, company_profiles=profiles)


def _ledger(store, row, policy):
    """The portfolio's ledger labelled with each account's strategy (None: not taking part)."""
    ledger = ledger_from_store(store, policy)
    found = {acct: (debtor, arm) for acct, debtor, arm, _at in store.experiments.account_arms(row["id"])}
    labels, debtors = [], []
    for key in ledger.acct_keys.tolist():
        debtor, arm = found.get(int(key), (None, None))
        labels.append(None if arm in (None, INELIGIBLE) else arm)
        debtors.append(debtor)
    arms = object_array(labels)
    return replace(ledger, labels={**ledger.labels, LABEL: arms}), arms, object_array(debtors)


def _kpis_by_arm(report, experiment: Experiment) -> dict:
    """arm -> {kpi: value text or None} (the first currency's row of each arm)."""
    out = {}
    for row in report.groups:
        if row.group in out or row.group not in {a.name for a in experiment.arms}:
            continue
        out[row.group] = {name: kpi.to_dict()["value"] for name, kpi in row.kpis.items()}
    return {a.name: out.get(a.name, {}) for a in experiment.arms}


def _series(ledger, start_day: int, end_day: int, policy, costs, experiment: Experiment) -> list[dict]:
    """The primary KPI per strategy in each calendar month of the period (the first from the
    start, the last to the end): {"from", "to", "values": {arm: value or None}}."""
    bounds = [start_day - 1] + [d for d in month_ends(start_day, end_day)[1:] if d > start_day - 1]
    if len(bounds) < 2:
        return []
    out = []
    for report in kpi_series(ledger, bounds, group_by=LABEL, policy=policy, costs=costs).reports:
        values = {arm: by.get(experiment.metric.kpi) for arm, by in _kpis_by_arm(report, experiment).items()}
        out.append({"from": day_to_date(report.start).isoformat(), "to": day_to_date(report.end).isoformat(),
                    "values": values})
    return out


def _sums(matrix, cols, names) -> np.ndarray:
    return sum(matrix[:, cols[n]] for n in names)


def _compare(experiment, matrix, cols, arms, debtor_of, challenger: str) -> stats.Comparison:
    """The primary metric, challenger against champion (metrics.TESTS says how)."""
    how = experiment.metric.how
    num, den = _sums(matrix, cols, how.numerator), _sums(matrix, cols, how.denominator)
    a, b = arms == CHAMPION, arms == challenger
    if how.kind == metrics.PROPORTION:
        return stats.two_proportions(int(num[a].sum()), int(den[a].sum()), int(num[b].sum()), int(den[b].sum()))
    return stats.welch(_debtor_rates(num, den, debtor_of, a), _debtor_rates(num, den, debtor_of, b))


def _debtor_rates(num, den, debtor_of, rows) -> np.ndarray:
    """Each debtor's own rate in percent (sum of its accounts' figures), where it has a denominator."""
    names, codes = np.unique(debtor_of[rows].astype(str), return_inverse=True)
    top = np.bincount(codes, weights=num[rows].astype(float), minlength=len(names))
    bottom = np.bincount(codes, weights=den[rows].astype(float), minlength=len(names))
    has = bottom > 0
    return 100 * top[has] / bottom[has]


def _guardrails(store, row, experiment, debtors, until, paused) -> tuple[dict, list]:
    types = tuple(metrics.GUARDRAILS[g] for g in experiment.guardrails)
    day = 86_400
    excluded = tuple((epoch_day(a) * day, (epoch_day(b) + 1) * day) for a, b, _why in paused)
    counts = store.experiments.guardrail_counts(row["id"], types, until, excluded) if types else {}
    out, alarms = {}, []
    n0 = debtors.get(CHAMPION, 0)
    for arm in experiment.arms[1:]:
        n1, per = debtors.get(arm.name, 0), {}
        for g in experiment.guardrails:
            kind = metrics.GUARDRAILS[g]
            c = stats.two_proportions(counts.get((CHAMPION, kind), 0), n0, counts.get((arm.name, kind), 0), n1)
            per[g] = c
            if math.isfinite(c.p_value) and c.difference > 0 and c.p_value < GUARDRAIL_ALPHA:
                alarms.append(f"{arm.name} raises {g.replace('_', ' ')}: {c.challenger:.2%} of its debtors against "
                              f"{c.champion:.2%} for the champion (p = {_p(c.p_value)})")
        out[arm.name] = per
    return out, alarms


def verdict(experiment: Experiment, result: Results) -> str:
    """The results in plain words: trust, then each challenger's standing, then what to do."""
    m = experiment.metric
    label = KPIS[m.kpi].label
    if result.sample_ratio is not None and result.sample_ratio.mismatch:
        return (f"Do not trust these results: the debtors are not split as the shares say (sample-ratio "
                f"chi-square p = {_p(result.sample_ratio.p_value)}). Find out why before reading any difference.")
    needed = experiment.sample_size().per_arm
    words = []
    for name, c in result.comparisons.items():
        if not math.isfinite(c.p_value):
            words.append(f"{name}: not enough data on {label} yet.")
            continue
        better = (c.difference > 0) == (m.better == "up")
        short = min(result.debtors.get(CHAMPION, 0) / max(needed[CHAMPION], 1),
                    result.debtors.get(name, 0) / max(needed[name], 1))
        diff = f"{_signed(c.difference, experiment)} (95% CI {_signed(c.low, experiment)} to {_signed(c.high, experiment)})"
        if c.p_value < m.alpha and better:
            alarms = [a for a in result.alarms if a.startswith(name + " ")]
            words.append(f"{name} is better on {label}: {diff} against the champion, p = {_p(c.p_value)}. "
                         + ("But it trips a guardrail; do not promote it." if alarms
                            else "If the experiment has run its planned length, promote it."))
        elif c.p_value < m.alpha:
            words.append(f"{name} is worse on {label}: {diff}, p = {_p(c.p_value)}. Keep the champion.")
        elif short < 1:
            words.append(f"{name}: no significant difference on {label} yet ({diff}, p = {_p(c.p_value)}); "
                         f"only {short:.0%} of the debtors needed are assigned, keep running.")
        else:
            words.append(f"{name}: no significant difference on {label} ({diff}, p = {_p(c.p_value)}) with the "
                         f"debtors needed assigned; it is not better by {m.minimum_detectable_effect:g} or more. "
                         f"Keep the champion.")
    return " ".join(words)
