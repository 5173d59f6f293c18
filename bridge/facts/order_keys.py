"""The keys an order carries itself: the coupon codes used on it, and the share code the shop stored on it.

Both hold wherever and whenever the order was placed (another device, a closed tab, a blocked script).
A group's share code claims that group (a stored `CODE.TAG` names the member who shared it too); a
welcome coupon, or an advocate's own code, claims a referral for the advocate. The engine ranks them
coupon > widget report > order meta; the widget's report is read through `code_claims` as well.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, NamedTuple

from bridge.config.model import Config
from bridge.ledger.decisions import sponsor_of
from bridge.rewards.model import Claim, Order
from bridge.storage.bulk import chunks
from bridge.storage.models import Advocate, GroupRow, WelcomeCoupon


class Use(NamedTuple):
    """One order that came with one code: by which key, the member's tag if any, and when."""

    order: Order
    source: str  # coupon | widget | meta
    tag: str | None
    at: datetime


def carried_claims(config: Config, orders: Iterable[Order]) -> tuple[list[Claim], list[tuple]]:
    """The group claims and referral claims of the codes these orders carry (coupons, the stored code)."""
    uses: dict[str, list[Use]] = {}
    for order in orders:
        for code in order.coupons:
            uses.setdefault(code, []).append(Use(order, "coupon", None, order.created_at))
        if order.stored_code:
            head, _, tag = order.stored_code.upper().partition(".")
            uses.setdefault(head, []).append(Use(order, "meta", tag or None, order.created_at))
    return code_claims(config, uses)


def code_claims(config: Config, uses: dict[str, list[Use]]) -> tuple[list[Claim], list[tuple]]:
    """Group claims, and referral claims as (shop, order, advocate code, source, at), of codes by their uses."""
    groups: list[Claim] = []
    referrals: list[tuple] = []
    campaigns = {c.id: c for c in config.campaigns}
    for part in chunks(sorted(uses)):
        for row in GroupRow.select(GroupRow.campaign, GroupRow.shop, GroupRow.founder_id, GroupRow.code).where(
                GroupRow.code.in_(part)):
            campaign = campaigns.get(row.campaign)
            groups += [Claim(u.order.shop, u.order.id, row.founder_id, sponsor_of(campaign, row.founder_id, u.tag),
                             u.source, u.at) for u in uses[row.code]
                       if campaign is not None and u.order.shop == row.shop and u.order.id != row.founder_id]
        tied = [(w.campaign, w.coupon_code, w.advocate_code) for w in WelcomeCoupon.select(
            WelcomeCoupon.campaign, WelcomeCoupon.coupon_code, WelcomeCoupon.advocate_code).where(
            WelcomeCoupon.coupon_code.in_(part))]
        tied += [(a.campaign, a.code, a.code) for a in Advocate.select(Advocate.campaign, Advocate.code).where(
            Advocate.code.in_(part))]
        for campaign_id, code, advocate in tied:
            shop = campaigns[campaign_id].shop if campaign_id in campaigns else None
            referrals += [(u.order.shop, u.order.id, advocate, u.source, u.at) for u in uses[code]
                          if u.order.shop == shop]
    return groups, referrals
