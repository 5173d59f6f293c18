"""The product a share link is about, and where a click lands: its page on the shop's own site, code in hand."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from bridge.config.model import Config
from bridge.connectors import connector_for
from bridge.connectors.errors import ConnectorError
from bridge.sharing.targets import PARAM, Target
from bridge.storage.db import db
from bridge.storage.memos import Memo, bump
from bridge.storage.models import OrderFact, Product

log = logging.getLogger("bridge.sharing.products")
PRODUCT_TTL = timedelta(days=1)  # a stored product is asked of the shop again after this
MISS_TTL = timedelta(minutes=5)  # a shop that could not give a product is not asked again before this
MEMO_TTL = timedelta(minutes=5)
_products = Memo("products", max_size=10_000, ttl=MEMO_TTL)
_misses = Memo("product misses", max_size=10_000, ttl=MISS_TTL)
_founder_products = Memo("founder products")
_same_sites = Memo("same-site URLs", max_size=10_000)


def product_info(config: Config, shop_id: str, product_id: str | None, now: datetime) -> Product | None:
    """The product a group is about, from the memo, the table or the shop (None when the shop cannot say)."""
    if not product_id:
        return None
    return _products.get_or_compute((shop_id, product_id), lambda: _stored_or_fetched(config, shop_id, product_id, now),
                                    now)


def _stored_or_fetched(config, shop_id: str, product_id: str, now: datetime) -> Product | None:
    cached = Product.get_or_none((Product.shop == shop_id) & (Product.product_id == product_id))
    if cached is not None and now - cached.fetched_at < PRODUCT_TTL:
        return cached
    if _misses.get((shop_id, product_id), now) is not None:
        return cached  # do not ask a shop that just failed again on every click
    try:
        info = connector_for(config.shop(shop_id)).fetch_product(product_id)
    except (ConnectorError, NotImplementedError, LookupError, ValueError) as exc:
        _misses.put((shop_id, product_id), now, now)
        log.info("product not fetched", extra={"shop": shop_id, "product": product_id, "reason": str(exc)})
        return cached
    with db.atomic():
        Product.insert(shop=shop_id, product_id=product_id, name=info.name[:255], url=info.url,
                       image_url=info.image_url, fetched_at=now).on_conflict(
            conflict_target=[Product.shop, Product.product_id],
            update={Product.name: info.name[:255], Product.url: info.url, Product.image_url: info.image_url,
                    Product.fetched_at: now}).execute()
        bump(_products.name)  # the other web processes forget their copy within a second
    return Product.get((Product.shop == shop_id) & (Product.product_id == product_id))


def founder_product(target: Target) -> str | None:
    """The founder's first product: what the group is about."""
    if target.kind != "group":
        return None
    shop, founder = target.campaign.shop, target.group.founder_id

    def first_line() -> str | None:
        row = OrderFact.get_or_none((OrderFact.shop == shop) & (OrderFact.order_id == founder))
        lines = json.loads(row.lines) if row else []
        return str(lines[0][0]) if lines else None

    return _founder_products.get_or_compute((shop, founder), first_line)


def landing_url(config: Config, target: Target, tag: str | None, now: datetime) -> str:
    """Where a click goes: the product page (or the shop's home) on the shop's own site, with the code."""
    shop = config.shop(target.campaign.shop)
    product = product_info(config, shop.id, founder_product(target), now)
    base = product.url if product is not None and _same_site(shop, product.url) else shop.url + "/"
    value = target.code + (f".{tag}" if tag else "")
    return base + ("&" if urlsplit(base).query else "?") + urlencode({PARAM: value})


def _same_site(shop, url: str) -> bool:
    """Whether a URL is on the shop's own site (remembered: a product's URL does not move often)."""
    return _same_sites.get_or_compute((shop.url, url), lambda: connector_for(shop).same_site(url))
