"""Share links and what the widget shows: codes resolved, clicks counted, conversions attributed.

A share link is `/r/<code>` or `/r/<code>/<tag>` (the tag names the member who shared it). It leads
to the product page on the shop's own site with `?bridge=<code>[.<tag>]`, which the widget keeps until
the thank-you page, where it reports the order with its key; the shop's API confirms the order and
the engine attributes it like any other claim.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from bridge.connectors import connector_for
from bridge.connectors.errors import ConnectorError
from bridge.group_state import founder_of, state_of_group
from bridge.ingest import ingest
from bridge.links import share_url
from bridge.money import display_amount
from bridge.rewards.model import Claim
from bridge.secrets_store import ensure_shop_secret
from bridge.storage.compiled import execute, select, sentinel
from bridge.storage.db import db
from bridge.storage.models import (
    Advocate,
    Click,
    GroupRow,
    MemberTag,
    OrderFact,
    Product,
    Reward,
    ShopSecret,
)

log = logging.getLogger("bridge.attribution")
PARAM = "bridge"  # the query parameter that carries the code on the shop's pages
PRODUCT_TTL = timedelta(days=1)
MISS_TTL = timedelta(minutes=5)
_misses: dict[tuple[str, str], datetime] = {}  # products the shop could not give lately (per process)
# Per-process memos for the click path (every click would otherwise ask the database for them again).
_salts: dict[str, str] = {}
_founder_products: dict[tuple[int, str, str], str | None] = {}
_products: dict[tuple[int, str, str], tuple[datetime, object]] = {}
_targets: dict[tuple[int, str], Target] = {}
_same_sites: dict[tuple[str, str], bool] = {}
MEMO_TTL = timedelta(minutes=5)
CHANNELS = frozenset({"whatsapp", "messenger", "facebook", "x", "email", "sms", "copy", "share", "qr"})
_CODE = re.compile(r"[0-9A-Z]{8,32}")
# Link-preview fetchers: they show the link in a chat, nobody clicked yet.
PREVIEW_AGENTS = re.compile(r"facebookexternalhit|facebot|whatsapp|twitterbot|slackbot|telegrambot|linkedinbot|"
                            r"discordbot|skypeuripreview|embedly|pinterest|redditbot|applebot|googlebot|bingbot",
                            re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """What a code names: a social-buying group or a referral advocate."""

    kind: str  # group | advocate
    campaign: object
    code: str
    group: GroupRow | None = None
    advocate: Advocate | None = None


def resolve(config, code: str) -> Target | None:
    """Find the group or advocate a code belongs to (None for anything else, including malformed codes)."""
    code = (code or "").upper()
    if not _CODE.fullmatch(code):
        return None
    campaigns = {c.id: c for c in config.campaigns}
    found = select(GroupRow, "group_by_code", lambda: GroupRow.select().where(GroupRow.code == ":code"), code=code)
    group = found[0] if found else None
    if group is not None and group.campaign in campaigns:
        return Target("group", campaigns[group.campaign], code, group=group)
    advocate = Advocate.get_or_none(Advocate.code == code)
    if advocate is not None and advocate.campaign in campaigns:
        return Target("advocate", campaigns[advocate.campaign], code, advocate=advocate)
    return None


def resolve_for_click(config, code: str) -> Target | None:
    """`resolve` for the click path, memoised: what a click needs of a group (campaign, founder, closing
    time) never changes once the group exists. Unknown codes are not memoised (a group may appear)."""
    key = (id(db.obj), (code or "").upper())
    target = _targets.get(key)
    if target is None:
        target = resolve(config, code)
        if target is not None:
            if len(_targets) > 100_000:
                _targets.clear()
            _targets[key] = target
    return target


def tag_of(target: Target, tag: str | None) -> str | None:
    """Keep a member's tag only if it belongs to a member of this very group."""
    if not tag or target.kind != "group" or not _CODE.fullmatch(tag.upper()):
        return None
    row = MemberTag.get_or_none(MemberTag.tag == tag.upper())
    if row is None or row.campaign != target.campaign.id or founder_of(target.campaign, row.order_id) != target.group.founder_id:
        return None
    return row.tag


def is_preview(user_agent: str | None) -> bool:
    return bool(user_agent and PREVIEW_AGENTS.search(user_agent))


def record_click(target: Target, tag: str | None, ip: str | None, user_agent: str | None, referrer: str | None,
                 channel: str | None, now: datetime) -> None:
    """Count a click: the IP only as a hash salted with today's salt, the browser's family, the referring site."""
    fields = ("shop", "campaign", "code", "tag", "at", "channel", "ip_hash", "ua_family", "referrer_domain")
    values = dict(shop=target.campaign.shop, campaign=target.campaign.id, code=target.code, tag=tag,
                  at=Click.at.db_value(now), channel=channel if channel in CHANNELS else None,
                  ip_hash=_ip_hash(ip, now) if ip else None, ua_family=ua_family(user_agent),
                  referrer_domain=((urlsplit(referrer).hostname or None) if referrer else None))
    # One INSERT in autocommit mode: atomic on its own, without a BEGIN and a COMMIT around it.
    execute("insert_click", lambda: Click.insert({getattr(Click, f): sentinel(f) for f in fields}), **values)


def _ip_hash(ip: str, now: datetime) -> str:
    """Hash an IP with a random salt that changes every day (older salts are deleted: old hashes can't be matched)."""
    day = f"{id(db.obj)}:{now:%Y-%m-%d}"  # per database: memos must not leak from one to another
    salt = _salts.get(day)
    if salt is None:
        salt = ensure_shop_secret("*", f"click-salt:{now:%Y-%m-%d}")
        ShopSecret.delete().where((ShopSecret.shop == "*") & ShopSecret.name.startswith("click-salt:")
                                  & (ShopSecret.name < f"click-salt:{(now - timedelta(days=1)):%Y-%m-%d}")).execute()
        _salts.clear()
        _salts[day] = salt
    return hmac.new(salt.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]


def ua_family(user_agent: str | None) -> str | None:
    """A browser family, enough for statistics and nothing more."""
    if not user_agent:
        return None
    ua = user_agent.lower()
    for needle, family in (("edg/", "edge"), ("opr/", "opera"), ("samsungbrowser", "samsung"), ("firefox", "firefox"),
                           ("fxios", "firefox"), ("crios", "chrome"), ("chrome", "chrome"), ("safari", "safari")):
        if needle in ua:
            return family + ("-mobile" if "mobile" in ua else "")
    return "other"


def product_info(config, shop_id: str, product_id: str | None, now: datetime) -> Product | None:
    """The product a group is about, from the cache or the shop (None when the shop cannot say)."""
    if not product_id:
        return None
    memo = _products.get((id(db.obj), shop_id, product_id))
    if memo is not None and now - memo[0] < MEMO_TTL:
        return memo[1]
    found = _product_info(config, shop_id, product_id, now)
    if len(_products) > 10_000:
        _products.clear()
    _products[(id(db.obj), shop_id, product_id)] = (now, found)
    return found


def _product_info(config, shop_id: str, product_id: str, now: datetime) -> Product | None:
    cached = Product.get_or_none((Product.shop == shop_id) & (Product.product_id == product_id))
    if cached is not None and now - cached.fetched_at < PRODUCT_TTL:
        return cached
    missed = _misses.get((shop_id, product_id))
    if missed is not None and now - missed < MISS_TTL:
        return cached  # do not ask a shop that just failed again on every click
    try:
        info = connector_for(config.shop(shop_id)).fetch_product(product_id)
    except (ConnectorError, NotImplementedError, LookupError, ValueError) as exc:
        _misses[(shop_id, product_id)] = now
        log.info("product not fetched", extra={"shop": shop_id, "product": product_id, "reason": str(exc)})
        return cached
    with db.atomic():
        Product.insert(shop=shop_id, product_id=product_id, name=info.name[:255], url=info.url,
                       image_url=info.image_url, fetched_at=now).on_conflict(
            conflict_target=[Product.shop, Product.product_id],
            update={Product.name: info.name[:255], Product.url: info.url, Product.image_url: info.image_url,
                    Product.fetched_at: now}).execute()
    return Product.get((Product.shop == shop_id) & (Product.product_id == product_id))


def founder_product(target: Target) -> str | None:
    """The founder's first product: what the group is about."""
    if target.kind != "group":
        return None
    key = (id(db.obj), target.campaign.shop, target.group.founder_id)
    if key not in _founder_products:
        row = OrderFact.get_or_none((OrderFact.shop == key[1]) & (OrderFact.order_id == key[2]))
        lines = json.loads(row.lines) if row else []
        if len(_founder_products) > 100_000:
            _founder_products.clear()
        _founder_products[key] = str(lines[0][0]) if lines else None
    return _founder_products[key]


def landing_url(config, target: Target, tag: str | None, now: datetime) -> str:
    """Where a click goes: the product page (or the shop's home) on the shop's own site, with the code."""
    shop = config.shop(target.campaign.shop)
    product = product_info(config, shop.id, founder_product(target), now)
    base = product.url if product is not None and _same_site(shop, product.url) else shop.url + "/"
    value = target.code + (f".{tag}" if tag else "")
    return base + ("&" if urlsplit(base).query else "?") + urlencode({PARAM: value})


def _same_site(shop, url: str) -> bool:
    """Whether a URL is on the shop's own site (remembered: a product's URL does not move often)."""
    key = (shop.url, url)
    if key not in _same_sites:
        if len(_same_sites) > 10_000:
            _same_sites.clear()
        _same_sites[key] = connector_for(shop).same_site(url)
    return _same_sites[key]


def link_state(config, target: Target, now: datetime, locale: str | None = None) -> dict:
    """The public state of a link: the shop, the tiers, members, current and next cashback, time left."""
    shop = config.shop(target.campaign.shop)
    campaign = target.campaign
    lang = locale or shop.locale
    body = {"code": target.code, "kind": target.kind, "shop": shop_public(shop), "campaign": {"id": campaign.id}}
    if target.kind == "advocate":
        reward = campaign.friend_reward
        body["campaign"]["welcome"] = (f"{(reward.percent * 100).normalize():f}%" if reward.percent is not None
                                       else display_amount(reward.amount.amount, reward.amount.currency, lang))
        body["attribution_days"] = campaign.attribution_window.days
        return body
    state = state_of_group(campaign, target.group.founder_id, now, target.group)
    tiers = [{"buyers": t.buyers, "cashback": t.cashback.describe(campaign.currency)} for t in campaign.tiers]
    body["campaign"].update(tiers=tiers, max_cashback=tiers[-1]["cashback"])
    body["attribution_days"] = campaign.attribution_window.days
    product = product_info(config, shop.id, founder_product(target), now)
    body["product"] = {"name": product.name, "image": product.image_url, "url": product.url} if product else None
    body["share_url"] = share_url(config.server.public_url, target.code)
    if state is None:
        body.update(state="closed", members=0, cashback=None, next=None, closes_at=None, seconds_left=0)
        return body
    settlement = state.settlement
    settled = state.settled  # paid out: closed whatever the clock says
    body.update(state="closed" if settled and settlement.state == "open" else settlement.state,
                members=settlement.size, cashback=state.cashback,
                next=({"buyers": settlement.next_tier_buyers, "cashback": state.next_cashback,
                       "missing": state.buyers_to_next} if state.buyers_to_next and settlement.state == "open"
                      and not settled else None),
                closes_at=settlement.closes_at.isoformat(),
                seconds_left=0 if settled else max(0, int((settlement.closes_at - now).total_seconds())))
    return body


def shop_public(shop) -> dict:
    """What anyone may know of a shop: name, site, language, tone, colour."""
    return {"id": shop.id, "name": shop.name, "url": shop.url, "locale": shop.locale, "tone": shop.tone,
            "colour": shop.brand.colour}


def thank_you(config, shop_id: str, order_id: str, now: datetime) -> dict:
    """What the buyer of an order sees after paying: their own share link and the group's state."""
    shop = config.shop(shop_id)
    for campaign in config.campaigns_of(shop_id):
        if campaign.type != "social_buying":
            continue
        founder = founder_of(campaign, order_id)
        if founder is None:
            continue
        group = GroupRow.get_or_none((GroupRow.campaign == campaign.id) & (GroupRow.founder_id == founder))
        if group is None:
            continue
        target = Target("group", campaign, group.code, group=group)
        body = link_state(config, target, now)
        tag = MemberTag.get_or_none((MemberTag.campaign == campaign.id) & (MemberTag.order_id == order_id))
        body["share_url"] = share_url(config.server.public_url, group.code, tag.tag if tag else None)
        state = state_of_group(campaign, founder, now)
        amount = state.amount_of(order_id) if state else None
        if group.settled_at is not None:  # once granted, what was granted (a later refund is a clawback)
            granted = Reward.get_or_none((Reward.campaign == campaign.id) & (Reward.order_id == order_id)
                                         & (Reward.kind == "group_cashback"))
            amount = granted.amount if granted is not None and granted.state == "granted" else None
        body["you"] = {"role": "founder" if founder == order_id else "member",
                       "amount": display_amount(amount, campaign.currency, shop.locale) if amount else None}
        return body
    return {"state": "none", "shop": shop_public(shop)}


def report_conversion(config, shop_id: str, order_id: str, key: str, code: str | None, now: datetime) -> dict:
    """Check an order with the shop (its key), record the code it came with, and return its thank-you view.

    The order is fetched from the shop's API whatever the webhooks did, so the page works at once.
    Raises ConnectorError (NotFound for a wrong key) for the caller to answer.
    """
    order = connector_for(config.shop(shop_id)).fetch_order_with_key(order_id, key)
    claims, referral_claims = [], []
    target = None
    if code:
        head, _, tag = code.partition(".")
        target = resolve(config, head)
    if target is not None and target.campaign.shop == shop_id:
        if target.kind == "group" and target.group.founder_id != order.id:
            tag = tag_of(target, tag)
            sponsor = MemberTag.get(MemberTag.tag == tag).order_id if tag else None
            claims.append(Claim(shop_id, order.id, target.group.founder_id, sponsor, "widget", now))
        elif target.kind == "advocate":
            referral_claims.append((shop_id, order.id, target.code, "widget", now))
    ingest(config, orders=[order], claims=claims, referral_claims=referral_claims, now=now)
    return thank_you(config, shop_id, order.id, now)


def clear_memos() -> None:
    """Forget the per-process memos (after a product changed in the shop, or between tests)."""
    for memo in (_misses, _salts, _founder_products, _products, _targets):
        memo.clear()
