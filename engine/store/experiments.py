"""Champion/challenger experiments (`experiments`) and each debtor's strategy in them
(`experiment_assignments`) and the stretches each was paused (`experiment_pauses`, opened by
`pause`, closed by `resume`): every read and write of those tables.

At most one experiment runs (or is paused) at a time. Starting, pausing, resuming, stopping and
promoting are audited (`experiment.started`, `experiment.paused`, `experiment.resumed`,
`experiment.stopped`, `experiment.promoted`, with `by`), and each
makes every account due (`due.make_all_due`), so the next tick decides each one under its
strategy (or, after the end, the champion's) at once. Assignments
are written by the tick, in its page transaction, once per debtor and experiment, and never
changed (`record_assignments` leaves a debtor already assigned as it is), so no debtor
switches strategy while an experiment runs.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from sqlalchemy import Connection, and_, func, insert, literal_column, select, update

from arrears.engine.domain.errors import InputError
from arrears.engine.store import audit, due, policyvers
from arrears.engine.store.db import KEYS, fetch_keyed, fetch_tuples, read_transaction
from arrears.engine.store.schema import accounts, events, experiment_assignments, experiment_pauses, experiments
from arrears.engine.store.tickstore import executemany, insert_ignore

RUNNING, PAUSED, STOPPED, PROMOTED = "running", "paused", "stopped", "promoted"
_COLUMNS = ("id", "name", "digest", "source", "salt", "champion_digest", "status", "started_at", "started_by",
            "ended_at", "ended_by", "promoted", "paused_reason")


def _debtor():
    """An account's debtor, the unit of assignment: its debtor_id, else its own id (the Batch's
    `debtor`)."""
    return func.coalesce(accounts.c.debtor_id, accounts.c.id)


def _row(row) -> dict | None:
    return None if row is None else {name: getattr(row, name) for name in _COLUMNS}


def get(conn: Connection, name: str) -> dict | None:
    """The experiment called `name`, as a dict of its columns, or None."""
    return _row(conn.execute(select(experiments).where(experiments.c.name == name)).one_or_none())


def running(conn: Connection) -> dict | None:
    """The running experiment, or None."""
    return _row(conn.execute(select(experiments).where(experiments.c.status == RUNNING)).first())


def current(conn: Connection) -> dict | None:
    """The experiment running or paused (not yet ended), or None."""
    return _row(conn.execute(select(experiments).where(experiments.c.status.in_((RUNNING, PAUSED)))).first())


def listing(conn: Connection) -> list[dict]:
    """Every experiment, newest first."""
    return [_row(r) for r in conn.execute(select(experiments).order_by(experiments.c.id.desc()))]


def start(conn: Connection, *, name: str, digest: str, source: str, salt: str, champion_digest: str,
          now: int, by: str, body: dict) -> dict:
    """Record a running experiment; audited as `experiment.started` with `body`. InputError if
    one is running already or the name was used before."""
    now_current = current(conn)
    if now_current is not None:
        raise InputError(f"experiment {now_current['name']!r} is {now_current['status']}; stop it first "
                         "(one runs at a time)")
    if get(conn, name) is not None:
        raise InputError(f"an experiment called {name!r} was run before; give this one another name")
    conn.execute(insert(experiments).values(name=name, digest=digest, source=source, salt=salt,
                                            champion_digest=champion_digest, status=RUNNING, started_at=now,
                                            started_by=by))
    made_due = due.make_all_due(conn)
    audit.append(conn, "experiment.started", name, {**body, "accounts_made_due": made_due, "by": by}, now)
    return get(conn, name)


def end(conn: Connection, name: str, *, now: int, by: str, promoted: str | None = None, body: dict | None = None) -> dict:
    """End the running (or paused) experiment `name`: stopped, or promoted (`promoted`: the
    challenger; only a running one); audited as `experiment.stopped` / `experiment.promoted`.
    InputError if it has ended."""
    row = get(conn, name)
    if row is None:
        raise InputError(f"no experiment called {name!r}")
    if row["status"] == PAUSED and promoted:
        raise InputError(f"experiment {name!r} is paused ({row['paused_reason']}); its results cannot be "
                         "trusted enough to promote: stop it")
    if row["status"] not in (RUNNING, PAUSED):
        raise InputError(f"experiment {name!r} is not running (it was {row['status']})")
    status = PROMOTED if promoted else STOPPED
    conn.execute(update(experiments).where(experiments.c.id == row["id"])
                 .values(status=status, ended_at=now, ended_by=by, promoted=promoted))
    made_due = due.make_all_due(conn)
    audit.append(conn, f"experiment.{status}", name, {**(body or {}), "promoted": promoted,
                                                      "accounts_made_due": made_due, "by": by}, now)
    return get(conn, name)


def pause(conn: Connection, name: str, reason: str, *, now: int, by: str) -> dict | None:
    """Pause the running experiment `name` for `reason`: everyone is decided under the champion
    until it is stopped (the debtors' strategies stay recorded). Audited as `experiment.paused`
    (an alarm) and every account made due. None (nothing written) if it is not running, e.g.
    another tick paused it first."""
    row = get(conn, name)
    if row is None or row["status"] != RUNNING:
        return None
    conn.execute(update(experiments).where(experiments.c.id == row["id"], experiments.c.status == RUNNING)
                 .values(status=PAUSED, paused_reason=reason))
    conn.execute(insert(experiment_pauses).values(experiment_id=row["id"], paused_at=int(now), reason=reason))
    made_due = due.make_all_due(conn)
    audit.append(conn, "experiment.paused", name, {"reason": reason, "accounts_made_due": made_due, "by": by},
                 now)
    return get(conn, name)


def resume(conn: Connection, name: str, *, now: int, by: str) -> dict:
    """Resume the paused experiment `name`: running again, its reason cleared, every account made
    due so the next tick puts each debtor back under its recorded strategy. Audited as
    `experiment.resumed` with the reason it was paused for. InputError if it is not paused. (The
    checks that the cause is gone are the caller's: `arrears.engine.experiments.lifecycle.resume`.)"""
    row = get(conn, name)
    if row is None:
        raise InputError(f"no experiment called {name!r}")
    if row["status"] != PAUSED:
        raise InputError(f"experiment {name!r} is not paused (it is {row['status']}); only a paused experiment "
                         "can be resumed")
    conn.execute(update(experiments).where(experiments.c.id == row["id"], experiments.c.status == PAUSED)
                 .values(status=RUNNING, paused_reason=None))
    conn.execute(update(experiment_pauses).where(experiment_pauses.c.experiment_id == row["id"],
                                                 experiment_pauses.c.resumed_at.is_(None))
                 .values(resumed_at=int(now)))
    made_due = due.make_all_due(conn)
    audit.append(conn, "experiment.resumed", name, {"paused_reason": row["paused_reason"],
                                                    "accounts_made_due": made_due, "by": by}, now)
    return get(conn, name)


def promote(conn: Connection, name: str, arm: str, policy: dict, *, now: int, by: str, body: dict) -> dict:
    """End the running experiment `name` as promoted and activate challenger `arm`'s stored
    policy version `policy` (a `policyvers.by_digest` dict), in one transaction; both audited."""
    row = end(conn, name, now=now, by=by, promoted=arm, body={**body, "policy": policy["digest"]})
    policyvers.record(conn, policy["name"], policy["version"], policy["digest"], policy["source"], True, now)
    return row


def assignments_of(conn: Connection, experiment_id: int, debtors) -> dict[str, str]:
    """{debtor: arm} of those of `debtors` already assigned in the experiment."""
    debtors = sorted(set(debtors))
    out: dict[str, str] = {}
    for i in range(0, len(debtors), 5_000):
        chunk = debtors[i:i + 5_000]
        stmt = select(experiment_assignments.c.debtor, experiment_assignments.c.arm).where(
            experiment_assignments.c.experiment_id == experiment_id, experiment_assignments.c.debtor.in_(chunk))
        out.update((debtor, arm) for debtor, arm in conn.execute(stmt))     # bound: ids are data
    return out


def record_assignments(conn: Connection, experiment_id: int, rows: list[tuple[str, str]], now: int) -> int:
    """Assign each (debtor, arm) not yet assigned in the experiment; a debtor assigned already
    keeps its arm (the insert skips its row: ON CONFLICT DO NOTHING, whoever assigned it).
    Returns how many were new: the rows inserted (SQLite's and psycopg's executemany count
    them all)."""
    if not rows:
        return 0
    return executemany(conn, insert_ignore(conn, experiment_assignments),
                       [(int(experiment_id), d, a, now) for d, a in dict(rows).items()],
                       ("experiment_id", "debtor", "arm", "assigned_at"))


def arm_counts(conn: Connection, experiment_id: int) -> dict[str, int]:
    """{arm: debtors assigned to it}."""
    stmt = (select(experiment_assignments.c.arm, func.count()).where(
        experiment_assignments.c.experiment_id == experiment_id).group_by(experiment_assignments.c.arm))
    return dict(fetch_tuples(conn, stmt))


def account_arms(conn: Connection, experiment_id: int) -> list[tuple[int, str, str, int]]:
    """(acct_no, debtor, arm, assigned_at) of every account of an assigned debtor, by acct_no."""
    debtor = _debtor()
    stmt = (select(accounts.c.acct_no, experiment_assignments.c.debtor, experiment_assignments.c.arm,
                   experiment_assignments.c.assigned_at)
            .join(experiment_assignments, experiment_assignments.c.debtor == debtor)
            .where(experiment_assignments.c.experiment_id == experiment_id).order_by(accounts.c.acct_no))
    return fetch_tuples(conn, stmt)


class Experiments:
    """The store's experiments, each call its own transaction (`Store.experiments`)."""

    def __init__(self, store):
        self._store = store

    def _read(self):
        return read_transaction(self._store.engine)

    def get(self, name: str) -> dict | None:
        """See `get`."""
        with self._read() as conn:
            return get(conn, name)

    def running(self) -> dict | None:
        """See `running`."""
        with self._read() as conn:
            return running(conn)

    def current(self) -> dict | None:
        """See `current`."""
        with self._read() as conn:
            return current(conn)

    def pause(self, name: str, reason: str, *, by: str, now=None) -> dict | None:
        """See `pause`."""
        with self._store.transaction(now=now) as w:
            return pause(w.conn, name, reason, now=w.now, by=by)

    def listing(self) -> list[dict]:
        """See `listing`."""
        with self._read() as conn:
            return listing(conn)

    def start(self, *, now=None, **fields) -> dict:
        """See `start`."""
        with self._store.transaction(now=now) as w:
            return start(w.conn, now=w.now, **fields)

    def end(self, name: str, *, by: str, promoted: str | None = None, body: dict | None = None, now=None) -> dict:
        """See `end`."""
        with self._store.transaction(now=now) as w:
            return end(w.conn, name, now=w.now, by=by, promoted=promoted, body=body)

    def resume(self, name: str, *, by: str, now=None) -> dict:
        """See `resume`."""
        with self._store.transaction(now=now) as w:
            return resume(w.conn, name, now=w.now, by=by)

    def promote(self, name: str, arm: str, policy: dict, *, by: str, body: dict, now=None) -> dict:
        """See `promote`."""
        with self._store.transaction(now=now) as w:
            return promote(w.conn, name, arm, policy, now=w.now, by=by, body=body)

    def assignments_of(self, experiment_id: int, debtors) -> dict[str, str]:
        """See `assignments_of`."""
        with self._read() as conn:
            return assignments_of(conn, experiment_id, debtors)

    def record_assignments(self, experiment_id: int, rows: list[tuple[str, str]], *, now=None) -> int:
        """See `record_assignments` (in a transaction of its own)."""
        with self._store.transaction(now=now) as w:
            return record_assignments(w.conn, experiment_id, rows, w.now)

    def page_arms(self, experiment_id: int, acct_nos) -> np.ndarray:
        """See `page_arms`."""
        with self._read() as conn:
            return page_arms(conn, experiment_id, acct_nos)

    def guardrail_counts(self, experiment_id: int, types: tuple[str, ...], until: int,
                         excluded: tuple[tuple[int, int], ...] = ()) -> dict:
        """See `guardrail_counts`."""
        with self._read() as conn:
            return guardrail_counts(conn, experiment_id, types, until, excluded)

    def pauses(self, experiment_id: int) -> list[tuple[int, int | None, str]]:
        """See `pauses`."""
        with self._read() as conn:
            return pauses(conn, experiment_id)

    def arm_counts(self, experiment_id: int) -> dict[str, int]:
        """See `arm_counts`."""
        with self._read() as conn:
            return arm_counts(conn, experiment_id)

    def account_arms(self, experiment_id: int) -> list[tuple[int, str, str, int]]:
        """See `account_arms`."""
        with self._read() as conn:
            return account_arms(conn, experiment_id)


def page_arms(conn: Connection, experiment_id: int, acct_nos) -> np.ndarray:
    """Each of the accounts `acct_nos`' (strictly increasing) recorded strategy in the experiment,
    None where its debtor (its debtor_id, else its id, as the Batch's `debtor`) is not assigned
    yet: an object column aligned with `acct_nos`. The tick reads it once per page: one query per
    chunk of keys (a range scan for a dense page), the assignments joined by their primary key,
    the SQL compiled once per experiment."""
    nos = np.asarray(acct_nos, dtype=np.int64).ravel()
    out = np.full(len(nos), None, dtype=object)
    sql, key = _page_arms_sql(conn.dialect, int(experiment_id))
    rows = fetch_keyed(conn, sql, key, nos)
    if rows:
        got, arms = zip(*rows)
        out[np.searchsorted(nos, np.asarray(got, dtype=np.int64))] = arms
    return out


@lru_cache(maxsize=16)
def _page_arms_sql(dialect, experiment_id: int) -> tuple[str, str]:
    ea = experiment_assignments
    debtor = _debtor()
    stmt = (select(accounts.c.acct_no, ea.c.arm)
            .select_from(accounts.join(ea, and_(ea.c.experiment_id == experiment_id, ea.c.debtor == debtor)))
            .where(literal_column(KEYS)).order_by(accounts.c.acct_no))
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return sql, str(accounts.c.acct_no.compile(dialect=dialect))


def pauses(conn: Connection, experiment_id: int) -> list[tuple[int, int | None, str]]:
    """The experiment's paused stretches in order: (paused_at, resumed_at or None while still
    paused, reason), epoch s."""
    ep = experiment_pauses
    return fetch_tuples(conn, select(ep.c.paused_at, ep.c.resumed_at, ep.c.reason)
                        .where(ep.c.experiment_id == int(experiment_id)).order_by(ep.c.paused_at, ep.c.id))


def guardrail_counts(conn: Connection, experiment_id: int, types: tuple[str, ...], until: int,
                     excluded: tuple[tuple[int, int], ...] = ()) -> dict:
    """{(arm, event type): debtors} of the debtors of each arm with an event of one of `types`
    recorded at or after their assignment and at or before `until` (epoch s), and in none of the
    `excluded` stretches ([from, to) epoch s: the paused ones)."""
    debtor = _debtor()
    ea = experiment_assignments
    outside = [~and_(events.c.at >= int(low), events.c.at < int(high)) for low, high in excluded]
    stmt = (select(ea.c.arm, events.c.type, func.count(func.distinct(ea.c.debtor)))
            .select_from(ea.join(accounts, debtor == ea.c.debtor).join(events, events.c.acct_no == accounts.c.acct_no))
            .where(ea.c.experiment_id == int(experiment_id), events.c.type.in_(list(types)),
                   events.c.at >= ea.c.assigned_at, events.c.at <= int(until), *outside)
            .group_by(ea.c.arm, events.c.type))
    return {(arm, kind): n for arm, kind, n in fetch_tuples(conn, stmt)}
