"""What a hand-coded shop's server sends: its orders in JSON, every field checked, read into bridge's Order.

One order, or `{"orders": [...]}` (at most 500). Every field is checked before anything is stored; an error
names its place (`orders[2].lines[0].total`). The request itself and its signature: `connectors.custom`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from marshmallow import ValidationError, fields, post_load, validates_schema

from bridge.config import fields as f
from bridge.config.model import Shop
from bridge.config.schema import StrictSchema
from bridge.connectors.base import ProductInfo, on_site
from bridge.rewards.model import Line, Order

MAX_BATCH = 500
MAX_BODY = 4 * 1024 * 1024  # bytes: 500 orders of a few dozen lines each
_TEXT_ID = re.compile(r"[^\s]{1,64}")
_CODE = re.compile(r"[A-Za-z0-9]{4,32}(\.[A-Za-z0-9]{4,32})?")


class PushRefused(Exception):
    """A request from a shop's server that is refused: its HTTP status, an error code and what to fix."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class PushedOrder:
    """An order as the shop's server sent it, with its key and what it says of its products."""

    order: Order
    key: str
    products: tuple[tuple[str, ProductInfo], ...]


def parse_orders(shop: Shop, body: bytes) -> list[PushedOrder]:
    """Read a request's orders; PushRefused (400) names the first wrong place, and then nothing is stored."""
    if len(body) > MAX_BODY:
        raise PushRefused(413, "too_large", f"the body is over {MAX_BODY // (1024 * 1024)} MiB: send fewer orders at once")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PushRefused(400, "bad_json", f"the body is not JSON in UTF-8: {exc}") from None
    batch = isinstance(data, dict) and "orders" in data
    try:
        loaded = _BatchSchema(context_shop=shop).load(data) if batch else [_OrderSchema(context_shop=shop).load(data)]
    except ValidationError as exc:
        where, message = _first_error(exc.messages)
        raise PushRefused(400, "bad_order", f"{where}: {message}" if where else message) from None
    return loaded


def _first_error(messages: object, path: str = "") -> tuple[str, str]:
    """The first message of marshmallow's nested errors, with its place written as `orders[2].lines[0].total`."""
    if isinstance(messages, list):
        if messages and all(isinstance(m, str) for m in messages):
            return path, messages[0]
        return path, str(messages[0]) if messages else "invalid"
    if isinstance(messages, dict) and messages:
        key = sorted(messages, key=lambda k: (not isinstance(k, int), str(k)))[0]
        if isinstance(key, int):
            here = f"{path}[{key}]"
        elif key == "_schema":  # (marshmallow's key for the object itself)
            here = path
        else:
            here = f"{path}.{key}" if path else str(key)
        return _first_error(messages[key], here)
    return path, str(messages)


class _Instant(fields.Field):
    """An ISO 8601 instant with its offset ("2026-12-01T10:00:00+01:00" or "...Z"), kept in UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("expected an ISO 8601 instant like \"2026-12-01T10:00:00+01:00\"")
        try:
            at = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValidationError(f"expected an ISO 8601 instant like \"2026-12-01T10:00:00+01:00\", got {value!r}") from None
        if at.tzinfo is None:
            raise ValidationError(f"needs its offset from UTC (\"+01:00\" or \"Z\"), got {value!r}")
        return at.astimezone(timezone.utc)


class _Id(fields.Field):
    """An id as the shop writes it: text without spaces or a positive whole number, at most 64 characters."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            value = str(value)
        if not isinstance(value, str) or not _TEXT_ID.fullmatch(value):
            raise ValidationError(f"expected an id (text without spaces, or a positive number; 64 characters at most), "
                                  f"got {value!r}")
        return value


class _Text(fields.String):
    """Text of at most `limit` characters."""

    def __init__(self, limit: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.limit = limit

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(f"expected text, got {type(value).__name__}")
        if len(value) > self.limit or "\x00" in value:
            raise ValidationError(f"expected text of at most {self.limit} characters (no NUL)")
        return value.strip() or None


class _Amount(f.Amount):
    """An amount written as a string ("59.90") or a whole number, at most 6 decimals."""

    def _deserialize(self, value, attr, data, **kwargs):
        amount = super()._deserialize(value, attr, data, **kwargs)
        if amount.as_tuple().exponent < -6 or amount >= Decimal("1e13"):
            raise ValidationError(f"expected at most 6 decimals and less than 10^13, got {value!r}")
        return amount


class _LineSchema(StrictSchema):
    product_id = _Id(required=True)
    quantity = f.StrictInteger(minimum=1, maximum=1_000_000, required=True)
    total = _Amount(required=True)  # after discounts, tax apart
    tax = _Amount(load_default=Decimal(0))
    name = _Text(255, load_default=None)  # what a share link shows of the product
    url = _Text(2000, load_default=None)
    image_url = _Text(2000, load_default=None)


class _ShippingSchema(StrictSchema):
    total = _Amount(required=True)
    tax = _Amount(load_default=Decimal(0))


class _RefundSchema(StrictSchema):
    id = _Id(load_default=None)
    amount = _Amount(required=True)  # tax and shipping included
    lines = fields.List(fields.Nested(lambda: _RefundLineSchema()), load_default=list)
    shipping = _Amount(load_default=Decimal(0))  # of the amount: shipping given back, tax included
    payout_key = _Text(200, load_default=None)  # set on bridge's own cashback refund: not the customer's refund


class _RefundLineSchema(StrictSchema):
    product_id = _Id(required=True)
    quantity = f.StrictInteger(minimum=0, maximum=1_000_000, load_default=0)
    total = _Amount(required=True)
    tax = _Amount(load_default=Decimal(0))


class _CustomerSchema(StrictSchema):
    id = _Id(load_default=None)
    email = _Text(254, load_default=None)
    first_name = _Text(64, load_default=None)

    @validates_schema(skip_on_field_errors=True)
    def check_email(self, data: dict, **kwargs) -> None:
        email = data.get("email")
        if email is not None and (email.count("@") != 1 or email.startswith("@") or email.endswith("@")):
            raise ValidationError({"email": [f"expected an e-mail address, got {email!r}"]})


class _AddressSchema(StrictSchema):
    line1 = _Text(200, load_default=None)
    line2 = _Text(200, load_default=None)
    postcode = _Text(20, load_default=None)
    city = _Text(100, load_default=None)
    state = _Text(100, load_default=None)
    country = _Text(2, load_default=None)


STATUSES = ("pending", "paid", "cancelled")


class _OrderSchema(StrictSchema):
    id = _Id(required=True)
    key = _Text(200, required=True)  # the key the shop generated for the order (on its thank-you page)
    status = f.Choice(STATUSES, required=True)
    created_at = _Instant(required=True)
    modified_at = _Instant(required=True)  # the version: the newest sent wins
    paid_at = _Instant(load_default=None)
    currency = f.Currency(required=True)
    total = _Amount(required=True)  # what the customer paid, tax and shipping included, before refunds
    lines = fields.List(fields.Nested(_LineSchema), required=True)
    shipping = fields.Nested(_ShippingSchema, load_default=None)
    customer = fields.Nested(_CustomerSchema, load_default=None)
    billing_address = fields.Nested(_AddressSchema, load_default=None)
    ip = _Text(64, load_default=None)
    user_agent = _Text(1000, load_default=None)
    coupons = fields.List(_Text(64), load_default=list)
    referral_code = _Text(65, load_default=None)  # the share code the shop stored at checkout (the widget's cookie)
    refunds = fields.List(fields.Nested(_RefundSchema), load_default=list)

    def __init__(self, *args, context_shop=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shop = context_shop

    @validates_schema(skip_on_field_errors=True)
    def check_order(self, data: dict, **kwargs) -> None:
        errors: dict = {}
        if len(data["key"] or "") < 8:
            errors["key"] = ["expected the order's key: at least 8 characters, the same as on its thank-you page"]
        if data["currency"] != self.shop.currency:
            errors["currency"] = [f"shop {self.shop.id!r} sells in {self.shop.currency}, got {data['currency']}"]
        if not data["lines"]:
            errors["lines"] = ["an order has at least one line"]
        if data["ip"] is not None:
            try:
                ipaddress.ip_address(data["ip"])
            except ValueError:
                errors["ip"] = [f"expected an IPv4 or IPv6 address, got {data['ip']!r}"]
        if data["referral_code"] is not None and not _CODE.fullmatch(data["referral_code"]):
            errors["referral_code"] = [f"expected a share code like ABCD2345 or ABCD2345.EFGH6789, got "
                                       f"{data['referral_code']!r}"]
        for i, line in enumerate(data["lines"]):
            for name in ("url", "image_url"):
                if line.get(name) is not None and not on_site(self.shop.url, line[name]):
                    errors.setdefault("lines", {}).setdefault(i, {})[name] = [
                        f"expected an address on the shop's site {self.shop.url}"]
        refunded = sum((r["amount"] for r in data["refunds"]), Decimal(0))
        if refunded > data["total"]:
            errors["refunds"] = [f"the refunds add up to {refunded}, more than the order's total {data['total']}"]
        if data["modified_at"] < data["created_at"]:
            errors["modified_at"] = ["is before created_at"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def build(self, data: dict, **kwargs) -> PushedOrder:
        customer, address = data["customer"] or {}, data["billing_address"] or {}
        parts = [address.get(k) for k in ("line1", "line2", "postcode", "city", "state", "country")]
        refunds = [r for r in data["refunds"] if not r["payout_key"]]
        own = sum((r["amount"] for r in data["refunds"] if r["payout_key"]), Decimal(0))
        order = Order(
            shop=self.shop.id, id=data["id"], currency=data["currency"], paid=data["status"] == "paid",
            paid_at=data["paid_at"], created_at=data["created_at"], modified_at=data["modified_at"], total=data["total"],
            refunded=sum((r["amount"] for r in refunds), Decimal(0)), cancelled=data["status"] == "cancelled",
            lines=tuple(Line(x["product_id"], x["quantity"], x["total"], x["tax"]) for x in data["lines"]),
            refunded_lines=tuple(Line(x["product_id"], x["quantity"], x["total"], x["tax"]) for r in refunds
                                 for x in r["lines"]),
            refunded_shipping=sum((r["shipping"] for r in refunds), Decimal(0)), own_refunded=own,
            customer_id=customer.get("id"), email=customer.get("email"), first_name=customer.get("first_name"),
            billing_address=", ".join(p for p in parts if p) or None, ip=data["ip"], user_agent=data["user_agent"],
            coupons=tuple(sorted({c.upper() for c in data["coupons"] if c})),
            stored_code=data["referral_code"].upper() if data["referral_code"] else None)
        products = tuple((x["product_id"], ProductInfo(x["name"], x["url"], x["image_url"]))
                         for x in data["lines"] if x["name"] and x["url"])
        return PushedOrder(order, data["key"], products)


class _BatchSchema(StrictSchema):
    orders = fields.List(fields.Raw(), required=True)

    def __init__(self, *args, context_shop=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shop = context_shop

    @post_load
    def build(self, data: dict, **kwargs) -> list[PushedOrder]:
        orders = data["orders"]
        if not 1 <= len(orders) <= MAX_BATCH:
            raise ValidationError({"orders": [f"send 1 to {MAX_BATCH} orders at once, got {len(orders)}"]})
        loaded, errors = [], {}
        for i, raw in enumerate(orders):
            try:
                loaded.append(_OrderSchema(context_shop=self.shop).load(raw))
            except ValidationError as exc:
                errors[i] = exc.messages
                break  # the first wrong order is enough to say: nothing of the batch is stored
        if errors:
            raise ValidationError({"orders": errors})
        return loaded


@dataclass(frozen=True)
class PayoutAnswer:
    """A custom shop's answer to a payout it was asked to make: done (with its own reference) or failed (why)."""

    status: str  # done | failed
    reference: str | None
    error: str | None


class _AnswerSchema(StrictSchema):
    status = f.Choice(("done", "failed"), required=True)
    reference = _Text(200, load_default=None)
    error = _Text(1000, load_default=None)

    @validates_schema(skip_on_field_errors=True)
    def check_reference(self, data: dict, **kwargs) -> None:
        if data["status"] == "done" and not data.get("reference"):
            raise ValidationError({"reference": ["is required when status is done: the id of the refund, coupon or "
                                                 "transfer in your system"]})

    @post_load
    def build(self, data: dict, **kwargs) -> PayoutAnswer:
        return PayoutAnswer(**data)


def parse_payout_answer(body: bytes) -> PayoutAnswer:
    """Read a shop's answer about a payout; PushRefused (400) names the wrong field."""
    if len(body) > 64 * 1024:
        raise PushRefused(413, "too_large", "an answer about a payout is a few hundred bytes; this one is over 64 KiB")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PushRefused(400, "bad_json", f"the body is not JSON in UTF-8: {exc}") from None
    if not isinstance(data, dict):
        raise PushRefused(400, "bad_answer", "expected an object like {\"status\": \"done\", \"reference\": \"re_123\"}")
    try:
        return _AnswerSchema().load(data)
    except ValidationError as exc:
        where, message = _first_error(exc.messages)
        raise PushRefused(400, "bad_answer", f"{where}: {message}" if where else message) from None
