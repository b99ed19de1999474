"""Console users, and a small table of values kept between restarts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

`users`: people who log in to the web console (username, role, argon2 password hash,
disabled flag, failed-login count for slowing down guessing). `settings`: named values
the service keeps between restarts (the console's session signing key, the demo login).
An index on `accounts.account_manager` for the console's account search.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("password_changed_at", sa.BigInteger, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("last_failed_at", sa.BigInteger),
        sa.Column("last_login_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "settings",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_settings"),
    )


    op.create_index("ix_accounts_account_manager", "accounts", ["account_manager"])


def downgrade() -> None:
    op.drop_index("ix_accounts_account_manager", "accounts")
    op.drop_table("settings")
    op.drop_table("users")
