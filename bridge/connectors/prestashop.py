"""PrestaShop (Webservice, 1.7 and 8.x): orders into bridge's model, cart-rule vouchers, order keys.

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

import hmac
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Iterator, Mapping

import requests

from bridge import bodies
from bridge.connectors.base import (
    Connector,
    CouponSpec,
    Headers,
    ProductInfo,
    WebhookEvent,
    signature_matches,
)
from bridge.connectors.errors import (
    BadSignature,
    FatalError,
    MalformedPayload,
    NotFound,
    RetriableError,
    error_for_status,
)
from bridge.rewards.model import Line, Order

PAGE_SIZE = 100
NO_DATE = "0000-00-00 00:00:00"
STATES_TTL = 600  # seconds: order states change rarely (an admin adds one now and then)
CANCELLED_TEMPLATES = frozenset({"order_canceled"})
REFUNDED_TEMPLATES = frozenset({"refund"})
HINT_EVENTS = frozenset({"order.created", "order.updated", "order.refunded"})  # what the module's hooks send
_cache_lock = threading.Lock()
_states_cache: dict[str, tuple[float, dict]] = {}
_emails_cache: dict[tuple[str, str], str | None] = {}
_currency_cache: dict[tuple[str, str], str] = {}


class PrestaShopConnector(Connector):
    """One PrestaShop shop (or one store of a multistore, by `id_shop`)."""

    name = "prestashop"
    retry_delays = (1.0, 4.0)
    sleep = staticmethod(time.sleep)

    # -- hints from the bridgehints module ---------------------------------------------------------
    def configured_secret(self) -> str | None:
        return self.shop.prestashop.hint_secret

    def parse_webhook(self, secret: str | None, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify a hint from the module over its raw body; say which order it names (or that it is a ping)."""
        shop = self.shop.id
        if not secret:
            raise BadSignature("order hints are not enabled: set prestashop.hint_secret (and the same secret in "
                               "the bridgehints module)", shop, 401)
        signature = Headers(headers).get("X-Bridge-Signature")
        if not signature_matches(secret, body, signature):
            raise BadSignature("unsigned request" if signature is None else "signature does not match the body",
                               shop, 401)
        try:
            payload = bodies.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise MalformedPayload("body is not JSON", shop, 400) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
            raise MalformedPayload("body has no event", shop, 400)
        event = payload["event"]
        if event == "ping":
            return WebhookEvent("ping")
        store, mine = payload.get("id_shop"), self.shop.prestashop.id_shop
        if event not in HINT_EVENTS or (isinstance(store, int) and store > 0 and mine is not None and store != mine):
            return WebhookEvent("ignored", topic=event)  # another store of a multistore has its own bridge shop
        order_id = payload.get("id_order")
        if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id <= 0:
            raise MalformedPayload("body has no order id (id_order)", shop, 400)
        return WebhookEvent("order", topic=event, order_id=str(order_id))

    # -- reading -------------------------------------------------------------------------------
    def fetch_order(self, order_id: str) -> Order:
        """Read one order (and its credit slips) from the shop."""
        return self._normalise_all([self._order_json(order_id)])[0]

    def fetch_order_with_key(self, order_id: str, key: str) -> Order:
        """Read an order for the holder of its `secure_key` (the confirmation page's `key`)."""
        data = self._order_json(order_id)
        if not hmac.compare_digest(str(data.get("secure_key") or "").encode(), (key or "").encode()):
            raise NotFound("no such order", self.shop.id, 404, order_id)
        return self._normalise_all([data])[0]

    def fetch_changed(self, since: datetime, page_size: int = PAGE_SIZE) -> Iterator[list[Order]]:
        """Yield pages of orders updated at or after `since`, oldest first (same cursor rules as WooCommerce).

        `filter[date_upd]=[from,to]` is an inclusive BETWEEN on shop-local times; the boundary second
        is read again and deduplicated, and a page entirely within one second is stepped through by offset.
        """
        after, offset, seen = self._local(since), 0, set()
        while True:
            rows = self._list("orders", display="full", date="1", sort="[date_upd_ASC,id_ASC]",
                              limit=f"{offset},{page_size}", **{"filter[date_upd]": f"[{after},9999-12-31 23:59:59]"})
            fresh = [r for r in rows if (str(r.get("id")), r.get("date_upd")) not in seen]
            seen.update((str(r.get("id")), r.get("date_upd")) for r in rows)
            if fresh:
                yield self._normalise_all(fresh)
            if len(rows) < page_size:
                break
            last = rows[-1].get("date_upd")
            if last == after:
                offset += page_size
            else:
                after, offset = last, 0
        yield from self._slipped_since(since, {i for i, _ in seen}, page_size)

    def _slipped_since(self, since: datetime, read: set[str], page_size: int) -> Iterator[list[Order]]:
        """Orders that got a credit slip at or after `since`: a slip never changes its order's date_upd.

        Seen on a real shop: a partial refund from the back office adds an order_slip and leaves the
        order's date_upd as it was, so a poll by date_upd alone would pay on the unrefunded amount.
        """
        slips = self._list("order_slip", display="[id,id_order]", date="1",
                           **{"filter[date_add]": f"[{self._local(since)},9999-12-31 23:59:59]"})
        ids = sorted({str(s.get("id_order")) for s in slips if str(s.get("id_order") or "").isdigit()} - read, key=int)
        for start in range(0, len(ids), page_size):
            part = ids[start:start + page_size]
            rows = self._list("orders", display="full", **{"filter[id]": f"[{'|'.join(part)}]"})
            if rows:
                yield self._normalise_all(rows)

    def fetch_product(self, product_id: str) -> ProductInfo:
        data = self._get(f"products/{int(product_id)}").get("product") or {}
        slug = _text(data.get("link_rewrite"))
        image = data.get("id_default_image")
        return ProductInfo(
            name=_text(data.get("name")),
            url=self._canonical(f"{self.shop.url}/index.php?id_product={int(product_id)}&controller=product"),
            image_url=f"{self.shop.url}/{int(image)}-large_default/{slug}.jpg" if str(image or "").isdigit() and slug else None)

    def _canonical(self, url: str) -> str:
        """The product page's canonical URL, where a query string survives.

        With friendly URLs and "Redirect to the canonical URL" (PrestaShop's defaults) any other form of
        a product's address is redirected and loses its query, and with it the share code. The
        Webservice does not give the category part of the friendly URL, so the shop is asked once
        (bridge memoises products) and its redirect followed; on any failure the plain address is kept.
        """
        try:
            answer = requests.get(url, timeout=min(self.shop.sync.timeout.total_seconds(), 10), allow_redirects=True,
                                  headers={"User-Agent": "Mozilla/5.0 (compatible; bridge)"})
        except requests.RequestException:
            return url
        return answer.url if answer.status_code == 200 and self.same_site(answer.url) else url

    # -- writing -------------------------------------------------------------------------------
    def create_coupon(self, spec: CouponSpec) -> str:
        """Create a cart rule once per code (PrestaShop does not enforce unique codes: look it up first).

        Every field of `schema=blank` is filled, because a webservice POST sets the missing ones to
        NULL (a voucher without quantity or `active` is unusable).
        """
        existing = self._list("cart_rules", display="[id,code]", **{"filter[code]": f"[{spec.code}]"})
        if existing:
            return str(existing[0]["id"])
        blank = self._get_xml("cart_rules", schema="blank")
        rule = blank.find("cart_rule")
        if rule is None:
            raise MalformedPayload("cart_rules?schema=blank has no <cart_rule>", self.shop.id)
        now = datetime.now(timezone.utc)
        values = {
            "id_customer": self._customer_id(spec.email) if spec.email else "0",
            "date_from": self._local(now - timedelta(minutes=5)),
            "date_to": self._local(spec.expires_at or now + timedelta(days=365)),
            "description": spec.description[:254], "quantity": "1", "quantity_per_user": "1", "priority": "1",
            "partial_use": "0", "code": spec.code, "minimum_amount": f"{spec.minimum_order or 0:f}",
            "minimum_amount_tax": "1", "minimum_amount_currency": self._currency_id(),
            "minimum_amount_shipping": "0", "country_restriction": "0", "carrier_restriction": "0",
            "group_restriction": "0", "cart_rule_restriction": "0", "product_restriction": "0",
            "shop_restriction": "0", "free_shipping": "0",
            "reduction_percent": f"{(spec.percent * 100).normalize():f}" if spec.percent is not None else "0",
            "reduction_amount": f"{spec.amount:f}" if spec.amount is not None else "0", "reduction_tax": "1",
            "reduction_currency": self._currency_id(), "reduction_product": "0", "reduction_exclude_special": "0",
            "gift_product": "0", "gift_product_attribute": "0", "highlight": "0", "active": "1"}
        for child in list(rule):
            if child.tag in ("id", "date_add", "date_upd"):
                rule.remove(child)  # no <id> on a POST; the dates are the shop's to set
            elif child.tag == "name":
                for language in child.findall("language"):
                    language.text = (spec.description or spec.code)[:254]  # a name in every language
            elif child.tag in values:
                child.text = values[child.tag]
        body = ET.tostring(blank, encoding="utf-8", xml_declaration=True)
        created = self._send("post", "cart_rules", body=body)
        found = created.find("cart_rule/id")
        if found is None or not (found.text or "").strip():
            raise MalformedPayload("the shop did not return the new cart rule's id", self.shop.id)
        return found.text.strip()

    def refund(self, order_id: str, amount: Decimal, key: str, reason: str) -> str:
        """PrestaShop has no refund-to-card API: a configuration error, said before any money moves."""
        raise FatalError("PrestaShop cannot refund a payment through its API: pay this campaign by sepa or coupon",
                         self.shop.id, order=order_id)

    # -- normalisation -------------------------------------------------------------------------
    def _normalise_all(self, rows: list[Mapping]) -> list[Order]:
        """Normalise a page of orders with their states, customers' e-mails, currencies and credit slips;
        orders split from one cart come back as one purchase."""
        rows = self._with_siblings(rows)
        states = self._states()
        slips = self._slips([str(r.get("id")) for r in rows])
        orders = [normalise_order(self.shop.id, r, states, self._email(str(r.get("id_customer") or "")),
                                  self._currency_code(str(r.get("id_currency") or "")), slips.get(str(r.get("id")), []),
                                  self.shop.zone) for r in rows]
        return merge_split_carts(orders, [_cart_of(r) for r in rows])

    def _with_siblings(self, rows: list[Mapping]) -> list[Mapping]:
        """Add the other orders of the same carts (same reference): one request for the whole page."""
        carts = {_cart_of(r) for r in rows}
        references = sorted({reference for reference, _ in carts if reference})
        known = {str(r.get("id")) for r in rows}
        extra = []
        for start in range(0, len(references), PAGE_SIZE):  # a page's worth: the URL stays short
            chunk = references[start:start + PAGE_SIZE]
            for row in self._list("orders", display="full", **{"filter[reference]": f"[{'|'.join(chunk)}]"}):
                if str(row.get("id")) not in known and _cart_of(row) in carts:
                    known.add(str(row.get("id")))
                    extra.append(row)
        return list(rows) + extra

    def _states(self) -> dict[str, dict]:
        """The shop's order states by id, with their flags (read once, then every STATES_TTL)."""
        key = self.shop.id
        with _cache_lock:
            cached = _states_cache.get(key)
        if cached and time.monotonic() - cached[0] < STATES_TTL:
            return cached[1]
        states = {str(s.get("id")): s for s in self._list("order_states", display="full")}
        with _cache_lock:
            _states_cache[key] = (time.monotonic(), states)
        return states

    def _slips(self, order_ids: list[str]) -> dict[str, list[Mapping]]:
        """Credit slips of these orders, one request for the whole page."""
        if not order_ids:
            return {}
        found: dict[str, list[Mapping]] = {}
        for slip in self._list("order_slip", display="full", **{"filter[id_order]": f"[{'|'.join(order_ids)}]"}):
            found.setdefault(str(slip.get("id_order")), []).append(slip)
        return found

    def _email(self, customer_id: str) -> str | None:
        if not customer_id or customer_id == "0":
            return None
        key = (self.shop.id, customer_id)
        if key not in _emails_cache:
            try:
                customer = self._get(f"customers/{int(customer_id)}").get("customer") or {}
            except NotFound:
                customer = {}
            _emails_cache[key] = customer.get("email") or None
        return _emails_cache[key]

    def _currency_code(self, currency_id: str) -> str:
        key = (self.shop.id, currency_id)
        if key not in _currency_cache:
            currency = self._get(f"currencies/{int(currency_id)}").get("currency") or {} if currency_id.isdigit() else {}
            _currency_cache[key] = currency.get("iso_code") or self.shop.currency
        return _currency_cache[key]

    def _currency_id(self) -> str:
        rows = self._list("currencies", display="[id,iso_code]", **{"filter[iso_code]": f"[{self.shop.currency}]"})
        return str(rows[0]["id"]) if rows else "0"

    def _customer_id(self, email: str) -> str:
        """The (first) registered account with this e-mail that a voucher can be tied to, else "0".

        Each guest checkout creates a new guest customer, even for an e-mail seen before, and PrestaShop
        asks a guest to log in before using a voucher tied to another guest: tied to a guest, the voucher
        could never be used. "0" leaves it to its code (unguessable, single-use). A registered account
        is the person's own, whatever they do next, so a voucher is tied to it.
        """
        rows = self._list("customers", display="[id,is_guest]", **{"filter[email]": f"[{email}]"})
        registered = [r for r in rows if str(r.get("is_guest", "0")) in ("0", "", "false")]
        return str(min(registered, key=lambda r: int(str(r.get("id") or 0)))["id"]) if registered else "0"

    def _order_json(self, order_id: str) -> Mapping:
        if not str(order_id).isdigit() or len(str(order_id)) > 18:
            raise NotFound("no such order", self.shop.id, 404, order_id)
        return self._get(f"orders/{int(order_id)}", about=str(order_id)).get("order") or {}

    def _local(self, instant: datetime) -> str:
        """A UTC instant as the shop's local `YYYY-MM-DD HH:MM:SS` (what its filters compare with)."""
        return instant.astimezone(self.shop.zone).strftime("%Y-%m-%d %H:%M:%S")

    # -- HTTP ----------------------------------------------------------------------------------
    def _params(self, **params) -> dict:
        if self.shop.prestashop and self.shop.prestashop.id_shop:
            params["id_shop"] = str(self.shop.prestashop.id_shop)
        return params

    def _list(self, resource: str, **params) -> list[Mapping]:
        """A list resource as a list, whether the shop answers `[]` or `{"orders": [...]}`."""
        body = self._get(resource, **params)
        if isinstance(body, list):
            return [r for r in body if isinstance(r, Mapping)]
        if isinstance(body, Mapping):
            rows = body.get(resource) if resource in body else next(iter(body.values()), [])
            return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []
        return []

    def _get(self, path: str, about: str | None = None, **params):
        return self._send("get", path, about=about, params={**params, "output_format": "JSON"})

    def _get_xml(self, path: str, **params) -> ET.Element:
        return self._send("get", path, params=params, xml=True)

    def _send(self, method: str, path: str, about: str | None = None, params=None, body: bytes | None = None,
              xml: bool = False):
        """Call the Webservice; reads that fail for a passing reason are tried again (as for WooCommerce)."""
        attempt = 0
        while True:
            try:
                return self._send_once(method, path, about, params, body, xml or body is not None)
            except RetriableError as exc:
                if method != "get" or attempt >= len(self.retry_delays) or exc.status is None and not exc.timed_out:
                    raise
                delay = self.retry_delays[attempt] if exc.retry_after is None else exc.retry_after
                if delay > 30:
                    raise
                attempt += 1
                self.sleep(delay)

    def _send_once(self, method, path, about, params, body, xml):
        key = self.shop.prestashop.webservice_key
        try:
            response = requests.request(
                method.upper(), f"{self.shop.url}/api/{path}", params=self._params(**(params or {})), data=body,
                auth=(key, ""), timeout=self.shop.sync.timeout.total_seconds(),
                headers={"Content-Type": "text/xml"} if body is not None else None)
        except requests.Timeout as exc:
            raise RetriableError(f"timed out: {type(exc).__name__}", self.shop.id, order=about, timed_out=True) from exc
        except requests.RequestException as exc:
            raise RetriableError(f"cannot reach the shop: {type(exc).__name__}", self.shop.id, order=about) from exc
        if response.status_code >= 400:
            retry_after = response.headers.get("Retry-After", "")
            raise error_for_status(response.status_code, _message(response), self.shop.id, about,
                                   retry_after=float(retry_after) if retry_after.isdigit() else None)
        if xml:
            try:
                return ET.fromstring(response.content)
            except ET.ParseError:
                raise RetriableError("the shop answered something that is not XML", self.shop.id,
                                     response.status_code, about) from None
        try:
            return response.json()
        except ValueError:
            # Without JSON support (or with `output_format` ignored), PrestaShop answers XML.
            raise RetriableError("the shop answered something that is not JSON", self.shop.id,
                                 response.status_code, about) from None


def _message(response) -> str:
    """The Webservice's error message (JSON or XML), or the start of the body."""
    try:
        errors = response.json().get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or response.text[:200]
    except (ValueError, AttributeError):
        try:
            root = ET.fromstring(response.content)
            return "; ".join((m.text or "").strip() for m in root.iter("message")) or response.reason
        except ET.ParseError:
            return response.text[:200] or response.reason


def _text(value) -> str:
    """A multilingual field in either shape: a plain string, or [{id, value}, ...] (the first language)."""
    if isinstance(value, list):
        return str(value[0].get("value") or "") if value and isinstance(value[0], Mapping) else ""
    return str(value or "")


def normalise_order(shop: str, data: Mapping, states: Mapping[str, Mapping], email: str | None, currency: str,
                    slips: list[Mapping], zone) -> Order:
    """Translate a Webservice order (JSON output) into bridge's Order; MalformedPayload names a bad field."""
    if not isinstance(data, Mapping) or not str(data.get("id") or "").isdigit():
        raise MalformedPayload("an order must be an object with a numeric id", shop)
    order_id = str(data["id"])
    state = states.get(str(data.get("current_state")), {})
    template = _text(state.get("template"))
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
        email=email, billing_address=None, ip=None, user_agent=None)


def _cart_of(row: Mapping) -> tuple[str, str]:
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
            modified_at=max(stamps) if stamps else None))
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
    text = data.get(name)
    if text in (None, ""):
        return Decimal(0)
    try:
        value = Decimal(str(text))
        if not value.is_finite():
            raise InvalidOperation
        return value
    except InvalidOperation:
        raise MalformedPayload(f"field {name!r} should be an amount, got {text!r}", shop, order=order_id) from None


def _instant(data: Mapping, name: str, shop: str, order_id: str, zone, optional: bool = False) -> datetime | None:
    """Shop-local `YYYY-MM-DD HH:MM:SS` to UTC; "0000-00-00 00:00:00" means none."""
    text = data.get(name)
    if (text in (None, "", NO_DATE)) and optional:
        return None
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone).astimezone(timezone.utc)
    except ValueError:
        raise MalformedPayload(f"field {name!r} should be a date like 2026-07-01 12:00:00, got {text!r}", shop,
                               order=order_id) from None


def forget_caches() -> None:
    """Forget cached states, e-mails and currencies (tests, or after a shop's settings changed)."""
    with _cache_lock:
        _states_cache.clear()
        _emails_cache.clear()
        _currency_cache.clear()
