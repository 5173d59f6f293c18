"""WooCommerce (REST wc/v3): orders read and polled, coupons and refunds written once, webhooks installed.

The JSON's meaning is in `woocommerce_orders`; HTTP, retries and paging are the base's.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Iterator, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests
from woocommerce import API

from bridge.basics.money import Money
from bridge.connectors.base import Connector, CouponSpec, ProductInfo, WebhookEvent, pages_by_cursor
from bridge.connectors.errors import FatalError, NotFound, RefundRefused, RetriableError
from bridge.connectors.woocommerce_orders import PAID, is_own_refund, normalise_order, parse_webhook
from bridge.rewards.model import Order

__all__ = ["WooCommerceConnector", "normalise_order", "parse_webhook"]

PAGE_SIZE = 100  # the most wc/v3 allows
REFUND_META = "_bridge_payout_key"
WEBHOOK_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
# WordPress refuses loopback and private delivery URLs on other ports (SOURCES.md of the live captures).
WORDPRESS_SAFE_PORTS = (80, 443, 8080)


class WooCommerceConnector(Connector):
    """One WooCommerce shop."""

    name = "woocommerce"
    capabilities = frozenset({"webhooks", "refunds"})

    def paid_statuses(self) -> frozenset[str]:
        """processing and completed, plus the statuses the shop's settings add."""
        extra = self.shop.woocommerce.extra_paid_statuses if self.shop.woocommerce else ()
        return PAID | frozenset(extra)

    def normalise(self, data: Mapping) -> Order:
        """Turn a wc/v3 order object into bridge's Order, with what each customer refund gave back.

        The order lists its refunds by amount only; the refunds' own lines say which products and how
        much shipping, so they are read (one request) for orders the customer had refunds on.
        """
        details = None
        refunds = data.get("refunds") if isinstance(data, Mapping) else None
        if isinstance(refunds, list) and any(isinstance(r, Mapping) and not is_own_refund(r) for r in refunds):
            order_id = data.get("id")
            if isinstance(order_id, int) and not isinstance(order_id, bool):
                details = self._get(f"orders/{order_id}/refunds", about=str(order_id), per_page=100)
        return normalise_order(self.shop.id, data, self.paid_statuses(), details)

    def parse_webhook(self, secret: str | None, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify a delivery over its raw body (see `woocommerce_orders.parse_webhook`)."""
        return parse_webhook(secret, headers, body, shop=self.shop.id)

    def client(self) -> API:
        """The official client: OAuth 1.0a for http:// shops, basic auth (or keys in the query) for https://."""
        settings = self.shop.woocommerce
        return API(url=self.shop.url, consumer_key=settings.consumer_key, consumer_secret=settings.consumer_secret,
                   version="wc/v3", timeout=self.shop.sync.timeout.total_seconds(),
                   query_string_auth=settings.auth == "query_string", user_agent="bridge")

    def request(self, method: str, path: str, params: Mapping | None, body: object) -> requests.Response:
        """One call through the official client (which signs it)."""
        client = self.client()
        return client.get(path, params=params or None) if method == "get" else getattr(client, method)(path, body)

    def error_message(self, response: requests.Response) -> str:
        """WooCommerce's error message ({code, message, data}) or the start of the body."""
        try:
            body = response.json()
            return f"{body.get('code')}: {body.get('message')}"
        except (ValueError, AttributeError):
            return response.text[:200] or response.reason

    def fetch_order(self, order_id: str) -> Order:
        """Read one order from the shop (the truth behind any webhook hint)."""
        return self.normalise(self._get(f"orders/{int(order_id)}", about=order_id))

    def fetch_order_with_key(self, order_id: str, key: str) -> Order:
        """Read an order for the holder of its `order_key` (wc_order_...), compared in constant time."""
        if not order_id.isdigit() or len(order_id) > 18:
            raise NotFound("no such order", self.shop.id, 404, order_id)
        data = self._get(f"orders/{int(order_id)}", about=order_id)
        self.check_key(data.get("order_key"), key, order_id)
        return self.normalise(data)

    def fetch_product(self, product_id: str) -> ProductInfo:
        """A product's name, permalink and first image."""
        data = self._get(f"products/{int(product_id)}")
        images = data.get("images") or []
        url = data.get("permalink") or ""
        if not self.same_site(url):
            url = f"{self.shop.url}/?p={int(product_id)}"  # WordPress redirects ?p=ID to the product's page
        return ProductInfo(name=str(data.get("name") or ""), url=url,
                           image_url=(images[0].get("src") if images and isinstance(images[0], dict) else None))

    def fetch_changed(self, since: datetime, page_size: int = PAGE_SIZE) -> Iterator[list[Order]]:
        """Yield pages of orders modified at or after `since`, oldest first, each order once per change.

        WordPress compares `modified_after` exclusively (seen on a real shop), so each request asks
        from one second before the cursor: the boundary second is read again and deduplicated.
        """
        def read(after: str, index: int) -> list[Mapping]:
            return self._get("orders", modified_after=_second_before(after), dates_are_gmt="true",
                             orderby="modified", order="asc", per_page=page_size, page=index + 1)

        for rows in pages_by_cursor(read, _stamp(since), page_size, lambda r: (r.get("id"), r.get("date_modified_gmt")),
                                    lambda r: r.get("date_modified_gmt")):
            yield [self.normalise(r) for r in rows]

    def create_coupon(self, spec: CouponSpec) -> str:
        """Create a single-use, e-mail-restricted coupon once; return its id (an existing one if already there)."""
        existing = self._coupon_id(spec.code)
        if existing:
            return existing
        body = {"code": spec.code, "discount_type": "percent" if spec.percent is not None else "fixed_cart",
                "amount": (f"{(spec.percent * 100).normalize():f}" if spec.percent is not None
                           else str(self._coupon_amount(spec.amount))),
                "usage_limit": 1, "usage_limit_per_user": 1, "individual_use": False,
                "email_restrictions": [spec.email] if spec.email else [], "description": spec.description}
        if spec.minimum_order is not None:
            body["minimum_amount"] = str(spec.minimum_order)
        if spec.expires_at is not None:
            # WooCommerce 11 ignores date_expires_gmt on write; date_expires is read in the site's time zone.
            local = spec.expires_at.astimezone(ZoneInfo(self.shop.timezone))
            body["date_expires"] = local.strftime("%Y-%m-%dT%H:%M:%S")
        try:
            return str(self.call("post", "coupons", body=body)["id"])
        except FatalError as exc:
            # Another worker created it between our look-up and our POST: WooCommerce answers 400.
            if "woocommerce_rest_coupon_code_already_exists" in str(exc):
                found = self._coupon_id(spec.code)
                if found:
                    return found
            raise

    def _coupon_amount(self, amount: Decimal) -> Decimal:
        """The fixed_cart amount that takes `amount` off a cart, tax included.

        A shop whose prices are entered without tax applies a fixed coupon before tax, so the customer
        gets amount x (1 + rate) off (seen on a real shop: a 2.40 coupon took 2.88 off at 20% VAT).
        The amount is divided by the store's standard rate; with no tax on top, it is sent as it is.
        """
        rate = self.memo("tax_on_top", self._tax_on_top)
        return Money(amount / (1 + rate / 100) if rate else amount, self.shop.currency).rounded().amount

    def _tax_on_top(self) -> Decimal:
        """The standard tax rate (percent) WooCommerce adds on top of coupon amounts; 0 when it adds none."""
        try:
            taxes_on = self._get("settings/general/woocommerce_calc_taxes").get("value") == "yes"
            included = self._get("settings/tax/woocommerce_prices_include_tax").get("value") == "yes"
            if not taxes_on or included:
                return Decimal(0)
            country = str(self._get("settings/general/woocommerce_default_country").get("value") or "")
            rates = [r for r in self._get("taxes", per_page=100, **{"class": "standard"})
                     if isinstance(r, Mapping) and not r.get("compound")]
            here = [r for r in rates if r.get("country") in (country.split(":")[0], "")]
            found = {Decimal(str(r.get("rate"))) for r in (here or rates)}
            return found.pop() if len(found) == 1 else Decimal(0)
        except (FatalError, InvalidOperation, AttributeError):
            return Decimal(0)  # a shop (or a fake) without these settings: amounts as they are

    def refund(self, order_id: str, amount: Decimal, key: str, reason: str) -> str:
        """Refund part of an order once per `key` (kept in the refund's meta and reason); return the refund id.

        Existing refunds are checked first, so a retry after a crash or a timeout never refunds twice.
        `api_refund` comes from the shop's settings (true: through the payment gateway); stock is never
        restocked, since nothing comes back.
        """
        existing = self._refund_id(order_id, key)
        if existing:
            return existing
        body = {"amount": f"{amount:f}", "reason": f"{reason} [bridge {key}]",
                "api_refund": self.shop.woocommerce.api_refund, "api_restock": False,
                "meta_data": [{"key": REFUND_META, "value": key}]}
        try:
            return str(self.call("post", f"orders/{int(order_id)}/refunds", about=order_id, body=body)["id"])
        except RetriableError as exc:
            if exc.status == 500 and "woocommerce_rest_cannot_create_order_refund" in str(exc):
                raise RefundRefused(str(exc).split(" (shop")[0], self.shop.id, 500, order_id) from None
            raise

    def install_webhooks(self, delivery_url: str, secret: str) -> list[tuple[str, str, str]]:
        """Create or update the order webhooks for `delivery_url`, all active and signed with `secret`.

        The secret is write-only in WooCommerce, so an existing webhook is always updated with ours
        (which also re-enables one that failures disabled). Returns (topic, "created"|"updated", id).
        """
        existing = {(w.get("topic"), w.get("delivery_url")): w for w in self._get("webhooks", per_page=100)}
        done = []
        for topic in WEBHOOK_TOPICS:
            body = {"name": f"bridge {topic}", "topic": topic, "delivery_url": delivery_url, "secret": secret,
                    "status": "active"}
            found = existing.get((topic, delivery_url))
            if found:
                self.call("put", f"webhooks/{int(found['id'])}", body=body)
                done.append((topic, "updated", str(found["id"])))
            else:
                done.append((topic, "created", str(self.call("post", "webhooks", body=body)["id"])))
        return done

    @staticmethod
    def delivery_url_warning(url: str) -> str | None:
        """Say why WordPress would refuse to deliver to `url` (loopback or private host on an odd port)."""
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            address = ipaddress.ip_address(parts.hostname)
            local = address.is_loopback or address.is_private
        except ValueError:
            local = parts.hostname == "localhost"
        if local and port not in WORDPRESS_SAFE_PORTS:
            return (f"WordPress does not deliver to a local address on port {port} (only 80, 443, 8080) unless "
                    "the shop adds it with the http_allowed_safe_ports filter")
        return None

    def _refund_id(self, order_id: str, key: str) -> str | None:
        for refund in self._get(f"orders/{int(order_id)}/refunds", about=order_id):
            metas = {m.get("key"): m.get("value") for m in refund.get("meta_data") or []}
            if metas.get(REFUND_META) == key or f"[bridge {key}]" in (refund.get("reason") or ""):
                return str(refund["id"])
        return None

    def _coupon_id(self, code: str) -> str | None:
        """Find a coupon by code (WooCommerce stores codes lower-cased)."""
        rows = self._get("coupons", code=code.lower())
        match = next((r for r in rows if str(r.get("code", "")).lower() == code.lower()), None)
        return str(match["id"]) if match else None

    def _get(self, endpoint: str, about: str | None = None, **params):
        """GET and return the JSON (`params` are the query, which has its own `order`, hence `about`)."""
        return self.call("get", endpoint, about=about, params=params)


def _second_before(stamp: str) -> str:
    """The `*_gmt` stamp one second earlier (an exclusive boundary that includes `stamp`'s second)."""
    return (datetime.fromisoformat(stamp) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")


def _stamp(instant: datetime) -> str:
    """A UTC instant as WooCommerce writes `*_gmt` dates (no offset, whole seconds)."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
