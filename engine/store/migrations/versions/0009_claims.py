"""Claims: which agent works which account of the console's work queue now.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("acct_no", sa.Integer, nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("claimed_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("acct_no", name="pk_claims"),
        sa.ForeignKeyConstraint(["acct_no"], ["accounts.acct_no"], name="fk_claims_acct_no_accounts"),
    )


def downgrade() -> None:
    op.drop_table("claims")
