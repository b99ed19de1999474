"""Rows that decide or deliver carry a seal the audit chain vouches for.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

Adds `seal` to accounts (which had `audit_seq`), and `audit_seq` and `seal` to invoices,
decisions, outbox, policy_versions and the console's users (engine/store/seals.py). Rows already stored are
sealed here, under one `seals.baseline` audit entry, so `arrears audit verify` covers
them from the upgrade on (what they held before the upgrade is taken as it is). An index
on `audit.subject` lets the tick find the entry that stored a policy version quickly.
"""
import time

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ADDED = {"accounts": ("seal",), "invoices": ("audit_seq", "seal"), "decisions": ("audit_seq", "seal"),
         "outbox": ("audit_seq", "seal"), "policy_versions": ("audit_seq", "seal"),
         "users": ("audit_seq", "seal")}


def upgrade() -> None:
    # Nullable, no constraint: plain ALTER TABLE ADD COLUMN, no table rebuild.
    for table, columns in ADDED.items():
        for column in columns:
            op.add_column(table, sa.Column(column, sa.BigInteger if column == "audit_seq" else sa.Text))
    op.create_index("ix_audit_subject", "audit", ["subject"])
    # The live sealing code, not a frozen copy (unlike 0019's words): these seals are checked by
    # the live `arrears audit verify`, so they must be what it computes. tests/store/
    # test_store_seals.py upgrades a 0009 store through here to the head and verifies it.
    from arrears.engine.store import audit
    audit.seal_baseline(op.get_bind(), int(time.time()))


def downgrade() -> None:
    op.drop_index("ix_audit_subject", "audit")
    for table, columns in ADDED.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
