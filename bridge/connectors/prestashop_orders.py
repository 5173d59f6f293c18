"""PrestaShop's Webservice JSON in bridge's terms, with no I/O: orders, credit slips, split carts, module hints.

Facts relied on (shared/docs/PLATFORMS.md, section B and its pitfalls):
- the key is the basic-auth user (empty password); `id_shop` selects a store of a multistore;
- reads ask for JSON with `output_format=JSON` (upper case, or PrestaShop silently answers XML);
  writes are XML only, and every field missing from a POST is set to NULL: start from `schema=blank`;
- dates are shop-local without an offset ("0000-00-00 00:00:00" means none); date filters and sorts
  need `date=1` and a space, not a `T`, or the filter silently becomes an equality;
- lists page with `limit=offset,N` until a short page; an empty list may be `[]` or `{"orders": []}`;
- multilingual fields are a list of {id, value} or, with one language, a plain string;
- "paid" is the current state's `paid`/`logable` flag (ids differ per shop); partial refunds are
  credit slips (`order_slip`), full refunds and cancellations are order states;
- a cart split between carriers becomes several orders sharing one `reference` (and `id_cart`):
  bridge reads them as one purchase, under the lowest order id, so the buyer gets one share link;
  a cancelled part counts as refunded;
- there is no refund-to-card API: cashback is paid by bank transfer or coupon;
- there are no webhooks: the optional `bridgehints` module (prestashop-module/) posts signed hints
  (`X-Bridge-Signature`, base64 HMAC-SHA256 of the body with `hint_secret`) naming an order, which is
  then read like any other; without it, polling alone keeps bridge up to date.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from typing import Iterable, Mapping

from bridge.basics.codes import share_code
from bridge.connectors.base import CouponSpec, Headers, WebhookEvent, json_payload, positive_id, signature_matches
from bridge.connectors.errors import BadSignature, MalformedPayload
from bridge.connectors.parsing import amount, coupon_codes, first_name, instant
from bridge.rewards.model import Line, Order

NO_DATE = "0000-00-00 00:00:00"
CANCELLED_TEMPLATES = frozenset({"order_canceled"})
REFUNDED_TEMPLATES = frozenset({"refund"})
HINT_EVENTS = frozenset({"order.created", "order.updated", "order.refunded"})  # what the module's hooks send


def parse_hint(secret: str | None, headers: Mapping[str, str], body: bytes, shop: str,
               id_shop: int | None) -> WebhookEvent:
    """Verify a hint from the module over its raw body; say which order it names (or that it is a ping)."""
    if not secret:
        raise BadSignature("order hints are not enabled: set prestashop.hint_secret (and the same secret in "
                           "the bridgehints module)", shop, 401)
    signature = Headers(headers).get("X-Bridge-Signature")
    if not signature_matches(secret, body, signature):
        raise BadSignature("unsigned request" if signature is None else "signature does not match the body",
                           shop, 401)
    payload = json_payload(body, shop)
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        raise MalformedPayload("body has no event", shop, 400)
    event = payload["event"]
    if event == "ping":
        return WebhookEvent("ping")
    store = payload.get("id_shop")
    if event not in HINT_EVENTS or (isinstance(store, int) and store > 0 and id_shop is not None and store != id_shop):
        return WebhookEvent("ignored", topic=event)  # another store of a multistore has its own bridge shop
    order_id = positive_id(payload.get("id_order"))
    if order_id is None:
        raise MalformedPayload("body has no order id (id_order)", shop, 400)
    return WebhookEvent("order", topic=event, order_id=order_id)


def text_of(value: object) -> str:
    """A multilingual field in either shape: a plain string, or [{id, value}, ...] (the first language)."""
    if isinstance(value, list):
        return str(value[0].get("value") or "") if value and isinstance(value[0], Mapping) else ""
    return str(value or "")


def normalise_order(shop: str, data: Mapping, states: Mapping[str, Mapping], email: str | None, currency: str,
                    slips: list[Mapping], zone: tzinfo, codes: Iterable[object] = (), stored: object = None,
                    name: object = None) -> Order:
    """Translate a Webservice order (JSON output) into bridge's Order; MalformedPayload names a bad field.

    `codes` are the codes of the cart rules (vouchers) the order used (order_cart_rules, then cart_rules);
    `stored` the share code bridge's module stored with the order (bridge_order_codes), if any; `name` the
    customer's first name.
    """
    if not isinstance(data, Mapping) or not str(data.get("id") or "").isdigit():
        raise MalformedPayload("an order must be an object with a numeric id", shop)
    order_id = str(data["id"])
    state = states.get(str(data.get("current_state")), {})
    template = text_of(state.get("template"))
    paid = str(state.get("paid")) == "1" or str(state.get("logable")) == "1"
    total = _amount(data, "total_paid_tax_incl", shop, order_id)
    refunded = sum((_amount(s, "amount", shop, order_id) + _amount(s, "shipping_cost_amount", shop, order_id)
                    for s in slips), Decimal(0))
    if template in REFUNDED_TEMPLATES:
        refunded = max(refunded, total)  # a full refund is a state, often without a slip
    created = _instant(data, "date_add", shop, order_id, zone)
    invoiced = _instant(data, "invoice_date", shop, order_id, zone, optional=True)
    rows = (data.get("associations") or {}).get("order_rows") or []
    refunded_lines, refunded_shipping = _slip_parts(slips, rows, shop, order_id)
    return Order(
        shop=shop, id=order_id, currency=currency, paid=paid, paid_at=(invoiced or created) if paid else None,
        created_at=created, modified_at=_instant(data, "date_upd", shop, order_id, zone, optional=True), total=total,
        refunded=min(refunded, total), cancelled=template in CANCELLED_TEMPLATES,
        lines=tuple(_line(r, shop, order_id) for r in rows if isinstance(r, Mapping)),
        refunded_lines=refunded_lines, refunded_shipping=refunded_shipping,
        customer_id=str(data.get("id_customer")) if str(data.get("id_customer") or "0") != "0" else None,
        email=email, billing_address=None, ip=None, user_agent=None, coupons=coupon_codes(codes),
        stored_code=share_code(stored), first_name=first_name(name))


def by_order(rows: Iterable[Mapping]) -> dict[str, list[Mapping]]:
    """Rows of a resource about orders (credit slips, stored codes), by their id_order."""
    found: dict[str, list[Mapping]] = {}
    for row in rows:
        found.setdefault(str(row.get("id_order")), []).append(row)
    return found


def cart_of(row: Mapping) -> tuple[str, str]:
    """What ties the orders of one cart together: their reference and cart id ("" when unknown)."""
    reference = str(row.get("reference") or "")
    return (reference, str(row.get("id_cart") or "")) if reference.isalnum() else ("", str(row.get("id")))


def merge_split_carts(orders: list[Order], carts: list[tuple[str, str]]) -> list[Order]:
    """One Order per cart, in the order of first appearance: the lowest id leads, amounts and lines add up,
    a cancelled part counts as refunded; the newest modification of any part dates the whole."""
    groups: dict[tuple[str, str], list[Order]] = {}
    for order, cart in zip(orders, carts):
        groups.setdefault(cart, []).append(order)
    merged = []
    for parts in groups.values():
        if len(parts) == 1:
            merged.append(parts[0])
            continue
        parts.sort(key=lambda o: int(o.id))
        lead, live = parts[0], [o for o in parts if not o.cancelled]
        paid = [o.paid_at for o in live if o.paid and o.paid_at is not None]
        stamps = [o.modified_at for o in parts if o.modified_at is not None]
        merged.append(Order(
            shop=lead.shop, id=lead.id, currency=lead.currency, paid=bool(paid), paid_at=min(paid) if paid else None,
            created_at=min(o.created_at for o in parts), total=sum((o.total for o in parts), Decimal(0)),
            refunded=sum((o.total if o.cancelled and live else o.refunded for o in parts), Decimal(0)),
            cancelled=not live, lines=tuple(line for o in parts for line in o.lines), customer_id=lead.customer_id,
            refunded_lines=tuple(line for o in parts for line in o.refunded_lines),
            refunded_shipping=sum((o.refunded_shipping for o in parts), Decimal(0)),
            email=lead.email, billing_address=lead.billing_address, ip=lead.ip, user_agent=lead.user_agent,
            modified_at=max(stamps) if stamps else None, coupons=coupon_codes(c for o in parts for c in o.coupons),
            stored_code=next((o.stored_code for o in parts if o.stored_code), None), first_name=lead.first_name))
    return merged


def _slip_parts(slips: list[Mapping], rows: list, shop: str, order_id: str) -> tuple[tuple[Line, ...], Decimal]:
    """What the credit slips say they gave back: each detail's product (through its order row) and the shipping."""
    products = {str(r.get("id")): str(r.get("product_id")) for r in rows if isinstance(r, Mapping)}
    lines, shipping = [], Decimal(0)
    for slip in slips:
        shipping += _amount(slip, "shipping_cost_amount", shop, order_id)
        for detail in (slip.get("associations") or {}).get("order_slip_details") or []:
            product = products.get(str(detail.get("id_order_detail"))) if isinstance(detail, Mapping) else None
            if product is None:
                continue  # a detail the order's rows do not name: its amount stays unspecified (pro rata)
            excl = _amount(detail, "amount_tax_excl", shop, order_id)
            lines.append(Line(product_id=product, quantity=int(str(detail.get("product_quantity") or "0")),
                              total=excl, tax=_amount(detail, "amount_tax_incl", shop, order_id) - excl))
    return tuple(lines), shipping


def _line(row: Mapping, shop: str, order_id: str) -> Line:
    quantity = int(str(row.get("product_quantity") or "0"))
    incl = _amount(row, "unit_price_tax_incl", shop, order_id) * quantity
    excl = _amount(row, "unit_price_tax_excl", shop, order_id) * quantity
    return Line(product_id=str(row.get("product_id")), quantity=quantity, total=excl, tax=incl - excl)


def _amount(data: Mapping, name: str, shop: str, order_id: str) -> Decimal:
    """Amounts are strings with 6 decimals ("71.510000"); a missing one counts as zero."""
    return amount(data, name, shop, order_id)


def _instant(data: Mapping, name: str, shop: str, order_id: str, zone, optional: bool = False) -> datetime | None:
    """Shop-local `YYYY-MM-DD HH:MM:SS` to UTC; "0000-00-00 00:00:00" means none."""
    return instant(data, name, shop, order_id,
                   lambda text: datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone).astimezone(
                       timezone.utc), "2026-07-01 12:00:00", optional, empty=(None, "", NO_DATE))


def voucher_fields(spec: CouponSpec, customer_id: str, currency_id: str, date_from: str, date_to: str) -> dict[str, str]:
    """Every field of a single-use voucher (cart rule): a Webservice POST sets the missing ones to NULL."""
    return {
        "id_customer": customer_id, "date_from": date_from, "date_to": date_to,
        "description": spec.description[:254], "quantity": "1", "quantity_per_user": "1", "priority": "1",
        "partial_use": "0", "code": spec.code, "minimum_amount": f"{spec.minimum_order or 0:f}",
        "minimum_amount_tax": "1", "minimum_amount_currency": currency_id,
        "minimum_amount_shipping": "0", "country_restriction": "0", "carrier_restriction": "0",
        "group_restriction": "0", "cart_rule_restriction": "0", "product_restriction": "0",
        "shop_restriction": "0", "free_shipping": "0",
        "reduction_percent": f"{(spec.percent * 100).normalize():f}" if spec.percent is not None else "0",
        "reduction_amount": f"{spec.amount:f}" if spec.amount is not None else "0", "reduction_tax": "1",
        "reduction_currency": currency_id, "reduction_product": "0", "reduction_exclude_special": "0",
        "gift_product": "0", "gift_product_attribute": "0", "highlight": "0", "active": "1"}


def fill_voucher(blank: ET.Element, values: Mapping[str, str], name: str, shop: str) -> None:
    """Fill `cart_rules?schema=blank` for a POST: no id or dates (the shop's to set), a name in every language."""
    rule = blank.find("cart_rule")
    if rule is None:
        raise MalformedPayload("cart_rules?schema=blank has no <cart_rule>", shop)
    for child in list(rule):
        if child.tag in ("id", "date_add", "date_upd"):
            rule.remove(child)
        elif child.tag == "name":
            for language in child.findall("language"):
                language.text = name
        elif child.tag in values:
            child.text = values[child.tag]


def voucher_customer(rows: list[Mapping]) -> str:
    """The (first) registered account among customers with one e-mail, that a voucher can be tied to, else "0".

    Each guest checkout creates a new guest customer, even for an e-mail seen before, and PrestaShop
    asks a guest to log in before using a voucher tied to another guest: tied to a guest, the voucher
    could never be used. "0" leaves it to its code (unguessable, single-use). A registered account
    is the person's own, whatever they do next, so a voucher is tied to it.
    """
    registered = [r for r in rows if str(r.get("is_guest", "0")) in ("0", "", "false")]
    return str(min(registered, key=lambda r: int(str(r.get("id") or 0)))["id"]) if registered else "0"


def webservice_error(content: bytes, reason: str) -> str:
    """The Webservice's error message from a failed answer's body (JSON or XML), or the start of the body."""
    try:
        errors = json.loads(content).get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or content[:200].decode("utf-8", "replace")
    except (ValueError, AttributeError):
        try:
            root = ET.fromstring(content)
            return "; ".join((m.text or "").strip() for m in root.iter("message")) or reason
        except ET.ParseError:
            return content[:200].decode("utf-8", "replace") or reason
