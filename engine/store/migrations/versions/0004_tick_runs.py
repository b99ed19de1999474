"""Tick runs (one row per tick, whoever started it) and a free-text note on events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-05-15
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tick_runs",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("requested_at", sa.BigInteger, nullable=False),
        sa.Column("started_at", sa.BigInteger),
        sa.Column("finished_at", sa.BigInteger),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("dispatch", sa.Boolean, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_tick_runs"),
    )
    op.create_index("ix_tick_runs_status", "tick_runs", ["status"])
    # Nullable, no constraint: a plain ALTER TABLE ADD COLUMN everywhere (no table rebuild,
    # so the events' audit digests, which cover their rows, are untouched).
    op.add_column("events", sa.Column("note", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("note")
    op.drop_index("ix_tick_runs_status", "tick_runs")
    op.drop_table("tick_runs")
