"""The base every connector stands on: the interface, HTTP with retries and error translation, paging, caches.

A platform module says how to make one request and how to read its answers; everything else that
talking to a shop takes is here, once: reads retried with backoff (a write never is: it may have
happened), every third-party failure translated into `errors`, the moving-cursor paginator both
platforms need, per-instance memos, signatures and order keys compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urlsplit

import requests

from bridge.basics import bodies
from bridge.config.model import Shop
from bridge.connectors.errors import MalformedPayload, NotFound, RetriableError, error_for_status
from bridge.rewards.model import Order

MAX_RETRY_AFTER = 30.0  # seconds: a longer Retry-After is left to the next scheduled run


@dataclass(frozen=True)
class WebhookEvent:
    """What a verified delivery tells us: a ping, a hint that an order changed, or something we ignore."""

    kind: str  # ping | order | ignored
    topic: str | None = None
    order_id: str | None = None


@dataclass(frozen=True)
class CouponSpec:
    """A single-use coupon for one person: a percentage or an amount off, maybe with a minimum and an end."""

    code: str
    email: str | None
    percent: Decimal | None = None  # 0.10 for 10%
    amount: Decimal | None = None
    minimum_order: Decimal | None = None
    expires_at: datetime | None = None
    description: str = ""


@dataclass(frozen=True)
class ProductInfo:
    """What a share link shows of a product: its name, its page on the shop, an image."""

    name: str
    url: str
    image_url: str | None = None


class Headers:
    """Case-insensitive read access to HTTP headers (proxies change their case)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._items = {str(k).lower(): v for k, v in dict(headers).items()}

    def get(self, name: str, default: str | None = None) -> str | None:
        """The header's value, whatever its case, or `default`."""
        return self._items.get(name.lower(), default)


def signature_matches(secret: str, body: bytes, signature: str | None) -> bool:
    """Tell, in constant time, whether `signature` is the base64 HMAC-SHA256 of the raw body under `secret`."""
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, (signature or "").strip().encode("ascii", "replace"))


def on_site(site: str, url: str) -> bool:
    """Tell whether `url` is an http(s) address on the site whose address is `site` (same host and port)."""
    mine, theirs = urlsplit(site), urlsplit(url)
    return theirs.scheme in ("http", "https") and (theirs.hostname, theirs.port) == (mine.hostname, mine.port)


def json_payload(body: bytes, shop: str) -> object:
    """A delivery's JSON body, bounded (bodies.loads); MalformedPayload if it is not JSON."""
    try:
        return bodies.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedPayload("body is not JSON", shop, 400) from None


def positive_id(value: object) -> str | None:
    """A payload's order id as text when it is a positive integer (not a bool, not a string), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return str(value)


def retry_after(response: requests.Response) -> float | None:
    """The seconds a 429 or 503 asks us to wait (only the numeric form; dates are rare from PHP)."""
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


class Connector:
    """A shop platform in bridge's terms. Subclasses set `name` and `capabilities`, and implement these."""

    name = ""
    # What the platform can do, as data: "webhooks" (bridge installs them), "refunds" (of a payment).
    capabilities: frozenset[str] = frozenset()
    retry_delays: tuple[float, ...] = (1.0, 4.0)  # seconds before the second and third attempt of a read
    sleep = staticmethod(time.sleep)

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self._memos: dict[object, tuple[float, object]] = {}
        self._memo_lock = threading.Lock()

    # -- what each platform implements ------------------------------------------------------------
    def configured_secret(self) -> str | None:
        """The signing secret the configuration gives for deliveries (None: the one bridge generated and keeps)."""
        return None

    def parse_webhook(self, secret: str | None, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify a delivery over its raw body and say what it means (raises a WebhookError)."""
        raise NotImplementedError(f"{self.name} does not receive webhooks")

    def fetch_order_with_key(self, order_id: str, key: str) -> Order:
        """Read an order only for whoever holds its key (the thank-you page's URL has it); else NotFound."""
        raise NotImplementedError

    def fetch_product(self, product_id: str) -> ProductInfo:
        """Read a product's name, page and image."""
        raise NotImplementedError

    def fetch_order(self, order_id: str) -> Order:
        """Read one order (the truth behind a hint); NotFound if the shop has none."""
        raise NotImplementedError

    def fetch_changed(self, since: datetime, page_size: int = 100) -> Iterator[list[Order]]:
        """Yield pages of orders changed at or after `since`, oldest first, each change once."""
        raise NotImplementedError

    def create_coupon(self, spec: CouponSpec) -> str:
        """Create a single-use coupon once per code; return its id in the shop."""
        raise NotImplementedError

    def refund(self, order_id: str, amount: Decimal, key: str, reason: str) -> str:
        """Refund part of an order once per `key`; platforms without "refunds" raise RefundRefused."""
        raise NotImplementedError

    def install_webhooks(self, delivery_url: str, secret: str) -> list[tuple[str, str, str]]:
        """Create or update the shop's order webhooks (platforms with "webhooks")."""
        raise NotImplementedError(f"{self.name} has no webhooks bridge can install")

    def request(self, method: str, path: str, params: Mapping | None, body: object) -> requests.Response:
        """Make one HTTP request to the shop's API (the platform's authentication and base address)."""
        raise NotImplementedError

    def error_message(self, response: requests.Response) -> str:
        """The platform's error message in a failed answer (by default the start of the body)."""
        return response.text[:200] or response.reason

    # -- shared plumbing --------------------------------------------------------------------------
    def call(self, method: str, path: str, about: str | None = None, params: Mapping | None = None, body: object=None,
             xml: bool = False) -> Any:
        """Call the API and return its JSON (or XML root); reads that fail for a passing reason are tried again.

        Only reads are retried here: a write that timed out may have happened, so the caller looks
        it up again before writing (refunds and coupons do), and the payout job retries the whole step.
        A shop that cannot be reached at all fails at once; the next scheduled run tries again.
        `about` names the order concerned, for error messages.
        """
        attempt = 0
        while True:
            try:
                return self._call_once(method, path, about, params, body, xml)
            except RetriableError as exc:
                if method != "get" or attempt >= len(self.retry_delays) or exc.status is None and not exc.timed_out:
                    raise
                delay = self.retry_delays[attempt] if exc.retry_after is None else exc.retry_after
                if delay > MAX_RETRY_AFTER:
                    raise
                attempt += 1
                self.sleep(delay)

    def _call_once(self, method: str, path: str, about: str | None, params: Mapping | None, body, xml: bool):
        """Call the API once, translating every failure into the connector error tree."""
        try:
            response = self.request(method, path, params, body)
        except requests.Timeout as exc:
            raise RetriableError(f"timed out: {type(exc).__name__}", self.shop.id, order=about, timed_out=True) from exc
        except requests.RequestException as exc:
            raise RetriableError(f"cannot reach the shop: {type(exc).__name__}", self.shop.id, order=about) from exc
        if response.status_code >= 400:
            raise error_for_status(response.status_code, self.error_message(response), self.shop.id, about,
                                   retry_after=retry_after(response))
        try:
            return ET.fromstring(response.content) if xml else response.json()
        except (ValueError, ET.ParseError):
            raise RetriableError(f"the shop answered something that is not {'XML' if xml else 'JSON'}", self.shop.id,
                                 response.status_code, about) from None

    def memo(self, key: object, compute: Callable[[], object], ttl: float | None = None) -> Any:
        """`compute()` once per key for this connector (again after `ttl` seconds, when given)."""
        with self._memo_lock:
            found = self._memos.get(key)
        if found is not None and (ttl is None or time.monotonic() - found[0] < ttl):
            return found[1]
        value = compute()
        with self._memo_lock:
            self._memos[key] = (time.monotonic(), value)
        return value

    def forget(self) -> None:
        """Forget this connector's memos (after a shop's settings changed)."""
        with self._memo_lock:
            self._memos.clear()

    def check_key(self, stored: object, given: str | None, order_id: str) -> None:
        """NotFound unless `given` is the order's key, compared in constant time (the same answer as no order)."""
        if not hmac.compare_digest(str(stored or "").encode(), (given or "").encode()):
            raise NotFound("no such order", self.shop.id, 404, order_id)

    def same_site(self, url: str) -> bool:
        """Tell whether `url` is on the shop's own site (redirects never leave it)."""
        return on_site(self.shop.url, url)

    def redirected_url(self, url: str) -> str:
        """Where the shop's site sends a page's address (its canonical form, where a query string survives).

        The shop is asked once (callers memoise) and its redirects followed; on any failure, or a
        redirect off the shop's site, the address is kept as it was.
        """
        try:
            answer = requests.get(url, timeout=min(self.shop.sync.timeout.total_seconds(), 10), allow_redirects=True,
                                  headers={"User-Agent": "Mozilla/5.0 (compatible; bridge)"})
        except requests.RequestException:
            return url
        return answer.url if answer.status_code == 200 and self.same_site(answer.url) else url


def pages_by_cursor(read: Callable[[str, int], list[Mapping]], start: str, page_size: int,
                    identity: Callable[[Mapping], tuple], stamp: Callable[[Mapping], str]) -> Iterator[list[Mapping]]:
    """Yield the fresh rows of each page of a list sorted by modification stamp, read from a moving cursor.

    `read(after, index)` returns the `index`-th page of rows stamped at or after `after` (the platform
    makes the boundary inclusive). A moving cursor rather than page numbers: a row modified during the
    poll moves past the cursor, where a later request finds it, instead of shifting the pages behind it.
    The boundary second is read again and deduplicated by `identity`; only when a whole page shares one
    stamp is the next page asked by index.
    """
    after, index, seen = start, 0, set()
    while True:
        rows = read(after, index)
        fresh = [r for r in rows if identity(r) not in seen]
        seen.update(identity(r) for r in rows)
        if fresh:
            yield fresh
        if len(rows) < page_size:
            return
        last = stamp(rows[-1])
        if last == after:
            index += 1  # a full page within one stamp: step through it by index
        else:
            after, index = last, 0
