"""The conditions both kinds of campaign put on an order, each a Check with its reason in words.

Paid, in the campaign's currency, at least the minimum, within the campaign's dates: written once,
here, so that social buying and referral can never disagree on what they mean.
"""

from __future__ import annotations

from datetime import datetime

from bridge.config.model import Campaign
from bridge.rewards.model import Check, Order


def paid_text(order: Order) -> str:
    """When the order was paid, and where that instant comes from."""
    if order.paid_at is None:
        return "never paid"
    if order.paid_at_source == "first_seen":
        return f"no payment date from the shop: first seen paid at {order.paid_at.isoformat()}"
    return f"paid at {order.paid_at.isoformat()}"


def paid(order: Order) -> Check:
    """The order has been paid (the instant it first was is a fact)."""
    return Check("paid", order.paid_at is not None, paid_text(order))


def currency(campaign: Campaign, order: Order) -> Check:
    """The order is in the currency the campaign pays in."""
    same = order.currency == campaign.currency
    return Check("currency", same, f"in {order.currency}" + ("" if same else f", but the campaign pays in "
                                                                         f"{campaign.currency}"))


def minimum_order(campaign: Campaign, order: Order) -> list[Check]:
    """The order's total reaches the campaign's minimum (no check when the campaign has none)."""
    if campaign.minimum_order is None:
        return []
    ok = order.total >= campaign.minimum_order.amount
    return [Check("minimum_order", ok, f"order total {order.total} {order.currency} "
                  + ("reaches" if ok else "is below") + f" the minimum of {campaign.minimum_order}")]


def in_dates(campaign: Campaign, instant: datetime) -> Check:
    """The instant's day lies within the campaign's first and last days (either may be open)."""
    day = instant.date()
    ok = (campaign.starts is None or day >= campaign.starts) and (campaign.ends is None or day <= campaign.ends)
    return Check("campaign_dates", ok, "within the campaign's dates" if ok else
                 f"outside the campaign's dates ({campaign.starts or '…'} to {campaign.ends or '…'})")


def order_conditions(campaign: Campaign, order: Order) -> list[Check]:
    """Paid, currency and minimum: what every order goes through before anything else."""
    return [paid(order), currency(campaign, order)] + minimum_order(campaign, order)
