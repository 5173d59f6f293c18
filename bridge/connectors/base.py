"""The one small interface every connector implements, with the shared helpers (signatures, headers)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Mapping

from bridge.config.model import Shop


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

    def __init__(self, headers: Mapping[str, str]):
        self._items = {str(k).lower(): v for k, v in dict(headers).items()}

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._items.get(name.lower(), default)


def signature_matches(secret: str, body: bytes, signature: str | None) -> bool:
    """Tell, in constant time, whether `signature` is the base64 HMAC-SHA256 of the raw body under `secret`."""
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, (signature or "").strip().encode("ascii", "replace"))


class Connector:
    """A shop platform in bridge's terms. Subclasses set `name` and `capabilities`, and implement these."""

    name = ""
    # What the platform can do, as data: "webhooks" (bridge installs them), "refunds" (of a payment).
    capabilities: frozenset[str] = frozenset()

    def __init__(self, shop: Shop):
        self.shop = shop

    def configured_secret(self) -> str | None:
        """The signing secret the configuration gives for deliveries (None: the one bridge generated and keeps)."""
        return None

    def parse_webhook(self, secret: str | None, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify a delivery over its raw body and say what it means (raises a WebhookError)."""
        raise NotImplementedError(f"{self.name} does not receive webhooks")

    def fetch_order_with_key(self, order_id: str, key: str):
        """Read an order only for whoever holds its key (the thank-you page's URL has it); else NotFound."""
        raise NotImplementedError

    def fetch_product(self, product_id: str) -> ProductInfo:
        """Read a product's name, page and image."""
        raise NotImplementedError

    def fetch_order(self, order_id: str):
        """Read one order (the truth behind a hint); NotFound if the shop has none."""
        raise NotImplementedError

    def fetch_changed(self, since: datetime, page_size: int = 100):
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

    def same_site(self, url: str) -> bool:
        """Tell whether `url` is on the shop's own site (redirects never leave it)."""
        from urllib.parse import urlsplit

        mine, theirs = urlsplit(self.shop.url), urlsplit(url)
        return theirs.scheme in ("http", "https") and (theirs.hostname, theirs.port) == (mine.hostname, mine.port)
