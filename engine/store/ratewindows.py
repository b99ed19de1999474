"""Per-channel send counts per second, in the database: a rate limit shared by every worker.

    n = ratewindows.take(engine, "sms", 1_764_950_400)    # 1 for the first sms of that second, 2 ...

The distributed tick's workers count each message they are about to send here when the broker
has no shared counter (AMQP; on Redis the count is Redis's): `broker.RateLimiter` lets the
message go while `n` is within the channel's rate, else waits for the next second. One upsert
in its own committed transaction, so two workers counting at once get different numbers, on
PostgreSQL or SQLite. The first count of a new second removes windows older than `KEEP`.
"""
from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from arrears.engine.store.db import write_transaction
from arrears.engine.store.schema import rate_windows

KEEP = 5                # seconds of windows kept behind the current one


def take(engine, channel: str, second: int) -> int:
    """Count one message of `channel` in epoch `second`; returns its number within that second."""
    module = postgresql if engine.dialect.name == "postgresql" else sqlite
    t = rate_windows.c
    stmt = module.insert(rate_windows).values(channel=channel, second=int(second), sent=1)
    stmt = stmt.on_conflict_do_update(index_elements=[t.channel, t.second], set_={"sent": t.sent + 1})
    with write_transaction(engine) as conn:
        sent = int(conn.execute(stmt.returning(t.sent)).scalar_one())
        if sent == 1:
            conn.execute(delete(rate_windows).where(t.channel == channel, t.second < int(second) - KEEP))
    return sent
