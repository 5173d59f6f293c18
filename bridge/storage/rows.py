"""Rows and the engine's values: an Order or a Claim into its table's columns, and back."""

from __future__ import annotations

import json
from dataclasses import fields
from decimal import Decimal
from functools import lru_cache
from typing import Iterable

from bridge.rewards.identity import normalise_email
from bridge.rewards.model import Claim, Line, Order
from bridge.storage.compiled import select_in, sentinel
from bridge.storage.models import ClaimFact, OrderFact


def order_to_row(order: Order) -> dict:
    """Flatten an Order into OrderFact columns."""
    return dict(shop=order.shop, order_id=order.id, currency=order.currency, paid=order.paid, paid_at=order.paid_at,
                paid_at_source=order.paid_at_source, created_at=order.created_at, modified_at=order.modified_at,
                total=order.total, refunded=order.refunded, own_refunded=order.own_refunded, cancelled=order.cancelled,
                refunded_lines=_lines_json(order.refunded_lines), refunded_shipping=order.refunded_shipping,
                lines=_lines_json(order.lines),
                customer_id=order.customer_id, email=order.email, email_norm=normalise_email(order.email),
                billing_address=order.billing_address, ip=order.ip, user_agent=order.user_agent,
                coupons=json.dumps(list(order.coupons)) if order.coupons else "[]", stored_code=order.stored_code, first_name=order.first_name)


def row_to_order(row: OrderFact) -> Order:
    """Rebuild the engine's Order from its row."""
    return Order(shop=row.shop, id=row.order_id, currency=row.currency, paid=row.paid, paid_at=row.paid_at,
                 paid_at_source=row.paid_at_source, created_at=row.created_at, modified_at=row.modified_at,
                 total=row.total, refunded=row.refunded, own_refunded=row.own_refunded, cancelled=row.cancelled,
                 refunded_lines=lines_of(row.refunded_lines), refunded_shipping=row.refunded_shipping, lines=lines_of(row.lines),
                 customer_id=row.customer_id, email=row.email, billing_address=row.billing_address, ip=row.ip,
                 user_agent=row.user_agent, coupons=coupons_of(row.coupons), stored_code=row.stored_code,
                 first_name=row.first_name)


# Order's fields after shop and id, in their order: each is the column of the same name.
_ORDER_COLUMNS = tuple(f.name for f in fields(Order)[2:])


def read_orders(shop: str, ids: Iterable[str]) -> dict[str, Order]:
    """The stored orders of a shop among `ids`, by id (read in bulk, without a model instance per row)."""
    out = {}
    for values in select_in("orders by id", _ORDER_FIELDS, lambda ids: (OrderFact.shop == sentinel("shop"))
                            & OrderFact.order_id.in_(ids), sorted(set(ids)), shop=shop):
        for index in _LINES:
            values[index] = lines_of(values[index])
        values[_COUPONS] = coupons_of(values[_COUPONS])
        out[values[0]] = Order(shop, *values)
    return out


_ORDER_FIELDS = [OrderFact.order_id] + [OrderFact._meta.fields[name] for name in _ORDER_COLUMNS]
_LINES = [_ORDER_COLUMNS.index("lines") + 1, _ORDER_COLUMNS.index("refunded_lines") + 1]
_COUPONS = _ORDER_COLUMNS.index("coupons") + 1


def _lines_json(lines) -> str:
    if not lines:  # most orders have no refunded lines: skip the encoder (thousands of orders a second)
        return "[]"
    return json.dumps([[line.product_id, line.quantity, str(line.total), str(line.tax)] for line in lines])


@lru_cache(maxsize=4096)  # the same orders are read batch after batch; their lines are immutable tuples
def lines_of(text: str) -> tuple[Line, ...]:
    """Read an order's lines back from their stored JSON."""
    return tuple(Line(p, q, Decimal(t), Decimal(x)) for p, q, t, x in json.loads(text))


@lru_cache(maxsize=1024)
def coupons_of(text: str) -> tuple[str, ...]:
    """Read an order's coupon codes back from their stored JSON."""
    return tuple(json.loads(text)) if text and text != "[]" else ()


def row_to_claim(row: ClaimFact) -> Claim:
    return Claim(row.shop, row.order_id, row.founder_id, row.sponsor_id or None, row.source, row.at)
