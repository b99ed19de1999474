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

The splitting and folding the table is filled with is this revision's own copy (`words`, as
namewords.py had it at 0019), not the live module: a later change to the live splitting must not
change what an old store's upgrade builds. tests/store/test_store_namewords.py checks that the
two agree today; a change to the live one that breaks that is a change of the search needing a
migration of its own to rebuild the table.
"""
import json
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_NAME = {"sqlite": "lower(json_extract(contact, '$.name'))",        # as 0017 made it
         "postgresql": "(lower(contact::jsonb ->> 'name')) COLLATE \"C\""}


_SPLIT = re.compile(r"[\s\-\u2010-\u2015/\\,;:()\[\]{}\"&+.·|!?*#~_=]+")
_QUOTES = "'\u2019`"
_PAGE = 20_000                          # accounts read at a time


def words(name: str | None) -> list[str]:
    """The distinct words of `name`, case-folded, in order, as revision 0019 splits them
    ("Mary-Jane O'Brien" → mary, jane, o'brien, brien); empty for no name."""
    if not name:
        return []
    out = []
    for part in _SPLIT.split(unicodedata.normalize("NFC", name).casefold()):
        part = part.strip(_QUOTES)
        if not part:
            continue
        out.append(part)
        tail = re.split(f"[{_QUOTES}]", part)[-1]
        if tail and tail != part:
            out.append(tail)
    return list(dict.fromkeys(out))


def _fill(conn) -> None:
    """Fill `account_words` from every stored account's contact, a page of accounts at a time."""
    accounts = sa.table("accounts", sa.column("acct_no", sa.Integer), sa.column("contact", sa.Text))
    account_words = sa.table("account_words", sa.column("word", sa.Text), sa.column("acct_no", sa.Integer))
    after = 0
    while True:
        rows = conn.execute(sa.select(accounts.c.acct_no, accounts.c.contact).where(accounts.c.acct_no > after)
                            .order_by(accounts.c.acct_no).limit(_PAGE)).all()
        if not rows:
            return
        batch = [{"word": w, "acct_no": no} for no, contact in rows for w in words(json.loads(contact).get("name"))]
        if batch:
            conn.execute(account_words.insert(), batch)
        after = rows[-1][0]


def upgrade() -> None:
    op.create_table(
        "account_words",
        sa.Column("word", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False),
        sa.Column("acct_no", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(["acct_no"], ["accounts.acct_no"], name="fk_account_words_acct_no_accounts"),
        sa.PrimaryKeyConstraint("word", "acct_no", name="pk_account_words"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_account_words_acct_no_word", "account_words", ["acct_no", "word"])
    _fill(op.get_bind())
    op.drop_index("ix_accounts_name", "accounts")


def downgrade() -> None:
    bind = op.get_bind()
    op.execute(f"CREATE INDEX ix_accounts_name ON accounts (({_NAME['sqlite']}))" if bind.dialect.name == "sqlite"
               else f"CREATE INDEX ix_accounts_name ON accounts ({_NAME['postgresql']})")
    op.drop_index("ix_account_words_acct_no_word", "account_words")
    op.drop_table("account_words")
