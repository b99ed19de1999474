"""Events keep a structured detail: the representative on a `represented` event, the
debtor's wishes on a `contact_preference` event (canonical JSON).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no constraint: a plain ALTER TABLE ADD COLUMN (no table rebuild, so the
    # events' audit digests, which cover their rows, are untouched; see codec.event_digest_line).
    op.add_column("events", sa.Column("detail", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("detail")
