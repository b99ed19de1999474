"""The tick's tables: decisions (what was decided, under which policy) and the outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("acct_no", sa.Integer, nullable=False),
        sa.Column("evaluated_at", sa.BigInteger, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("policy_digest", sa.Text, nullable=False),
        sa.Column("stage", sa.Text),
        sa.Column("attempt", sa.Integer),
        sa.Column("action_type", sa.Text),
        sa.Column("channel", sa.Text),
        sa.Column("not_before", sa.BigInteger),
        sa.Column("next_evaluation_at", sa.BigInteger),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(["acct_no"], ["accounts.acct_no"], name="fk_decisions_acct_no_accounts"),
    )
    op.create_index("ix_decisions_acct_no_evaluated_at", "decisions", ["acct_no", "evaluated_at"])
    op.create_table(
        "outbox",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("acct_no", sa.Integer, nullable=False),
        sa.Column("decision_id", sa.BigInteger),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("episode_key", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("tries", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("provider_id", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.Column("payload", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["acct_no"], ["accounts.acct_no"], name="fk_outbox_acct_no_accounts"),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"], name="fk_outbox_decision_id_decisions"),
        sa.UniqueConstraint("acct_no", "stage", "attempt", "episode_key",
                            name="uq_outbox_acct_no_stage_attempt_episode_key"),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("decisions")
