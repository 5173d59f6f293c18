"""PrestaShop (Webservice, 1.7 and 8.x): orders read and polled with their credit slips, cart-rule vouchers.

The JSON's meaning (and the platform's facts and pitfalls) is in `prestashop_orders`; HTTP, retries and paging are the
base's. Reads ask for JSON (`output_format=JSON`); writes are XML, a voucher starting from `schema=blank`."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Iterator, Mapping

import requests

from bridge.connectors.base import Connector, CouponSpec, ProductInfo, WebhookEvent, pages_by_cursor
from bridge.connectors.errors import FatalError, MalformedPayload, NotFound
from bridge.connectors.prestashop_orders import (
    by_order,
    cart_of,
    fill_voucher,
    merge_split_carts,
    normalise_order,
    parse_hint,
    text_of,
    voucher_customer,
    voucher_fields,
    webservice_error,
)
from bridge.rewards.model import Order

log = logging.getLogger("bridge.connectors.prestashop")
PAGE_SIZE = 100
STATES_TTL = 600  # seconds: order states change rarely (an admin adds one now and then)
FAR_FUTURE = "9999-12-31 23:59:59"


class PrestaShopConnector(Connector):
    """One PrestaShop shop (or one store of a multistore, by `id_shop`)."""

    name = "prestashop"

    def configured_secret(self) -> str | None:
        """The `hint_secret` the bridgehints module signs with."""
        return self.shop.prestashop.hint_secret

    def parse_webhook(self, secret: str | None, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify a hint from the module (see `prestashop_orders.parse_hint`)."""
        return parse_hint(secret, headers, body, self.shop.id, self.shop.prestashop.id_shop)

    def request(self, method: str, path: str, params: Mapping | None, body: object) -> requests.Response:
        """One Webservice call: the key is the basic-auth user; `id_shop` selects a store of a multistore."""
        query = dict(params or {})
        if self.shop.prestashop and self.shop.prestashop.id_shop:
            query["id_shop"] = str(self.shop.prestashop.id_shop)
        return requests.request(method.upper(), f"{self.shop.url}/api/{path}", params=query, data=body,
                                auth=(self.shop.prestashop.webservice_key, ""),
                                timeout=self.shop.sync.timeout.total_seconds(),
                                headers={"Content-Type": "text/xml"} if body is not None else None)

    def error_message(self, response: requests.Response) -> str:
        """The Webservice's error message (JSON or XML), or the start of the body."""
        return webservice_error(response.content, response.reason)

    # -- reading -------------------------------------------------------------------------------
    def fetch_order(self, order_id: str) -> Order:
        """Read one order (and its credit slips) from the shop."""
        return self._normalise_all([self._order_json(order_id)])[0]

    def fetch_order_with_key(self, order_id: str, key: str) -> Order:
        """Read an order for the holder of its `secure_key` (the confirmation page's `key`)."""
        data = self._order_json(order_id)
        self.check_key(data.get("secure_key"), key, order_id)
        return self._normalise_all([data])[0]

    def fetch_changed(self, since: datetime, page_size: int = PAGE_SIZE) -> Iterator[list[Order]]:
        """Yield pages of orders updated at or after `since`, oldest first, then those with new credit slips.

        `filter[date_upd]=[from,to]` is an inclusive BETWEEN on shop-local times (with `date=1`).
        """
        def read(after: str, index: int) -> list[Mapping]:
            return self._list("orders", display="full", date="1", sort="[date_upd_ASC,id_ASC]",
                              limit=f"{index * page_size},{page_size}",
                              **{"filter[date_upd]": f"[{after},{FAR_FUTURE}]"})

        read_ids: set[str] = set()
        for rows in pages_by_cursor(read, self._local(since), page_size, lambda r: (str(r.get("id")), r.get("date_upd")),
                                    lambda r: r.get("date_upd")):
            read_ids.update(str(r.get("id")) for r in rows)
            yield self._normalise_all(rows)
        yield from self._slipped_since(since, read_ids, page_size)

    def _slipped_since(self, since: datetime, read: set[str], page_size: int) -> Iterator[list[Order]]:
        """Orders that got a credit slip at or after `since`: a slip never changes its order's date_upd.

        Seen on a real shop (a back-office partial refund): a poll by date_upd alone would pay on the unrefunded amount.
        """
        slips = self._list("order_slip", display="[id,id_order]", date="1",
                           **{"filter[date_add]": f"[{self._local(since)},{FAR_FUTURE}]"})
        ids = sorted({str(s.get("id_order")) for s in slips if str(s.get("id_order") or "").isdigit()} - read, key=int)
        for start in range(0, len(ids), page_size):
            rows = self._list("orders", display="full", **{"filter[id]": f"[{'|'.join(ids[start:start + page_size])}]"})
            if rows:
                yield self._normalise_all(rows)

    def fetch_product(self, product_id: str) -> ProductInfo:
        """A product's name, canonical page and large image."""
        data = self._get(f"products/{int(product_id)}").get("product") or {}
        slug = text_of(data.get("link_rewrite"))
        image = data.get("id_default_image")
        return ProductInfo(
            name=text_of(data.get("name")),
            # Friendly URLs and "Redirect to the canonical URL" (the defaults) send any other form of a
            # product's address to the canonical one, losing its query and the share code with it.
            url=self.redirected_url(f"{self.shop.url}/index.php?id_product={int(product_id)}&controller=product"),
            image_url=f"{self.shop.url}/{int(image)}-large_default/{slug}.jpg" if str(image or "").isdigit() and slug
            else None)

    # -- writing -------------------------------------------------------------------------------
    def create_coupon(self, spec: CouponSpec) -> str:
        """Create a cart rule once per code (PrestaShop does not enforce unique codes: look it up first)."""
        existing = self._list("cart_rules", display="[id,code]", **{"filter[code]": f"[{spec.code}]"})
        if existing:
            return str(existing[0]["id"])
        blank = self.call("get", "cart_rules", params={"schema": "blank"}, xml=True)
        fill_voucher(blank, self._voucher(spec), (spec.description or spec.code)[:254], self.shop.id)
        created = self.call("post", "cart_rules", body=ET.tostring(blank, encoding="utf-8", xml_declaration=True),
                            xml=True)
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
        """A page of orders with their states, e-mails, currencies, credit slips and vouchers; split carts as one purchase."""
        rows, states = self._with_siblings(rows), self._states()
        ids = [str(r.get("id")) for r in rows]
        slips = by_order(self._of_orders("order_slip", "full", ids))  # credit slips: one request for the page
        codes, stored = self._codes(ids), self._stored_codes(ids)
        who = [self._customer(str(r.get("id_customer") or "")) for r in rows]
        orders = [normalise_order(self.shop.id, r, states, c.get("email") or None, self._currency_code(str(r.get(
            "id_currency") or "")), slips.get(i, []), self.shop.zone, codes.get(i, ()), stored.get(i), c.get("firstname"))
            for i, r, c in zip(ids, rows, who)]
        return merge_split_carts(orders, [cart_of(r) for r in rows])

    def _states(self) -> dict[str, Mapping]:
        """The shop's order states by id, with their flags (read once, then every STATES_TTL)."""
        return self.memo("states", lambda: {str(s.get("id")): s for s in self._list("order_states", display="full")},
                         ttl=STATES_TTL)

    def _with_siblings(self, rows: list[Mapping]) -> list[Mapping]:
        """Add the other orders of the same carts (same reference): one request for the whole page."""
        carts = {cart_of(r) for r in rows}
        references = sorted({reference for reference, _ in carts if reference})
        known = {str(r.get("id")) for r in rows}
        extra = []
        for start in range(0, len(references), PAGE_SIZE):  # a page's worth: the URL stays short
            chunk = references[start:start + PAGE_SIZE]
            for row in self._list("orders", display="full", **{"filter[reference]": f"[{'|'.join(chunk)}]"}):
                if str(row.get("id")) not in known and cart_of(row) in carts:
                    known.add(str(row.get("id")))
                    extra.append(row)
        return list(rows) + extra

    def _of_orders(self, resource: str, display: str, ids: list[str]) -> list[Mapping]:
        """A resource's rows for these orders: one request for the whole page."""
        return self._list(resource, display=display, **{"filter[id_order]": f"[{'|'.join(ids)}]"}) if ids else []

    def _readable(self, resource: str, lost: str) -> bool:
        """Whether the key may read a resource older keys lack or only bridge's module adds (asked every STATES_TTL)."""
        def probe() -> bool:
            try:
                return self._list(resource, display="[id]", limit="1") is not None
            except FatalError as exc:
                if exc.status not in (400, 401, 403):  # 400: no such resource (the module is not installed)
                    raise
                log.warning(f"the webservice key may not read {resource}: {lost} (Webservice: tick GET)",
                            extra={"shop": self.shop.id})
                return False
        return self.memo(("readable", resource), probe, ttl=STATES_TTL)

    def _stored_codes(self, order_ids: list[str]) -> dict[str, str]:
        """The share code bridge's module stored with each order (its resource bridge_order_codes), a page at a time."""
        if not order_ids or not self._readable("bridge_order_codes", "share codes stored on orders are not read"):
            return {}
        return {i: rows[0].get("code") for i, rows in by_order(self._of_orders(
            "bridge_order_codes", "[id_order,code]", order_ids)).items()}

    def _codes(self, order_ids: list[str]) -> dict[str, list[str]]:
        """The voucher codes each order used: its cart rules (order_cart_rules), then their codes; a page at a time."""
        if not order_ids or not self._readable("order_cart_rules", "coupons used on orders are not read"):
            return {}
        used = self._of_orders("order_cart_rules", "[id_order,id_cart_rule]", order_ids)
        rules = sorted({str(u.get("id_cart_rule")) for u in used if str(u.get("id_cart_rule") or "").isdigit()})
        codes = {str(r.get("id")): r.get("code") for r in self._list(
            "cart_rules", display="[id,code]", **{"filter[id]": f"[{'|'.join(rules)}]"})} if rules else {}
        return {i: [codes.get(str(u.get("id_cart_rule"))) for u in used if str(u.get("id_order")) == i] for i in order_ids}

    def _customer(self, customer_id: str) -> Mapping:
        """A customer's e-mail and first name ({} for id 0, a guest without an account row, or a deleted customer)."""
        if not customer_id.isdigit() or customer_id == "0":
            return {}
        return self.memo(("customer", customer_id), lambda: {k: v for k, v in self._entity(
            "customers", "customer", customer_id).items() if k in ("email", "firstname")})  # never its password hash

    def _currency_code(self, currency_id: str) -> str:
        return self.memo(("currency", currency_id), lambda: self._entity("currencies", "currency", currency_id).get(
            "iso_code") or self.shop.currency)

    def _entity(self, resource: str, name: str, entity_id: str) -> Mapping:
        """One object of a resource by id, or {} when the shop has none."""
        try:
            return (self._get(f"{resource}/{int(entity_id)}").get(name) or {}) if entity_id.isdigit() else {}
        except NotFound:
            return {}

    def _voucher(self, spec: CouponSpec) -> dict[str, str]:
        """A voucher's fields, tied to the registered account of its e-mail if any (see `voucher_customer`)."""
        now = datetime.now(timezone.utc)
        customer = voucher_customer(self._list("customers", display="[id,is_guest]", **{
            "filter[email]": f"[{spec.email}]"})) if spec.email else "0"
        currency = self._list("currencies", display="[id,iso_code]", **{"filter[iso_code]": f"[{self.shop.currency}]"})
        return voucher_fields(spec, customer, str(currency[0]["id"]) if currency else "0",
                              self._local(now - timedelta(minutes=5)), self._local(spec.expires_at or now + timedelta(days=365)))

    def _order_json(self, order_id: str) -> Mapping:
        if not str(order_id).isdigit() or len(str(order_id)) > 18:
            raise NotFound("no such order", self.shop.id, 404, order_id)
        return self._get(f"orders/{int(order_id)}", about=str(order_id)).get("order") or {}

    def _local(self, instant: datetime) -> str:
        """A UTC instant as the shop's local `YYYY-MM-DD HH:MM:SS` (what its filters compare with)."""
        return instant.astimezone(self.shop.zone).strftime("%Y-%m-%d %H:%M:%S")

    def _list(self, resource: str, **params) -> list[Mapping]:
        """A list resource as a list, whether the shop answers `[]` or `{"orders": [...]}`."""
        body = self._get(resource, **params)
        if isinstance(body, Mapping):
            body = body.get(resource) if resource in body else next(iter(body.values()), [])
        return [r for r in body if isinstance(r, Mapping)] if isinstance(body, list) else []

    def _get(self, path: str, about: str | None = None, **params):
        return self.call("get", path, about=about, params={**params, "output_format": "JSON"})
