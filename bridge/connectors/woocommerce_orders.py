"""WooCommerce's JSON in bridge's terms, with no I/O: orders and their refunds, webhook deliveries.

Facts relied on (shared/docs/PLATFORMS.md, section A): amounts are strings in the order's currency;
`date_*_gmt` fields are UTC without an offset; the order total never shrinks, refunds appear as
negative strings in `refunds[]`; paid statuses are processing and completed (plus the shop's own);
pings are form-encoded `webhook_id=N` with no signature and must get exactly 200; a delivery's
signature is base64(HMAC-SHA256(secret, raw body)).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Mapping

from bridge.basics.codes import share_code
from bridge.connectors.base import Headers, WebhookEvent, json_payload, positive_id, signature_matches
from bridge.connectors.errors import BadSignature, MalformedPayload
from bridge.connectors.parsing import amount, coupon_codes, field, first_name, instant
from bridge.rewards.model import Line, Order

PAID = frozenset({"processing", "completed"})
CANCELLED = frozenset({"cancelled", "failed", "trash"})
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.deleted", "order.restored"})
_PING = re.compile(rb"webhook_id=\d+")
# The order meta key where the plugin `bridge for WooCommerce` stores the share code of the checkout's cookie.
CODE_META = "_bridge_code"
OWN_REFUND = re.compile(r"\[bridge [^\]\s]+\]")  # what `refund` writes at the end of its reason


def parse_webhook(secret: str | None, headers: Mapping[str, str], body: bytes, shop: str | None = None) -> WebhookEvent:
    """Verify a delivery (or recognise a ping) and say which order it hints at."""
    head = Headers(headers)
    signature = head.get("X-WC-Webhook-Signature")
    if signature is None:
        # The ping that WooCommerce sends when a webhook is saved is the one unsigned request we accept.
        if _PING.fullmatch(body.strip()) and (head.get("Content-Type") or "").startswith(
                "application/x-www-form-urlencoded"):
            return WebhookEvent("ping")
        raise BadSignature("unsigned request", shop, 401)
    if not secret:  # an empty key would let anyone sign
        raise BadSignature("no webhook secret yet: run `bridge webhooks install` for this shop", shop, 401)
    if not signature_matches(secret, body, signature):
        raise BadSignature("signature does not match the body", shop, 401)
    topic = head.get("X-WC-Webhook-Topic") or ""
    if topic not in ORDER_TOPICS:
        return WebhookEvent("ignored", topic=topic)
    payload = json_payload(body, shop)
    order_id = positive_id(payload.get("id")) if isinstance(payload, dict) else None
    if order_id is None:
        raise MalformedPayload("body has no order id", shop, 400)
    return WebhookEvent("order", topic=topic, order_id=order_id)


def is_own_refund(refund: Mapping) -> bool:
    """Tell whether a refund is one bridge made (its reason ends with the payout key, see `refund`)."""
    return bool(OWN_REFUND.search(str(refund.get("reason") or "")))


def normalise_order(shop: str, data: Mapping, paid_statuses: frozenset[str] = PAID,
                    refund_details: list | None = None) -> Order:
    """Translate one order object; raise MalformedPayload naming the first field that is not as documented.

    `refund_details` are the order's refund objects (orders/<id>/refunds): their lines and shipping say
    what the customer's refunds gave back, so that only an unspecified amount is spread pro rata.
    """
    if not isinstance(data, Mapping):
        raise MalformedPayload("an order must be a JSON object", shop)
    order_id = field(data, "id", int, shop)
    status = field(data, "status", str, shop, order_id)
    total = _amount(data, "total", shop, order_id)
    refunds = [r for r in data.get("refunds") or [] if isinstance(r, Mapping)]
    # bridge's own cashback refunds carry their payout key in the reason: they are not the customer's.
    own = -sum((_amount(r, "total", shop, order_id) for r in refunds if is_own_refund(r)), Decimal(0))
    refunded = -sum((_amount(r, "total", shop, order_id) for r in refunds if not is_own_refund(r)), Decimal(0))
    if status == "refunded":
        refunded = max(refunded, total - own)  # a hand-set "refunded" status may come without refund records
    refunded_lines, refunded_shipping = _refunded_parts(refund_details or [], shop, order_id)
    billing = data.get("billing") or {}
    # Cash on delivery is `processing` with no date_paid; completing it later sets one. Neither is the
    # instant the order became paid, so bridge dates it when it first sees it paid (ingest keeps it).
    paid_at = _instant(data, "date_paid_gmt", shop, order_id, optional=True)
    return Order(
        shop=shop, id=str(order_id), currency=field(data, "currency", str, shop, order_id),
        paid=status in paid_statuses, paid_at=paid_at, paid_at_source="shop" if paid_at else "first_seen",
        own_refunded=own, created_at=_instant(data, "date_created_gmt", shop, order_id),
        refunded_lines=refunded_lines, refunded_shipping=refunded_shipping,
        modified_at=_instant(data, "date_modified_gmt", shop, order_id, optional=True), total=total,
        refunded=refunded, cancelled=status in CANCELLED,
        lines=tuple(_line(item, shop, order_id) for item in data.get("line_items") or []),
        customer_id=str(data["customer_id"]) if data.get("customer_id") else None,
        email=(billing.get("email") or None), billing_address=_address(billing),
        ip=data.get("customer_ip_address") or None, user_agent=data.get("customer_user_agent") or None,
        coupons=coupon_codes(line.get("code") for line in data.get("coupon_lines") or [] if isinstance(line, Mapping)),
        stored_code=share_code(next((m.get("value") for m in data.get("meta_data") or []
                                     if isinstance(m, Mapping) and m.get("key") == CODE_META), None)),
        first_name=first_name(billing.get("first_name")))


def _refunded_parts(details: list, shop: str, order_id) -> tuple[tuple[Line, ...], Decimal]:
    """The products and the shipping the customer's refunds gave back (positive amounts), bridge's own left out."""
    lines: list[Line] = []
    shipping = Decimal(0)
    for refund in details:
        if not isinstance(refund, Mapping) or is_own_refund(refund):
            continue
        for line in refund.get("line_items") or []:
            if isinstance(line, Mapping):
                lines.append(Line(product_id=str(field(line, "product_id", int, shop, order_id)),
                                  quantity=-field(line, "quantity", int, shop, order_id),
                                  total=-_amount(line, "total", shop, order_id),
                                  tax=-_amount(line, "total_tax", shop, order_id)))
        for line in refund.get("shipping_lines") or []:
            if isinstance(line, Mapping):
                shipping -= _amount(line, "total", shop, order_id) + _amount(line, "total_tax", shop, order_id)
    return tuple(lines), shipping


def _line(line: Mapping, shop: str, order_id: int) -> Line:
    return Line(product_id=str(field(line, "product_id", int, shop, order_id)),
                quantity=field(line, "quantity", int, shop, order_id), total=_amount(line, "total", shop, order_id),
                tax=_amount(line, "total_tax", shop, order_id))


def _address(billing: Mapping) -> str | None:
    parts = [billing.get(k) or "" for k in ("address_1", "address_2", "postcode", "city", "state", "country")]
    text = ", ".join(p for p in parts if p)
    return text or None


def _amount(data: Mapping, name: str, shop: str, order_id) -> Decimal:
    """Amounts are strings in the order's currency."""
    return amount(data, name, shop, order_id, strings_only=True)


def _instant(data: Mapping, name: str, shop: str, order_id, optional: bool = False) -> datetime | None:
    """`*_gmt` dates are UTC written without an offset."""
    return instant(data, name, shop, order_id, lambda text: datetime.fromisoformat(text).replace(tzinfo=timezone.utc),
                   "2026-07-01T12:00:00", optional)
