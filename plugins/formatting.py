"""Locale-aware formatting of money and dates for templates (en, fr, de; others as en).

Deliberately small: the shipped templates need amounts and dates in three languages,
not a full CLDR implementation.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from arrears.engine.domain.money import Money, exponent

# language -> (thousands separator, decimal separator, symbol after the amount)
_STYLE = {"en": (",", ".", False), "fr": ("\u202f", ",", True), "de": (".", ",", True)}
_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF", "JPY": "¥"}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"),
}


def _money_parts(value: Any) -> tuple[Decimal, str]:
    if isinstance(value, Money):
        return value.amount, value.currency
    if isinstance(value, dict) and "amount" in value and "currency" in value:
        return Decimal(str(value["amount"])), str(value["currency"])
    raise TypeError(f"expected money ({{'amount': …, 'currency': …}}), got {value!r}")


def format_money(value: Any, language: str = "en") -> str:
    """`€1,234.50` (en), `1 234,50 €` (fr), `1.234,50 €` (de)."""
    amount, currency = _money_parts(value)
    thousands, point, after = _STYLE.get(language, _STYLE["en"])
    places = exponent(currency)
    text = f"{abs(amount):,.{places}f}".replace(",", "\x00").replace(".", point)
    text = text.replace("\x00", thousands)
    sign = "-" if amount < 0 else ""
    symbol = _SYMBOLS.get(currency)
    if after:
        return f"{sign}{text}\u00a0{symbol or currency}"
    return f"{sign}{symbol}{text}" if symbol and len(symbol) == 1 else f"{sign}{currency}\u00a0{text}"


def format_date(value: Any, language: str = "en") -> str:
    """`22 November 2026` (en), `22 novembre 2026` / `1er mars 2026` (fr), `22. November 2026` (de)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value \
            else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise TypeError(f"expected a date, got {value!r}")
    months = _MONTHS.get(language, _MONTHS["en"])
    day = {"de": f"{value.day}.", "fr": "1er" if value.day == 1 else str(value.day)}.get(
        language, str(value.day))
    return f"{day} {months[value.month - 1]} {value.year}"
