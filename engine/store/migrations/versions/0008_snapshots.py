"""Snapshots: figures computed after the ticks, for pages that must answer at once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

The console's dashboard reads its KPIs and charts from here (one row per name, replaced
whole by each refresh), so a page costs one row's read whatever the portfolio's size.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("computed_at", sa.BigInteger, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("snapshots")
