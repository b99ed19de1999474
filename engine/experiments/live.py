"""The strategies a tick decides with: the champion and, while an experiment runs, its challengers.

    strategies = Strategies.load(store, champion, now)     # the active policy as the champion
    split = strategies.split(store, acct_nos, batch, now)  # each account's strategy, new assignments

Outside an experiment's dates (or with none running) every account is the champion's: the
tick then decides exactly as without experiments. Within them, each account is decided
under its debtor's strategy: the one recorded at the debtor's first evaluation, else drawn
now (`assign`) if the debtor meets the eligibility (any of its accounts does, evaluated on
the champion's facts), else `ineligible` (decided by the champion, left out of the results).
Jurisdiction guardrails are part of every compiled policy, so they apply to each strategy alike.

A running experiment the tick cannot run safely (a challenger's stored text tampered with, not
stored or no longer loading; the eligibility naming a segment the champion lacks, or no longer
compiling) is not raised: `load` returns the champion alone with `pause_reason` set, and the
tick pauses the experiment (`lifecycle.pause`): an audited alarm, its status says why.
`cannot_run` makes the same checks for `lifecycle.resume`, which refuses while the cause holds.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np

from arrears.engine.domain.clock import as_epoch
from arrears.engine.domain.errors import PolicyError, PolicyTampered
from arrears.engine.experiments import assign
from arrears.engine.experiments.spec import CHAMPION, Experiment, load_experiment
from arrears.engine.facts.compute import Facts
from arrears.engine.policy.conditions import compile_condition
from arrears.engine.policy.load import load_policy


@dataclass
class Split:
    """Each account's strategy (`arms`, object array aligned with the accounts) and the debtors
    assigned by this split, to record with the page (`new`: (debtor, arm) pairs)."""

    arms: np.ndarray
    new: list = field(default_factory=list)


@dataclass
class Strategies:
    """The champion policy, and the running experiment with each challenger's compiled policy."""

    champion: object
    experiment: Experiment | None = None
    experiment_id: int | None = None
    challengers: dict = field(default_factory=dict)     # arm name -> CompiledPolicy
    eligibility: object = None                           # compiled condition, None: everyone
    pause_reason: str | None = None                      # the running experiment cannot run: why
    paused: dict | None = None                           # and its stored row (the champion decides)

    @classmethod
    def load(cls, store, champion, now: datetime.datetime, *, facts: dict | None = None) -> "Strategies":
        """The strategies at `now`: the running experiment's, if `now` is within its dates. If it
        cannot run (see the module docstring), the champion alone, with `pause_reason`."""
        row = store.experiments.running()
        if row is None:
            return cls(champion)
        try:
            experiment = _experiment(row, champion, facts)
            if not _within(experiment, now):
                return cls(champion)
            challengers, eligibility = _compiled(store, experiment, facts, champion.company_profiles)
        except _CANNOT_RUN as exc:
            return cls(champion, pause_reason=_reason(exc), paused=row)
        return cls(champion, experiment, row["id"], challengers, eligibility)

    @property
    def live(self) -> bool:
        """An experiment splits the accounts now."""
        return self.experiment is not None

    def policy_of(self, arm: str):
        """The policy strategy `arm` decides with (the champion's for `champion` and `ineligible`)."""
        return self.challengers.get(arm, self.champion)

    def split(self, store, acct_nos, batch, now: datetime.datetime) -> Split:
        """Each of `acct_nos`' strategy (see the module docstring); reads, writes nothing.
        `batch`: the accounts' loaded batch (their debtors, and the facts of new debtors when
        the eligibility needs them). Column-wise: one read of the page's recorded strategies,
        Python only for the debtors not assigned yet."""
        if not self.live:
            return Split(np.full(len(acct_nos), CHAMPION, dtype=object))
        arms = store.experiments.page_arms(self.experiment_id, acct_nos)
        unknown = np.flatnonzero(np.equal(arms, None))
        new = {}
        if unknown.size:
            debtors = np.asarray(batch.debtor, dtype=object)[unknown]
            new = self._assign(lambda: batch.take(unknown), debtors, now)
            arms[unknown] = [new[d] for d in debtors.tolist()]
        return Split(arms, sorted(new.items()))

    def arms_for_batch(self, store, batch, now: datetime.datetime) -> np.ndarray:
        """Each row of `batch`'s strategy (accounts sent to the API, stored or not): its debtor's
        recorded one, else the one the tick would give it now. Records nothing."""
        if not self.live:
            return np.full(batch.n, CHAMPION, dtype=object)
        debtors = np.asarray(batch.debtor, dtype=object)
        known = store.experiments.assignments_of(self.experiment_id, debtors.tolist())
        drawn = {} if len(known) == len(set(debtors.tolist())) else self._assign(lambda: batch, debtors, now)
        return np.asarray([known.get(d) or drawn[d] for d in debtors.tolist()], dtype=object)

    def _assign(self, batch_of, debtors, now) -> dict:
        """{debtor: arm} of the rows of the batch `batch_of()` (read only if the eligibility needs
        facts; `debtors` aligned with its rows): drawn if any of the debtor's accounts meets the
        eligibility, else `ineligible`."""
        eligible = np.ones(len(debtors), dtype=bool)
        if self.eligibility is not None:
            facts = Facts(batch_of(), self.champion, as_epoch(now))
            eligible = np.asarray(self.eligibility.evaluate(facts), dtype=bool)
        ok = {d for d, e in zip(debtors.tolist(), eligible.tolist()) if e}
        names = sorted(set(debtors.tolist()))
        drawn = assign.arms(self.experiment, names)
        return {d: (a if d in ok else assign.INELIGIBLE) for d, a in zip(names, drawn.tolist())}

    def arm_of(self, store, acct_no: int) -> str:
        """The recorded strategy of one account's debtor (champion when none is recorded)."""
        if not self.live:
            return CHAMPION
        return store.experiments.page_arms(self.experiment_id, [acct_no])[0] or CHAMPION


def cannot_run(store, row: dict, champion, *, facts: dict | None = None) -> str | None:
    """Why the stored experiment `row` cannot run with `champion` (its file against the champion's
    segments, each challenger's stored version untampered and loading, the eligibility compiling),
    in one line; None if it can. The checks the tick pauses an experiment for, whatever the date:
    resuming a paused experiment makes them first (`lifecycle.resume`)."""
    try:
        _compiled(store, _experiment(row, champion, facts), facts, champion.company_profiles)
    except _CANNOT_RUN as exc:
        return _reason(exc)
    return None


_CANNOT_RUN = (PolicyError, PolicyTampered, LookupError)


def _experiment(row: dict, champion, facts) -> Experiment:
    return load_experiment(row["source"], f"<experiment {row['name']}>", facts=facts,
                           segments=tuple(champion.segments))


def _compiled(store, experiment: Experiment, facts, profiles) -> tuple[dict, object]:
    """({challenger: its compiled stored policy}, the compiled eligibility or None). `profiles`: the
    company profiles directory the champion was compiled with; each challenger gets the same."""
    challengers = {arm.name: stored_policy(store, arm.name, arm.policy, facts, profiles)
                   for arm in experiment.arms[1:]}
    eligibility = None if experiment.eligibility is None else compile_condition(experiment.eligibility, facts)
    return challengers, eligibility


def _within(experiment: Experiment, now: datetime.datetime) -> bool:
    day = now.astimezone(datetime.timezone.utc).date()
    return experiment.start <= day <= experiment.end


def stored_policy(store, arm: str, digest: str, facts, profiles=None):
    """Challenger `arm`'s stored policy version `digest`, checked untampered and compiled with the
    plugin `facts` and the company `profiles` directory (the champion's: `company_profiles`), as
    the tick decides with it. LookupError (not stored), PolicyTampered, PolicyError."""
    row = store.policy_version(digest)
    if row is None:
        raise LookupError(f"challenger {arm!r}: its policy version {digest} is not stored")
    problem = store.policy_tampering(digest, row["source"])
    if problem is not None:
        raise PolicyTampered(f"challenger {arm!r}: {problem}")
    kept = _compiled_versions.get((row["source"], profiles))
    if kept is not None and kept[0] is facts:
        return kept[1]
    policy = load_policy(row["source"], filename=f"<stored policy {row['name']} {row['version']}>", facts=facts,
                         company_profiles=profiles)
    if len(_compiled_versions) >= 8:
        _compiled_versions.clear()
    _compiled_versions[(row["source"], profiles)] = (facts, policy)
    return policy


# (stored text, checked untampered at every load; the company profiles directory) -> (the plugin
# facts it was compiled with, the CompiledPolicy): a process ticking again and again compiles each
# challenger once, not per tick. (A profile file edited in place is read again by a new process.)
_compiled_versions: dict[str, tuple] = {}


def _reason(exc: Exception) -> str:
    """One line: why the experiment cannot run."""
    text = str(exc.args[0]) if isinstance(exc, LookupError) and exc.args else str(exc)
    if isinstance(exc, PolicyError):
        text = f"it no longer fits the champion or a challenger no longer loads: {text}"
    return " ".join(text.split())
