"""The console's search finds an account by the start of its debtor's name through an index.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

The contact may carry a `name` (kept in `accounts.contact`'s JSON, as the email is).
`ix_accounts_name`: an index on the lower-cased name (an expression index, the same expression
`accountreads.name_of` queries), so the decision explorer finds the accounts whose name starts with
what was typed, in any case, from a range of the index without reading every account's contact
JSON. On PostgreSQL the index and the query compare in the "C" collation (byte order), so a range
from a prefix to the prefix followed by the highest character holds exactly the names it starts.
Nothing is written to the rows: the index is built from what is stored.
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NAME_INDEX = "ix_accounts_name"
_NAME = {"sqlite": "lower(json_extract(contact, '$.name'))",        # as accountreads.name_of
         "postgresql": "(lower(contact::jsonb ->> 'name')) COLLATE \"C\""}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(f"CREATE INDEX {NAME_INDEX} ON accounts (({_NAME['sqlite']}))")
    else:
        op.execute(f"CREATE INDEX {NAME_INDEX} ON accounts ({_NAME['postgresql']})")


def downgrade() -> None:
    op.drop_index(NAME_INDEX, "accounts")
