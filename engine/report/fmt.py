"""Numbers as a manager reads them: grouped thousands, units, short axis labels.

Values are exact (`Fraction`) until shown; rounding is half-even, as the KPI core's.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from arrears.engine.domain.money import exponent
from arrears.engine.kpis.report import decimal_of

NA = "n/a"


def _grouped(value: Fraction, places: int) -> str:
    return f"{decimal_of(value, Decimal(1).scaleb(-places)):,.{places}f}"


def money(value: Fraction | None, currency: str) -> str:
    """`1,234,567.89 GBP` (the currency's minor unit)."""
    return NA if value is None else f"{_grouped(value, exponent(currency))} {currency}"


def number(value: Fraction | None, unit: str | None, currency: str | None = None) -> str:
    """A level in its unit: money, count, percent (12.34%), days (45.20 days) or ratio."""
    if value is None:
        return NA
    if unit == "money":
        return money(value, currency or "")
    if unit == "count":
        return f"{value.numerator:,}" if value.denominator == 1 else _grouped(value, 2)
    if unit == "percent":
        return f"{_grouped(value, 2)}%"
    if unit == "days":
        return f"{_grouped(value, 1)} days"
    return _grouped(value, 4)


def short(value: Fraction | float, unit: str | None = None) -> str:
    """An axis label: 0, 250, 1.5k, 2M, 1.2B (and % for percent)."""
    v = float(value)
    suffix = "%" if unit == "percent" else ""
    for size, letter in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            text = f"{v / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{letter}{suffix}"
    text = f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v)}"
    return text + suffix


def parse(text: str | None) -> Fraction | None:
    """A decimal string from a report's JSON (None stays None)."""
    return None if text is None else Fraction(text)
