"""The coupon key: a code used at the shop's checkout that bridge gave out is a claim on its own.

It holds wherever and whenever the order was placed (another device, a closed tab, a blocked script):
a group's share code used as a coupon claims that group; a welcome coupon, or an advocate's own code,
claims a referral for the advocate. The engine ranks coupon claims above the widget's report.
"""

from __future__ import annotations

from typing import Iterable

from bridge.config.model import Config
from bridge.rewards.model import Claim, Order
from bridge.storage.bulk import chunks
from bridge.storage.models import Advocate, GroupRow, WelcomeCoupon


def coupon_claims(config: Config, orders: Iterable[Order]) -> tuple[list[Claim], list[tuple]]:
    """The group claims and the referral claims (shop, order, advocate code, "coupon", at) of these orders' codes."""
    used: dict[str, list[Order]] = {}
    for order in orders:
        for code in order.coupons:
            used.setdefault(code, []).append(order)
    groups, referrals = [], []
    if not used:
        return groups, referrals
    shop_of = {c.id: c.shop for c in config.campaigns}
    for part in chunks(sorted(used)):
        for row in GroupRow.select(GroupRow.shop, GroupRow.founder_id, GroupRow.code).where(GroupRow.code.in_(part)):
            groups += [Claim(o.shop, o.id, row.founder_id, None, "coupon", o.created_at) for o in used[row.code]
                       if o.shop == row.shop and o.id != row.founder_id]
        tied = [(w.campaign, w.coupon_code, w.advocate_code) for w in WelcomeCoupon.select(
            WelcomeCoupon.campaign, WelcomeCoupon.coupon_code, WelcomeCoupon.advocate_code).where(
            WelcomeCoupon.coupon_code.in_(part))]
        tied += [(a.campaign, a.code, a.code) for a in Advocate.select(Advocate.campaign, Advocate.code).where(
            Advocate.code.in_(part))]
        for campaign, code, advocate in tied:
            referrals += [(o.shop, o.id, advocate, "coupon", o.created_at) for o in used[code]
                          if shop_of.get(campaign) == o.shop]
    return groups, referrals
