"""The tick's state: decision keys on accounts, outbox claims, and named leases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-05-08
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns without constraints: a plain ALTER TABLE ADD COLUMN on every
    # database (SQLite included), so no table is rebuilt.
    op.add_column("accounts", sa.Column("decision_key", sa.Text))
    op.add_column("accounts", sa.Column("decision_id", sa.BigInteger))
    op.add_column("outbox", sa.Column("claimed_by", sa.Text))
    op.add_column("outbox", sa.Column("claimed_at", sa.BigInteger))
    op.create_table(
        "leases",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("acquired_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("decision_id")
        batch.drop_column("decision_key")
