"""Builders for engine tests: campaigns, orders and claims with sensible defaults."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from bridge.basics.money import Money
from bridge.config.model import Cashback, SocialBuyingCampaign, Tier
from bridge.rewards.model import Claim, Line, Order

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc)


def campaign(**changes) -> SocialBuyingCampaign:
    base = SocialBuyingCampaign(
        id="c", shop="s", currency="EUR", name="c", starts=None, ends=None, window=timedelta(hours=48),
        hold=timedelta(days=14), eligible_products="any", minimum_order=None, eligible_base="paid_incl_tax",
        tiers=(Tier(2, Cashback("percent", Decimal("0.05"))), Tier(3, Cashback("percent", Decimal("0.08"))),
               Tier(5, Cashback("percent", Decimal("0.12")))),
        member_cap=None, budget=None, payout="refund", approval="automatic", clawback="deduct",
        attribution_window=timedelta(days=30))
    return replace(base, **changes)


def money(amount, currency="EUR"):
    return Money.of(amount, currency)


def order(oid, minutes=0, total="100.00", product="p1", email=None, **changes) -> Order:
    """A paid order `minutes` after T0, one line (tax 20% included in total), shipping none."""
    total_d = Decimal(total)
    tax = (total_d / 6).quantize(Decimal("0.01"))
    base = Order(shop="s", id=str(oid), currency="EUR", paid=True, paid_at=T0 + timedelta(minutes=minutes),
                 created_at=T0 + timedelta(minutes=minutes), total=total_d,
                 lines=(Line(product, 1, total_d - tax, tax),), customer_id=f"cust{oid}",
                 email=email or f"buyer{oid}@example.com", billing_address=f"{oid} rue de la Paix, Paris",
                 ip=f"10.0.0.{oid}" if str(oid).isdigit() else "10.0.0.1", user_agent="Mobile Safari")
    return replace(base, **changes)


def claim(order_id, founder_id, sponsor_id=None, source="widget", minutes=0) -> Claim:
    return Claim("s", str(order_id), str(founder_id), None if sponsor_id is None else str(sponsor_id), source,
                 T0 + timedelta(minutes=minutes))
