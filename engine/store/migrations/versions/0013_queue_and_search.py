"""Decisions keep their priority in a column, and the work queue reads it from an index; the
console's search finds an account by its email through an index.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

`decisions.priority`: the `priority` of the row's JSON summary (-1 where the summary has none, as
a replayed history's), written by the tick beside the body from now on and filled in here for the
rows already stored. `ix_decisions_channel_priority_id` on (channel, priority DESC, id DESC) serves
"one channel's latest decisions, highest priority first, up to the day's capacity" (the work queue,
`decisionreads.due_contacts`) without reading every decision's JSON. The column is a copy of a
sealed value, not sealed itself (`arrears audit verify` compares it with the body), so the rows'
seals stay as they were.

`ix_accounts_email`: an index on the lower-cased email of the account's contact (an expression
index, the same expression `accountreads.email_of` queries), so the decision explorer finds an
account by email without reading every account's contact JSON.
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEX = "ix_decisions_channel_priority_id"
EMAIL_INDEX = "ix_accounts_email"
_EMAIL = {"sqlite": "lower(json_extract(contact, '$.email'))",       # as accountreads.email_of
          "postgresql": "lower(contact::jsonb ->> 'email')"}
_FILL = {
    "sqlite": "UPDATE decisions SET priority = CASE WHEN json_type(body, '$.priority') "
              "IN ('integer', 'real') THEN json_extract(body, '$.priority') ELSE -1 END",
    "postgresql": "UPDATE decisions SET priority = CASE WHEN jsonb_typeof(body::jsonb -> 'priority') "
                  "= 'number' THEN (body::jsonb ->> 'priority')::double precision ELSE -1 END",
}


def upgrade() -> None:
    op.add_column("decisions", sa.Column("priority", sa.Float, nullable=False, server_default=sa.text("-1")))
    bind = op.get_bind()
    op.execute(_FILL[bind.dialect.name])
    op.create_index(INDEX, "decisions", ["channel", sa.text("priority DESC"), sa.text("id DESC")])
    op.execute(f"CREATE INDEX {EMAIL_INDEX} ON accounts (({_EMAIL[bind.dialect.name]}))")


def downgrade() -> None:
    op.drop_index(EMAIL_INDEX, "accounts")
    op.drop_index(INDEX, "decisions")
    op.drop_column("decisions", "priority")      # SQLite 3.35+ drops a column in place (no table copy)
