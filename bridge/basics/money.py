"""Money: a Decimal amount with its ISO 4217 currency, rounded to the currency's minor unit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies

# Codes that are valid ISO 4217 but never a shop's currency (test, no-currency, precious metals, funds).
_NOT_SHOP_CURRENCIES = frozenset({"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD"})


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


@lru_cache(maxsize=None)
def is_currency(code: str) -> bool:
    """Tell whether `code` is an ISO 4217 code a shop can sell in."""
    return code in list_currencies() and code not in _NOT_SHOP_CURRENCIES and code.isupper()


@lru_cache(maxsize=None)
def minor_digits(currency: str) -> int:
    """Return how many decimals the currency's minor unit has (EUR 2, JPY 0, KWD 3)."""
    if not is_currency(currency):
        raise MoneyError(f"unknown currency {currency!r}")
    return get_currency_precision(currency)


def quantum(currency: str) -> Decimal:
    """Return the smallest amount of the currency, as a Decimal exponent."""
    return Decimal(1).scaleb(-minor_digits(currency))


def parse_amount(text: object) -> Decimal:
    """Parse a decimal amount from a string or int; floats are refused (they lose cents)."""
    if isinstance(text, bool) or isinstance(text, float):
        raise MoneyError(f"expected an amount written as a string like \"3.00\", got {text!r}")
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise MoneyError(f"expected an amount like \"3.00\", got {text!r}") from None
    if not value.is_finite():
        raise MoneyError(f"expected a finite amount, got {text!r}")
    return value


@dataclass(frozen=True, order=True)
class Money:
    """An exact amount in one currency."""

    amount: Decimal
    currency: str

    def __post_init__(self):
        if not isinstance(self.amount, Decimal):
            raise MoneyError(f"Money needs a Decimal, got {type(self.amount).__name__}")
        minor_digits(self.currency)

    @classmethod
    def of(cls, amount: object, currency: str) -> "Money":
        """Build Money from a string, int or Decimal amount."""
        return cls(amount if isinstance(amount, Decimal) else parse_amount(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        """Return zero in `currency`."""
        return cls(Decimal(0), currency)

    def rounded(self) -> "Money":
        """Round half up to the currency's minor unit."""
        return Money(self.amount.quantize(quantum(self.currency), rounding=ROUND_HALF_UP), self.currency)

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {getattr(other, 'currency', other)!r}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> "Money":
        if isinstance(factor, float):
            raise MoneyError("multiply money by a Decimal, not a float")
        return Money(self.amount * factor, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.amount, self.currency)

    def min(self, other: "Money") -> "Money":
        """Return the smaller of two amounts of the same currency."""
        self._same(other)
        return self if self.amount <= other.amount else other

    def __str__(self) -> str:
        return f"{self.rounded().amount} {self.currency}"


def format_amount(amount: Decimal, currency: str) -> str:
    """Write an amount with exactly the currency's decimals: 5 EUR -> '5.00 EUR', 500 JPY -> '500 JPY'."""
    return str(Money(amount, currency))


def display_amount(amount: Decimal, currency: str, locale: str) -> str:
    """Write an amount as people of `locale` read it: 5 EUR in fr -> '5,00 €', in en -> '€5.00'."""
    from babel.numbers import format_currency

    return format_currency(Money(amount, currency).rounded().amount, currency, locale=locale)
