"""Per-channel send counts per second, shared by every worker (issue 18: rate limits on AMQP).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

`rate_windows`: how many messages each policy channel has sent in one wall-clock second, counted
by the distributed tick's workers when the broker has no shared counter of its own (AMQP; on
Redis the counter is in Redis), so `scale.rate_limits` hold across every worker process. Rows
a few seconds old are removed as new seconds begin.
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_windows",
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("second", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("sent", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("channel", "second", name="pk_rate_windows"),
    )


def downgrade() -> None:
    op.drop_table("rate_windows")
