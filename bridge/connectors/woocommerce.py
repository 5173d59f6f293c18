"""WooCommerce (REST wc/v3): orders into bridge's model, and webhook deliveries verified over raw bytes.

Facts relied on (shared/docs/PLATFORMS.md, section A): amounts are strings in the order's currency;
`date_*_gmt` fields are UTC without an offset; the order total never shrinks, refunds appear as
negative strings in `refunds[]`; paid statuses are processing and completed (plus the shop's own);
pings are form-encoded `webhook_id=N` with no signature and must get exactly 200; a delivery's
signature is base64(HMAC-SHA256(secret, raw body)).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Iterator, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests
from woocommerce import API

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
    RefundRefused,
    RetriableError,
    error_for_status,
)
from bridge.money import Money
from bridge.rewards.model import Line, Order

PAID = frozenset({"processing", "completed"})
PAGE_SIZE = 100  # the most wc/v3 allows
REFUND_META = "_bridge_payout_key"
CANCELLED = frozenset({"cancelled", "failed", "trash"})
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.deleted", "order.restored"})
_PING = re.compile(rb"webhook_id=\d+")
OWN_REFUND = re.compile(r"\[bridge [^\]\s]+\]")  # what `refund` writes at the end of its reason
RETRY_DELAYS = (1.0, 4.0)  # seconds before the second and third attempt of a read
MAX_RETRY_AFTER = 30.0  # a longer Retry-After is left to the next scheduled run
WEBHOOK_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
# WordPress refuses loopback and private delivery URLs on other ports (SOURCES.md of the live captures).
WORDPRESS_SAFE_PORTS = (80, 443, 8080)


class WooCommerceConnector(Connector):
    """One WooCommerce shop."""

    name = "woocommerce"
    capabilities = frozenset({"webhooks", "refunds"})
    retry_delays = RETRY_DELAYS
    sleep = staticmethod(time.sleep)

    def paid_statuses(self) -> frozenset[str]:
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
        return parse_webhook(secret, headers, body, shop=self.shop.id)

    def client(self) -> API:
        """The official client: OAuth 1.0a for http:// shops, basic auth (or keys in the query) for https://."""
        settings = self.shop.woocommerce
        return API(url=self.shop.url, consumer_key=settings.consumer_key, consumer_secret=settings.consumer_secret,
                   version="wc/v3", timeout=self.shop.sync.timeout.total_seconds(),
                   query_string_auth=settings.auth == "query_string", user_agent="bridge")

    def fetch_order(self, order_id: str) -> Order:
        """Read one order from the shop (the truth behind any webhook hint)."""
        return self.normalise(self._get(f"orders/{int(order_id)}", about=order_id))

    def fetch_order_with_key(self, order_id: str, key: str) -> Order:
        """Read an order for the holder of its `order_key` (wc_order_...), compared in constant time."""
        if not order_id.isdigit() or len(order_id) > 18:
            raise NotFound("no such order", self.shop.id, 404, order_id)
        data = self._get(f"orders/{int(order_id)}", about=order_id)
        if not hmac.compare_digest(str(data.get("order_key") or "").encode(), (key or "").encode()):
            raise NotFound("no such order", self.shop.id, 404, order_id)  # the same answer as a missing order
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

        A moving `modified_after` cursor rather than page numbers: an order modified during the poll
        moves past the cursor, where the next request finds it, instead of shifting the pages behind
        it. WordPress compares `modified_after` exclusively (seen on a real shop), so each request asks
        from one second before the cursor: the boundary second is read again and deduplicated, and
        an order sharing the last row's second on the next page is never skipped. Only when a whole
        page shares one second is it read by page number.
        """
        after, page, seen = _stamp(since), 1, set()
        while True:
            rows = self._get("orders", modified_after=_second_before(after), dates_are_gmt="true", orderby="modified",
                             order="asc", per_page=page_size, page=page)
            fresh = [r for r in rows if (r.get("id"), r.get("date_modified_gmt")) not in seen]
            seen.update((r.get("id"), r.get("date_modified_gmt")) for r in rows)
            if fresh:
                yield [self.normalise(r) for r in fresh]
            if len(rows) < page_size:
                return
            last = rows[-1].get("date_modified_gmt")
            if last == after:
                page += 1  # a full page within one second: step through that second by page
            else:
                after, page = last, 1

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
            body["date_expires"] = spec.expires_at.astimezone(ZoneInfo(self.shop.timezone)).strftime("%Y-%m-%dT%H:%M:%S")
        try:
            return str(self._send("post", "coupons", body)["id"])
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
        rate = self._tax_on_top()
        money = Money(amount / (1 + rate / 100) if rate else amount, self.shop.currency).rounded().amount
        return money

    def _tax_on_top(self) -> Decimal:
        """The standard tax rate (percent) WooCommerce adds on top of coupon amounts; 0 when it adds none."""
        if getattr(self, "_tax_rate", None) is None:
            self._tax_rate = Decimal(0)
            try:
                taxes_on = self._get("settings/general/woocommerce_calc_taxes").get("value") == "yes"
                included = self._get("settings/tax/woocommerce_prices_include_tax").get("value") == "yes"
                if taxes_on and not included:
                    country = str(self._get("settings/general/woocommerce_default_country").get("value") or "")
                    rates = [r for r in self._get("taxes", per_page=100, **{"class": "standard"})
                             if isinstance(r, Mapping) and not r.get("compound")]
                    here = [r for r in rates if r.get("country") in (country.split(":")[0], "")]
                    found = {Decimal(str(r.get("rate"))) for r in (here or rates)}
                    self._tax_rate = found.pop() if len(found) == 1 else Decimal(0)
            except (FatalError, InvalidOperation, AttributeError):
                self._tax_rate = Decimal(0)  # a shop (or a fake) without these settings: amounts as they are
        return self._tax_rate

    def refund(self, order_id: str, amount: Decimal, key: str, reason: str) -> str:
        """Refund part of an order once per `key` (kept in the refund's meta and reason); return the refund id.

        Existing refunds are checked first, so a retry after a crash or a timeout never refunds twice.
        `api_refund` comes from the shop's settings (true: through the payment gateway); stock is never
        restocked, since nothing comes back.
        """
        existing = self._refund_id(order_id, key)
        if existing:
            return existing
        body = {"amount": f"{amount:f}", "reason": f"{reason} [bridge {key}]", "api_refund": self.shop.woocommerce.api_refund,
                "api_restock": False, "meta_data": [{"key": REFUND_META, "value": key}]}
        try:
            return str(self._send("post", f"orders/{int(order_id)}/refunds", body, about=order_id)["id"])
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
                self._send("put", f"webhooks/{int(found['id'])}", body)
                done.append((topic, "updated", str(found["id"])))
            else:
                done.append((topic, "created", str(self._send("post", "webhooks", body)["id"])))
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
        """GET and return the JSON, translating every failure into the connector error tree.

        `about` names the order concerned, for error messages; `params` are the query (which has its
        own `order` parameter, hence the different name).
        """
        return self._send("get", endpoint, None, about, params)

    def _send(self, method: str, endpoint: str, data, about: str | None = None, params=None):
        """Call the API and return the JSON; reads that fail for a passing reason are tried again.

        Only reads are retried here: a write that timed out may have happened, so the caller looks
        it up again before writing (refunds and coupons do), and the payout job retries the whole step.
        A shop that cannot be reached at all fails at once; the next scheduled run tries again.
        """
        attempt = 0
        while True:
            try:
                return self._send_once(method, endpoint, data, about, params)
            except RetriableError as exc:
                if method != "get" or attempt >= len(self.retry_delays) or exc.status is None and not exc.timed_out:
                    raise
                delay = self.retry_delays[attempt] if exc.retry_after is None else exc.retry_after
                if delay > MAX_RETRY_AFTER:
                    raise
                attempt += 1
                self.sleep(delay)

    def _send_once(self, method: str, endpoint: str, data, about: str | None = None, params=None):
        """Call the API once and return the JSON, translating every failure into the connector error tree."""
        try:
            client = self.client()
            if method == "get":
                response = client.get(endpoint, params=params or None)
            else:
                response = getattr(client, method)(endpoint, data)
        except requests.Timeout as exc:
            raise RetriableError(f"timed out: {type(exc).__name__}", self.shop.id, order=about, timed_out=True) from exc
        except requests.RequestException as exc:
            raise RetriableError(f"cannot reach the shop: {type(exc).__name__}", self.shop.id, order=about) from exc
        if response.status_code >= 400:
            raise error_for_status(response.status_code, _message(response), self.shop.id, about,
                                   retry_after=_retry_after(response))
        try:
            return response.json()
        except ValueError:
            raise RetriableError("the shop answered something that is not JSON", self.shop.id,
                                 response.status_code, about) from None


def _retry_after(response) -> float | None:
    """The seconds a 429 or 503 asks us to wait (only the numeric form; dates are rare from PHP)."""
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


def _message(response) -> str:
    """WooCommerce's error message ({code, message, data}) or the start of the body."""
    try:
        body = response.json()
        return f"{body.get('code')}: {body.get('message')}"
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason


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
    try:
        payload = bodies.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedPayload("body is not JSON", shop, 400) from None
    order_id = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id <= 0:
        raise MalformedPayload("body has no order id", shop, 400)
    return WebhookEvent("order", topic=topic, order_id=str(order_id))


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
    order_id = _field(data, "id", int, shop)
    status = _field(data, "status", str, shop, order_id)
    total = _amount(data, "total", shop, order_id)
    refunds = [r for r in data.get("refunds") or [] if isinstance(r, Mapping)]
    # bridge's own cashback refunds carry their payout key in the reason: they are not the customer's.
    own = -sum((_amount(r, "total", shop, order_id) for r in refunds if is_own_refund(r)), Decimal(0))
    refunded = -sum((_amount(r, "total", shop, order_id) for r in refunds if not is_own_refund(r)), Decimal(0))
    if status == "refunded":
        refunded = max(refunded, total - own)  # a hand-set "refunded" status may come without refund records
    refunded_lines, refunded_shipping = _refunded_parts(refund_details or [], shop, order_id)
    billing = data.get("billing") or {}
    paid = status in paid_statuses
    created = _instant(data, "date_created_gmt", shop, order_id)
    # Cash on delivery is `processing` with no date_paid; completing it later sets one. Neither is the
    # instant the order became paid, so bridge dates it when it first sees it paid (ingest keeps it).
    paid_at = _instant(data, "date_paid_gmt", shop, order_id, optional=True)
    return Order(
        shop=shop, id=str(order_id), currency=_field(data, "currency", str, shop, order_id), paid=paid,
        paid_at=paid_at, paid_at_source="shop" if paid_at else "first_seen", own_refunded=own, created_at=created,
        refunded_lines=refunded_lines, refunded_shipping=refunded_shipping,
        modified_at=_instant(data, "date_modified_gmt", shop, order_id, optional=True), total=total,
        refunded=refunded, cancelled=status in CANCELLED, lines=tuple(_line(item, shop, order_id) for item in data.get("line_items") or []),
        customer_id=str(data["customer_id"]) if data.get("customer_id") else None,
        email=(billing.get("email") or None), billing_address=_address(billing),
        ip=data.get("customer_ip_address") or None, user_agent=data.get("customer_user_agent") or None)


def _refunded_parts(details: list, shop: str, order_id) -> tuple[tuple[Line, ...], Decimal]:
    """The products and the shipping the customer's refunds gave back (positive amounts), bridge's own left out."""
    lines: list[Line] = []
    shipping = Decimal(0)
    for refund in details:
        if not isinstance(refund, Mapping) or is_own_refund(refund):
            continue
        for line in refund.get("line_items") or []:
            if isinstance(line, Mapping):
                lines.append(Line(product_id=str(_field(line, "product_id", int, shop, order_id)),
                                  quantity=-_field(line, "quantity", int, shop, order_id),
                                  total=-_amount(line, "total", shop, order_id),
                                  tax=-_amount(line, "total_tax", shop, order_id)))
        for line in refund.get("shipping_lines") or []:
            if isinstance(line, Mapping):
                shipping -= _amount(line, "total", shop, order_id) + _amount(line, "total_tax", shop, order_id)
    return tuple(lines), shipping


def _second_before(stamp: str) -> str:
    """The `*_gmt` stamp one second earlier (an exclusive boundary that includes `stamp`'s second)."""
    return (datetime.fromisoformat(stamp) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")


def _stamp(instant: datetime) -> str:
    """A UTC instant as WooCommerce writes `*_gmt` dates (no offset, whole seconds)."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _line(line: Mapping, shop: str, order_id: int) -> Line:
    return Line(product_id=str(_field(line, "product_id", int, shop, order_id)),
                quantity=_field(line, "quantity", int, shop, order_id), total=_amount(line, "total", shop, order_id),
                tax=_amount(line, "total_tax", shop, order_id))


def _address(billing: Mapping) -> str | None:
    parts = [billing.get(k) or "" for k in ("address_1", "address_2", "postcode", "city", "state", "country")]
    text = ", ".join(p for p in parts if p)
    return text or None


def _field(data: Mapping, name: str, kind: type, shop: str, order_id=None):
    value = data.get(name) if isinstance(data, Mapping) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedPayload(f"field {name!r} should be {kind.__name__}, got {value!r}", shop, order=order_id)
    return value


def _amount(data: Mapping, name: str, shop: str, order_id) -> Decimal:
    """Amounts are strings in the order's currency (never parsed through float)."""
    text = data.get(name) if isinstance(data, Mapping) else None
    try:
        if not isinstance(text, str):
            raise InvalidOperation
        value = Decimal(text)
        if not value.is_finite():
            raise InvalidOperation
        return value
    except InvalidOperation:
        raise MalformedPayload(f"field {name!r} should be an amount string, got {text!r}", shop, order=order_id) from None


def _instant(data: Mapping, name: str, shop: str, order_id, optional: bool = False) -> datetime | None:
    """`*_gmt` dates are UTC written without an offset."""
    text = data.get(name)
    if text is None and optional:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        raise MalformedPayload(f"field {name!r} should be a date like 2026-07-01T12:00:00, got {text!r}", shop,
                               order=order_id) from None
