"""An index on outbox.provider_id: a delivery receipt finds its message by the provider's id.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

`engine/tick/receipts.py` looks the delivered row up by the id the channel returned
(`outboxstore.by_provider_id`); without an index every receipt scanned the whole outbox,
which grows by a row per contact. Not unique: a provider may reuse an id across channels,
and several rows may legitimately carry none (NULL).
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

NAME = "ix_outbox_provider_id"


def upgrade() -> None:
    op.create_index(NAME, "outbox", ["provider_id"])


def downgrade() -> None:
    op.drop_index(NAME, "outbox")
