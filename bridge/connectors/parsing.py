"""Field parsers every platform's mapping shares: each failure a MalformedPayload naming the field."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping

from bridge.connectors.errors import MalformedPayload


def field(data: Mapping, name: str, kind: type, shop: str, order_id: object = None) -> Any:
    """The value of `name` when it is of type `kind` (a bool is never an int here)."""
    value = data.get(name) if isinstance(data, Mapping) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedPayload(f"field {name!r} should be {kind.__name__}, got {value!r}", shop, order=order_id)
    return value


def amount(data: Mapping, name: str, shop: str, order_id: object, strings_only: bool = False) -> Decimal:
    """An amount written as text (never parsed through float); missing counts as zero unless `strings_only`."""
    text = data.get(name) if isinstance(data, Mapping) else None
    if text in (None, "") and not strings_only:
        return Decimal(0)
    try:
        if strings_only and not isinstance(text, str):
            raise InvalidOperation
        value = Decimal(str(text))
        if not value.is_finite():
            raise InvalidOperation
        return value
    except InvalidOperation:
        raise MalformedPayload(f"field {name!r} should be an amount string, got {text!r}", shop,
                               order=order_id) from None


def instant(data: Mapping, name: str, shop: str, order_id: object, parse: Callable[[str], datetime], example: str,
            optional: bool = False, empty: tuple = (None,)) -> datetime | None:
    """A date parsed by `parse` (the platform's format and zone); a value in `empty` is none when `optional`."""
    text = data.get(name)
    if text in empty and optional:
        return None
    try:
        return parse(text)
    except (TypeError, ValueError):
        raise MalformedPayload(f"field {name!r} should be a date like {example}, got {text!r}", shop,
                               order=order_id) from None


def coupon_codes(codes: Iterable[object]) -> tuple[str, ...]:
    """The coupon codes an order used, upper-case, each once, in a stable order (anything not text is skipped)."""
    return tuple(sorted({code.strip().upper() for code in codes if isinstance(code, str) and code.strip()}))[:20]


def first_name(value: object) -> str | None:
    """A buyer's first name as the shop gave it, trimmed to 64 characters (None when there is none)."""
    return value.strip()[:64] or None if isinstance(value, str) else None
