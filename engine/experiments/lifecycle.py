"""Starting, stopping and promoting an experiment: the checks that need the store, then its record.

`start` checks the file (`spec`), then what only the store knows: a policy is active (the
champion), each challenger's version is stored, untampered, loads, and is not the champion
itself, and the eligibility's segments are the champion's. `resume` puts an experiment the tick
paused back to running, once the tick's own checks pass again. `promote` ends the experiment and
activates the challenger's version in one transaction; `propose_promotion` asks for that
through maker-checker instead (the console: another user's approval promotes). Each is audited by the store
(`arrears.engine.store.experiments`), with who did it (`by`).
"""
from __future__ import annotations

import datetime
from pathlib import Path

from arrears.engine.domain.errors import InputError, PolicyTampered
from arrears.engine.experiments.live import cannot_run
from arrears.engine.experiments.spec import CHAMPION, Experiment, load_experiment
from arrears.engine.policy.load import load_policy


def _source(file) -> tuple[str, str]:
    path = Path(file)
    return path.read_text(encoding="utf-8"), str(path)


def start(store, file, *, by: str, now=None, facts: dict | None = None, text: str | None = None,
          profiles=None) -> dict:
    """Start the experiment in `file` (or in `text`, named `file`); returns its stored row.
    `profiles`: the company's own profiles directory, which the champion and every challenger are
    compiled with (as the tick compiles them). Raises PolicyError (the file's problems),
    InputError (what the store refuses)."""
    source, filename = (text, str(file)) if text is not None else _source(file)
    active = store.active_policy()
    if active is None:
        raise InputError("no policy is active: the champion is the active policy; activate one first")
    champion = load_policy(active["source"], filename=f"<stored policy {active['name']} {active['version']}>",
                           facts=facts, company_profiles=profiles)
    experiment = load_experiment(source, filename, facts=facts, segments=tuple(champion.segments))
    for arm in experiment.arms[1:]:
        _check_challenger(store, arm, active["digest"], facts, profiles)
    return store.experiments.start(name=experiment.name, digest=experiment.digest, source=source,
                                   salt=experiment.salt, champion_digest=active["digest"], now=now, by=by,
                                   body=_summary(experiment, active["digest"]))


def _check_challenger(store, arm, champion_digest: str, facts, profiles) -> None:
    row = store.policy_version(arm.policy)
    if row is None:
        raise InputError(f"challenger {arm.name!r}: no stored policy version {arm.policy} "
                         f"(store it with POST /v1/policies, or list them with GET /v1/policies)")
    if arm.policy == champion_digest:
        raise InputError(f"challenger {arm.name!r}: {arm.policy} is the active policy, the champion itself")
    problem = store.policy_tampering(arm.policy, row["source"])
    if problem is not None:
        raise PolicyTampered(problem)
    load_policy(row["source"], filename=f"<stored policy {row['name']} {row['version']}>", facts=facts,
                company_profiles=profiles)


def _summary(experiment: Experiment, champion_digest: str) -> dict:
    return {"digest": experiment.digest, "champion": champion_digest,
            "strategies": {arm.name: {"policy": arm.policy or champion_digest, "share": str(arm.share)}
                           for arm in experiment.arms},
            "start": experiment.start.isoformat(), "end": experiment.end.isoformat()}


def stored(store, name: str) -> tuple[dict, Experiment]:
    """The stored experiment `name` and its file; InputError if there is none."""
    row = store.experiments.get(name)
    if row is None:
        known = ", ".join(r["name"] for r in store.experiments.listing()) or "none"
        raise InputError(f"no experiment called {name!r} (experiments: {known})")
    return row, load_experiment(row["source"], f"<experiment {name}>")


def stop(store, name: str, *, by: str, now=None) -> dict:
    """Stop the running experiment `name`: every debtor goes back to the champion."""
    stored(store, name)
    return store.experiments.end(name, by=by, now=now)


def pause(store, strategies, *, by: str = "tick", now=None) -> dict | None:
    """Pause the experiment `strategies` (`live.Strategies`) found it cannot run, for its
    `pause_reason`; None if there is none to pause (or another process paused it first)."""
    if strategies.paused is None:
        return None
    return store.experiments.pause(strategies.paused["name"], strategies.pause_reason, by=by, now=now)


def resume(store, name: str, *, by: str, now=None, facts: dict | None = None, profiles=None) -> dict:
    """Resume the paused experiment `name` once the cause of its pause is gone: every debtor back
    under its recorded strategy from the next tick. InputError, nothing written, if it is not
    paused, its end has passed, the active policy is no longer its champion, or the tick's checks
    still fail (`live.cannot_run`: a challenger's version tampered with, not stored or not
    loading; the eligibility not fitting the champion), saying which. `profiles`: as for `start`."""
    row, experiment = stored(store, name)
    if row["status"] != "paused":
        ended = row["status"] in ("stopped", "promoted")
        raise InputError(f"experiment {name!r} is {row['status']}: only a paused experiment can be resumed"
                         + ("; it has ended, start a new one (under a new name)" if ended else ""))
    if _day(now) > experiment.end:
        raise InputError(f"experiment {name!r} ended on {experiment.end} (its file's end); it cannot be resumed: "
                         "stop it")
    active = store.active_policy()
    if active is None or active["digest"] != row["champion_digest"]:
        raise InputError(f"experiment {name!r} cannot be resumed: its champion {row['champion_digest']} is no "
                         "longer the active policy; stop it")
    champion = load_policy(active["source"], filename=f"<stored policy {active['name']} {active['version']}>",
                           facts=facts, company_profiles=profiles)
    reason = cannot_run(store, row, champion, facts=facts)
    if reason is not None:
        raise InputError(f"experiment {name!r} cannot be resumed, the cause still holds: {reason}")
    return store.experiments.resume(name, by=by, now=now)


def _day(now) -> datetime.date:
    """The UTC day of `now` (a timezone-aware datetime, epoch seconds, or None: today)."""
    if now is None:
        now = datetime.datetime.now(datetime.UTC)
    elif not isinstance(now, datetime.datetime):
        now = datetime.datetime.fromtimestamp(int(now), datetime.UTC)
    return now.astimezone(datetime.UTC).date()


def _challenger_version(store, name: str, arm: str) -> tuple[dict, dict]:
    """(the stored experiment `name`, challenger `arm`'s stored policy version); InputError if
    `arm` is not one of its challengers or its version is no longer stored."""
    row, experiment = stored(store, name)
    challengers = [a.name for a in experiment.arms if a.name != CHAMPION]
    if arm not in challengers:
        raise InputError(f"{arm!r} is not a challenger of {name!r} (its challengers: {', '.join(challengers)})")
    policy = store.policy_version(experiment.arm(arm).policy)
    if policy is None:
        raise InputError(f"challenger {arm!r}: its policy version {experiment.arm(arm).policy} is no longer stored")
    return row, policy


def promote(store, name: str, arm: str, *, by: str, now=None) -> dict:
    """End the running experiment `name` and activate challenger `arm`'s policy version."""
    row, policy = _challenger_version(store, name, arm)
    return store.experiments.promote(name, arm, policy, by=by, now=now, body={"digest": row["digest"]})


def propose_promotion(store, name: str, arm: str, *, by: str, note: str = "", now=None) -> dict:
    """Propose promoting challenger `arm` of the running experiment `name` (maker-checker, as
    the console does it): a pending proposal of its policy version (`store.proposals`) that a
    different user approves with `proposals.approve`, which then promotes. Returns the version."""
    from arrears.engine.store import proposals
    _row, policy = _challenger_version(store, name, arm)
    with store.transaction(now=now) as w:
        proposals.propose(w.conn, policy["digest"], by, note, w.now, experiment=name, arm=arm)
    return policy
