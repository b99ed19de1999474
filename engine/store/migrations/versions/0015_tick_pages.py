"""The pages of a distributed tick (issue 18: the tick on Celery workers).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

`tick_pages`: one row per page of due accounts (kind `evaluate`) or part of the due contacts
(kind `deliver`) a leader enqueued for the workers, keyed by the tick's own id, the kind and
the page's number; `queued` until the worker that writes it marks it `done` (or `stopped`)
in the page's own transaction, with what it did (`counts`, canonical JSON).
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tick_pages",
        sa.Column("tick", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("page_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("run_id", sa.BigInteger),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("queued_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("worker", sa.Text),
        sa.Column("counts", sa.Text),
        sa.PrimaryKeyConstraint("tick", "kind", "page_no", name="pk_tick_pages"),
    )
    op.create_index("ix_tick_pages_status", "tick_pages", ["status"])


def downgrade() -> None:
    op.drop_index("ix_tick_pages_status", "tick_pages")
    op.drop_table("tick_pages")
