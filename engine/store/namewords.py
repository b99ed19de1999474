"""The words of each debtor's name, so the decision explorer finds a name by any word's start.

`account_words` (revision 0019) holds one row per distinct word of an account's contact name
(`word`, `acct_no`; primary key in that order, and an index on `acct_no, word`), written with
the account in the same transaction (`ingest.upsert_accounts` calls `replace`). A word is
folded here, in Python, for both databases alike (`str.casefold`: Unicode case, `ß` as `ss`), so
SQLite and PostgreSQL match the same accounts; on PostgreSQL the column compares in the "C"
collation, as SQLite's binary order does: code point order, the order of Python's strings.

What was typed is split into words the same way; an account matches when each typed word starts
a word of its name ("smi" finds "John Smith", "jo smi" finds him too, and so does "smith john").
The search reads a range of the primary key for one typed word (`probe`: of several, the one with
the fewest entries, counted up to a bound) and checks the others through the `acct_no` index. The rows come in the index's order, by the matched word, then
by `acct_no`; an account listed under its first matching word only (`first_match`).

Not sealed and not audited: the table is derived from the sealed `accounts.contact` and can be
rebuilt from it at any time, like an index.
"""
from __future__ import annotations

import json
import re
import unicodedata

from sqlalchemy import Connection, and_, delete, exists, func, select

from arrears.engine.store.db import bulk_insert, chunks
from arrears.engine.store.schema import account_words

IN_CHUNK = 5000
PROBE_COUNT = 5000                    # entries counted per typed word to choose which range to read
_SPLIT = re.compile(r"[\s\-\u2010-\u2015/\\,;:()\[\]{}\"&+.·|!?*#~_=]+")
_QUOTES = "'\u2019`"                  # an apostrophe inside a word: "o'brien" is also "brien"
_TOP = "\U0010ffff"                   # above every character: a prefix's range ends below prefix + _TOP


def words(name: str | None) -> list[str]:
    """The distinct words of `name`, case-folded, in order ("Mary-Jane O'Brien" → mary, jane,
    o'brien, brien); empty for no name."""
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


def probe(conn: Connection, typed: list[str]) -> tuple[str, list[str]]:
    """(the typed word whose range is read, the others): of several, the one whose range holds
    the fewest entries, counted up to PROBE_COUNT each (then the longest, then the first), so
    that a rare word typed with a common one ("ada zhang") reads the rare one's range."""
    if len(typed) == 1:
        return typed[0], []
    def size(word):
        within = select(account_words.c.acct_no).where(starts(account_words.c.word, word)).limit(PROBE_COUNT)
        return conn.execute(select(func.count()).select_from(within.subquery())).scalar_one()
    sizes = [size(w) for w in typed]
    best = min(range(len(typed)), key=lambda i: (sizes[i], -len(typed[i]), i))
    return typed[best], typed[:best] + typed[best + 1:]


def first_match(name: str | None, prefix: str) -> str | None:
    """The first word of `name` in the index's order that starts with `prefix` (None if none): the
    one entry under which a search for `prefix` lists the account."""
    return min((w for w in words(name) if w.startswith(prefix)), default=None)


def starts(column, prefix: str):
    """`column` starts with `prefix` (a range of an index on it)."""
    return and_(column >= prefix, column < prefix + _TOP)


def has_word(acct_no_column, prefix: str):
    """The account `acct_no_column` has a name word starting with `prefix` (through the
    `acct_no, word` index)."""
    other = account_words.alias()
    return exists().where(other.c.acct_no == acct_no_column, starts(other.c.word, prefix))


def replace(conn: Connection, names: dict[int, str | None], *, fresh: bool = False) -> None:
    """Write the words of `names` ({acct_no: the contact's name}); `fresh`: the accounts are new
    (nothing to delete first)."""
    nos = list(names)
    if not fresh:
        for part in chunks(nos, IN_CHUNK):
            conn.execute(delete(account_words).where(account_words.c.acct_no.in_(part)))
    bulk_insert(conn, account_words, ("word", "acct_no"),
                [(w, no) for no in nos for w in words(names[no])])


def name_of_contact(contact_json: str) -> str | None:
    """The name in an account's stored contact JSON."""
    return json.loads(contact_json).get("name")
