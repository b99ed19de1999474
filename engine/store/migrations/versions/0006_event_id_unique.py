"""An event's own id is unique per account, whatever idempotency key it came with.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Before this revision an event posted with an `Idempotency-Key` was checked against its
key only, so the same payment posted again under another key (or none) was stored twice.
The store now refuses such a repeat itself (`ingest.append_events`), and this unique
index makes the database refuse it too. Events are append-only and covered by the audit
chain, so repeats stored earlier are left as they are: where there are some, the index
covers the rows recorded after the last of them (the store's own check still sees all).
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NAME = "uq_events_acct_no_event_id"


def upgrade() -> None:
    last_repeat = op.get_bind().execute(sa.text(
        "SELECT max(m) FROM (SELECT max(seq) AS m FROM events WHERE event_id IS NOT NULL "
        "GROUP BY acct_no, event_id HAVING count(*) > 1) AS repeats")).scalar()
    where = "event_id IS NOT NULL" if last_repeat is None else f"event_id IS NOT NULL AND seq > {int(last_repeat)}"
    op.create_index(NAME, "events", ["acct_no", "event_id"], unique=True,
                    sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    op.drop_index(NAME, "events")
