"""What the stored history says about a policy's names: the stages and channels contacts were
recorded under, how many accounts each stage holds, and the currencies of the portfolio.

Read by the policy warnings (`arrears validate --db`, the API's policy validate endpoint): a
stage removed or renamed leaves those accounts' progress behind, a contact naming a stage the
policy lacks does not count, and one money threshold over several currencies means different
amounts. Each function takes an open connection (a read transaction).
"""
from __future__ import annotations

from sqlalchemy import distinct, func, select

from arrears.engine.store.schema import accounts, events

CONTACT_EVENTS = ("contact_attempt", "contact_outcome")


def accounts_by_stage(conn) -> dict[str, int]:
    """Stage id -> how many accounts have a contact attempt recorded under it."""
    stmt = (select(events.c.stage, func.count(distinct(events.c.acct_no)))
            .where(events.c.type == "contact_attempt", events.c.stage.is_not(None))
            .group_by(events.c.stage))
    return {stage: int(n) for stage, n in conn.execute(stmt).all()}


def contact_names(conn) -> list[tuple[str | None, str | None, int]]:
    """(stage, channel kind, number of events) of every contact event, grouped, most first."""
    count = func.count()
    stmt = (select(events.c.stage, events.c.channel, count)
            .where(events.c.type.in_(CONTACT_EVENTS))
            .group_by(events.c.stage, events.c.channel)
            .order_by(count.desc(), events.c.stage, events.c.channel))
    return [(stage, channel, int(n)) for stage, channel, n in conn.execute(stmt).all()]


def currencies(conn) -> list[str]:
    """The currencies of the stored accounts, sorted."""
    return sorted(c for (c,) in conn.execute(select(accounts.c.currency).distinct()).all())


def history_names(conn) -> dict:
    """The three reads above in one snapshot, as the policy warnings take them (`portfolio=`)."""
    return {"accounts_by_stage": accounts_by_stage(conn), "contact_names": contact_names(conn),
            "currencies": currencies(conn)}
