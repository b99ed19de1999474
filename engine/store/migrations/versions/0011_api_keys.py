"""API keys kept in the database, so they are created and revoked without a restart.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

`api_keys`: one row per key made by `arrears keys create` or the console's keys page. Only
the SHA-256 of the key is kept (`digest`, unique: the API looks a presented key up by it),
with a label, the role, who made it and when, and when and by whom it was revoked. Sealed
like the console's users (`audit_seq`, `seal`; engine/store/seals.py).
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
        sa.Column("revoked_by", sa.Text),
        sa.Column("audit_seq", sa.BigInteger),
        sa.Column("seal", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("digest", name="uq_api_keys_digest"),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
