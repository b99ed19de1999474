"""Money: `decimal.Decimal` amounts with an ISO 4217 currency.

Inside a batch, amounts are exact integers in the currency's minor unit (cents);
they become `Decimal` again at the edges. Never float.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from arrears.engine.domain.errors import InputError

# Minor-unit exponents that differ from 2 (ISO 4217); every other code uses 2.
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}


def exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit."""
    return _EXPONENTS.get(currency, 2)


def check_currency(code, where: str) -> str:
    """Return `code` if it looks like an ISO 4217 code, else raise InputError."""
    if not (isinstance(code, str) and len(code) == 3 and code.isascii() and code.isupper()
            and code.isalpha()):
        raise InputError(f"expected an ISO 4217 currency code such as 'EUR', got {code!r}", where)
    return code


# A decimal amount as text: digits, optionally a point and more digits (no exponent, sign
# other than a leading minus, spaces or underscores). The OpenAPI document publishes the
# unsigned form (`arrears.api.openapi.model.AMOUNT`).
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)


def parse_amount(value, where: str) -> Decimal:
    """Parse a decimal amount from a string (`AMOUNT_PATTERN`) or number; floats go through their repr."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not _AMOUNT.fullmatch(value)):
        raise InputError(f"expected a decimal amount such as \"12.50\", got {value!r}", where)
    try:
        amount = Decimal(str(value)) if isinstance(value, (int, float)) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InputError(f"expected a decimal amount such as \"12.50\", got {value!r}", where) from None
    if not amount.is_finite():
        raise InputError(f"expected a finite amount, got {value!r}", where)
    return amount


# The largest amount accepted, in minor units (a trillion in a two-decimal currency): the
# batch arithmetic is exact in 64-bit integers well beyond the sums of such amounts.
MAX_MINOR = 10 ** 14


def to_minor(amount: Decimal, currency: str, where: str = "amount") -> int:
    """Exact integer minor units of an account amount.

    An amount finer than the currency's minor unit (12.345 EUR) or beyond MAX_MINOR is
    refused with InputError: silently rounding money would let stored data and decisions
    disagree.
    """
    exact = amount * (10 ** exponent(currency))
    if exact != exact.to_integral_value():
        raise InputError(f"{amount} has more decimal places than {currency} allows "
                         f"({exponent(currency)})", where)
    scaled = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if abs(scaled) > MAX_MINOR:
        raise InputError(f"{amount} {currency} is larger than the largest amount accepted "
                         f"({from_minor(MAX_MINOR, currency)})", where)
    return scaled


def from_minor(minor: int, currency: str) -> Decimal:
    """The Decimal amount of `minor` minor units, with the currency's decimal places."""
    exp = exponent(currency)
    return Decimal(int(minor)).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def money_json(amount: Decimal, currency: str) -> dict:
    """Money's JSON form, `{"amount": "12.50", "currency": "EUR"}` (amounts travel as decimal
    strings); for amounts not held as a `Money` (a batch's minor units: `from_minor` first)."""
    return {"amount": str(amount), "currency": currency}


@dataclass(frozen=True, slots=True)
class Money:
    """An amount and its currency."""

    amount: Decimal
    currency: str

    def to_json(self) -> dict:
        """`{"amount": "12.50", "currency": "EUR"}`: amounts travel as decimal strings."""
        return money_json(self.amount, self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
