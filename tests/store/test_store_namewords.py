"""The words of the debtors' names (`namewords`, revision 0019): how a name is split and folded,
and that an upsert keeps the table equal to the stored contacts."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from arrears.engine.domain.model import Account, Contact, Invoice
from arrears.engine.store import Store, namewords
from arrears.engine.store.db import read_transaction
from tests.store.storekit import T0


@pytest.mark.parametrize("name,words", [
    ("John Smith", ["john", "smith"]),
    ("Mary-Jane O'Brien", ["mary", "jane", "o'brien", "brien"]),
    ("ÖZTÜRK, Ayşe", ["öztürk", "ayşe"]),
    ("Straße  Straße", ["strasse"]),                    # folded like casefold(); distinct
    ("  ", []), (None, []), ("J.R.R. Tolkien", ["j", "r", "tolkien"]),
    ("Acme Ltd (UK) & Co", ["acme", "ltd", "uk", "co"]),
])
def test_a_name_splits_into_folded_words(name, words):
    assert namewords.words(name) == words


def test_an_upsert_keeps_the_words_equal_to_the_stored_names(tmp_path):
    def stored(store):
        with read_transaction(store.engine) as conn:
            return sorted(conn.exec_driver_sql("SELECT word, acct_no FROM account_words").all())

    base = Account("A1", "EUR", invoices=(Invoice("I1", Decimal("100.00"), date(2026, 11, 1)),))
    with Store(f"sqlite:///{tmp_path / 'w.db'}") as store:
        store.upsert_accounts([replace(base, contact=Contact(name="Ada Lovelace")),
                               replace(base, id="A2", contact=Contact(name="Alan Turing"))], now=T0)
        assert stored(store) == [("ada", 1), ("alan", 2), ("lovelace", 1), ("turing", 2)]
        store.upsert_accounts([replace(base, contact=Contact(name="Ada King"))], now=T0)          # renamed
        assert stored(store) == [("ada", 1), ("alan", 2), ("king", 1), ("turing", 2)]
        store.upsert_accounts([replace(base, id="A2", risk_score=0.5, contact=Contact(name="Alan Turing"))],
                              now=T0)                                                          # same name
        store.upsert_accounts([replace(base, contact=Contact(email="a@example.com"))], now=T0)  # name gone
        assert stored(store) == [("alan", 2), ("turing", 2)]


# Names the live splitting and revision 0019's frozen copy must split alike: scripts, cases that
# fold to more than one letter, Turkish dotted and dotless i, hyphens and dashes, apostrophes,
# combining marks (NFC), punctuation, spaces of other kinds, and no name.
CORPUS = [
    None, "", "   ", "John Smith", "Mary-Jane O'Brien", "D’Angelo", "`Quoted` Name'", "O''Neil",
    "Straße", "STRASSE", "Maßmann-Groß", "İsmail Işık", "ISTANBUL ıstanbul", "İ", "ı",
    "ÖZTÜRK, Ayşe", "Zoë Ångström", "Zoe\u0308 A\u030angstro\u0308m", "Jean\u2013Luc\u2014Picard",
    "Anne\u2010Marie", "José María Aznar", "Ελληνικά ΣΊΣΥΦΟΣ", "Ольга Петрова-Водкина",
    "李小龍", "山田 太郎", "محمد بن سلمان", "שלום עליכם", "Nguyễn Văn A", "Ǆemal Ǉubović",
    "ﬁnance ﬂow", "Acme Ltd (UK) & Co", "J.R.R. Tolkien", "a/b\\c;d:e|f!g?h*i#j~k_l=m+n",
    "tab\tnew\nline\u00a0nbsp\u2003em", "L'Oréal l’oréal", "x" * 200, "'", "-", "O'",
]


def _frozen_words():
    import importlib
    return importlib.import_module("arrears.engine.store.migrations.versions.0019_name_words").words


@pytest.mark.parametrize("name", CORPUS)
def test_revision_0019s_copy_of_the_splitting_agrees_with_the_live_one(name):
    """0019 fills `account_words` with its own frozen copy of the splitting (so a later change
    cannot change an old upgrade); until the live one changes on purpose, they agree."""
    assert _frozen_words()(name) == namewords.words(name)


def test_the_corpus_exercises_the_folding():
    split = {name: namewords.words(name) for name in CORPUS}
    assert split["Straße"] == split["STRASSE"] == ["strasse"]
    assert split["İ"] == ["i\u0307"] and split["ı"] == ["ı"]
    assert split["Zoë Ångström"] == split["Zoe\u0308 A\u030angstro\u0308m"]
    assert split["Jean\u2013Luc\u2014Picard"] == ["jean", "luc", "picard"]
    assert split["L'Oréal l’oréal"] == ["l'oréal", "oréal", "l’oréal"]
