"""Accounts with invoices, append-only events, the audit chain and policy versions.

Revision ID: 0001
Revises:
Create Date: 2026-05-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("acct_no", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("debtor_type", sa.Text, nullable=False),
        sa.Column("jurisdiction", sa.Text),
        sa.Column("timezone", sa.Text),
        sa.Column("language", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("risk_score", sa.Float),
        sa.Column("on_time_ratio", sa.Float),
        sa.Column("relationship_tier", sa.Text),
        sa.Column("account_manager", sa.Text),
        sa.Column("debtor_id", sa.Text),
        sa.Column("other_timezones", sa.Text, nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("changed_at", sa.BigInteger, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("next_evaluation_at", sa.BigInteger),
        sa.Column("last_evaluated_at", sa.BigInteger),
        sa.Column("evaluated_revision", sa.Integer, nullable=False),
        sa.Column("audit_seq", sa.BigInteger),
        sa.PrimaryKeyConstraint("acct_no", name="pk_accounts"),
        sa.UniqueConstraint("id", name="uq_accounts_id"),
    )
    op.create_index("ix_accounts_next_evaluation_at_acct_no_revision", "accounts",
                    ["next_evaluation_at", "acct_no", "revision"])
    op.create_index("ix_accounts_debtor_id", "accounts", ["debtor_id"])
    op.create_table(
        "invoices",
        sa.Column("acct_no", sa.Integer, nullable=False),
        sa.Column("invoice_id", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("due_day", sa.Integer, nullable=False),
        sa.Column("issued_day", sa.Integer),
        sa.ForeignKeyConstraint(["acct_no"], ["accounts.acct_no"], name="fk_invoices_acct_no_accounts"),
        sa.UniqueConstraint("acct_no", "invoice_id", name="uq_invoices_acct_no_invoice_id"),
    )
    op.create_table(
        "events",
        sa.Column("seq", BigId, nullable=False, autoincrement=True),
        sa.Column("acct_no", sa.Integer, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("amount_minor", sa.BigInteger),
        sa.Column("invoice_id", sa.Text),
        sa.Column("channel", sa.Text),
        sa.Column("stage", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.Column("until_day", sa.Integer),
        sa.Column("instalments", sa.Text),
        sa.Column("event_id", sa.Text),
        sa.Column("event_key", sa.Text),
        sa.Column("recorded_at", sa.BigInteger, nullable=False),
        sa.Column("audit_seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
        sa.ForeignKeyConstraint(["acct_no"], ["accounts.acct_no"], name="fk_events_acct_no_accounts"),
        sa.UniqueConstraint("acct_no", "event_key", name="uq_events_acct_no_event_key"),
    )
    op.create_index("ix_events_acct_no_at", "events", ["acct_no", "at"])
    op.create_table(
        "audit",
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit"),
        sa.UniqueConstraint("prev_hash", name="uq_audit_prev_hash"),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("activated_at", sa.BigInteger),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_policy_versions"),
        sa.UniqueConstraint("digest", name="uq_policy_versions_digest"),
    )


def downgrade() -> None:
    for table in ("policy_versions", "audit_head", "audit", "events", "invoices", "accounts"):
        op.drop_table(table)
