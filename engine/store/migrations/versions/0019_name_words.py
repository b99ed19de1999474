"""The console's search finds a debtor by the start of any word of their name, in any case.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05

`account_words`: one row per distinct word of each account's contact name, case-folded in Python
(engine/store/namewords.py), so "Smith" finds "John Smith" and SQLite folds more than ASCII, as
PostgreSQL does. Primary key (`word`, `acct_no`): a typed word's accounts are a range of it (on
PostgreSQL in the "C" collation, so a range from a prefix to the prefix followed by the highest
character holds exactly the words it starts; on SQLite the table is WITHOUT ROWID, the key is the
table); `ix_account_words_acct_no_word`: the other typed words are checked per account, and an
upsert replaces an account's words. Filled here from the stored contacts. 0017's
`ix_accounts_name` (the whole name's start, lower-cased by the database) is dropped: nothing reads
it any more.
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_NAME = {"sqlite": "lower(json_extract(contact, '$.name'))",        # as 0017 made it
         "postgresql": "(lower(contact::jsonb ->> 'name')) COLLATE \"C\""}


def upgrade() -> None:
    from arrears.engine.store import namewords
    op.create_table(
        "account_words",
        sa.Column("word", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False),
        sa.Column("acct_no", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(["acct_no"], ["accounts.acct_no"], name="fk_account_words_acct_no_accounts"),
        sa.PrimaryKeyConstraint("word", "acct_no", name="pk_account_words"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_account_words_acct_no_word", "account_words", ["acct_no", "word"])
    namewords.rebuild(op.get_bind())
    op.drop_index("ix_accounts_name", "accounts")


def downgrade() -> None:
    bind = op.get_bind()
    op.execute(f"CREATE INDEX ix_accounts_name ON accounts (({_NAME['sqlite']}))" if bind.dialect.name == "sqlite"
               else f"CREATE INDEX ix_accounts_name ON accounts ({_NAME['postgresql']})")
    op.drop_index("ix_account_words_acct_no_word", "account_words")
    op.drop_table("account_words")
