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
