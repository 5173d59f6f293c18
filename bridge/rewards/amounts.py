"""Money rules: eligible amounts, tier choice, rounding to the minor unit, caps and budgets."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from bridge.basics.money import quantum
from bridge.config.model import SocialBuyingCampaign, Tier
from bridge.rewards.model import Order

ZERO = Decimal(0)


def eligible_products(campaign: SocialBuyingCampaign, founder: Order) -> frozenset[str] | None:
    """Return the product ids a group rewards (None: any product)."""
    if campaign.eligible_products == "any":
        return None
    if campaign.eligible_products == "same":
        return frozenset(line.product_id for line in founder.lines)
    return frozenset(campaign.eligible_products)


def has_eligible_line(order: Order, products: frozenset[str] | None) -> bool:
    """Tell whether at least one line of the order is for an eligible product."""
    return products is None or any(line.product_id in products for line in order.lines)


def eligible_amount(order: Order, products: frozenset[str] | None, base: str) -> Decimal:
    """Paid amount of the eligible lines (tax per `base`, shipping never), less what refunds took back.

    A refund that names its lines lowers the eligible amount by those lines only; a shipping refund
    lowers nothing; only an unspecified amount is spread pro rata over what was left of the order.
    """
    def value(line) -> Decimal:
        return line.total + (line.tax if base == "paid_incl_tax" else ZERO)

    def eligible(line) -> bool:
        return products is None or line.product_id in products

    gross = sum((value(line) for line in order.lines if eligible(line)), ZERO)
    back = sum((value(line) for line in order.refunded_lines if eligible(line)), ZERO)
    specified = sum((line.total + line.tax for line in order.refunded_lines), ZERO) + order.refunded_shipping
    unspecified = max(order.refunded - specified, ZERO)
    remaining = order.total - specified
    kept = max(remaining - unspecified, ZERO) / remaining if unspecified > 0 and remaining > 0 else Decimal(1)
    if unspecified > 0 and remaining <= 0:
        kept = ZERO
    return max((gross - back) * kept, ZERO)


def tier_for(tiers: tuple[Tier, ...], size: int) -> Tier | None:
    """Return the highest tier the group's size reaches (None below the first tier)."""
    reached = [tier for tier in tiers if tier.buyers <= size]
    return reached[-1] if reached else None


def next_tier(tiers: tuple[Tier, ...], size: int) -> Tier | None:
    """Return the first tier above the group's size (None at the top)."""
    return next((tier for tier in tiers if tier.buyers > size), None)


def round_half_up(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up (0.005 EUR -> 0.01)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def round_down(amount: Decimal, currency: str) -> Decimal:
    """Round towards zero to the minor unit (used when shrinking to fit a budget)."""
    return amount.quantize(quantum(currency), rounding=ROUND_DOWN)


def capped(amount: Decimal, cap: Decimal | None) -> Decimal:
    """Apply a per-member cap."""
    return amount if cap is None else min(amount, cap)


def fit_budget(amounts: list[Decimal], budget_left: Decimal | None, currency: str) -> tuple[list[Decimal], Decimal]:
    """Scale amounts by one factor (rounded down) so their sum fits the budget; return them and the factor."""
    total = sum(amounts, ZERO)
    if budget_left is None or total <= budget_left:
        return amounts, Decimal(1)
    factor = max(budget_left, ZERO) / total if total else ZERO
    return [round_down(a * factor, currency) for a in amounts], factor


@dataclass(frozen=True)
class TierWords:
    """A group of some size in words: its cashback, the next tier's, and how many buyers that takes."""

    size: int
    cashback: str | None  # "10%", "5,00 €"; None below the first tier
    next_cashback: str | None  # None at the top tier
    buyers_to_next: int | None


def tier_words(tiers: tuple[Tier, ...], size: int, currency: str) -> TierWords:
    """Say where a group of `size` buyers stands among the tiers, as people read it."""
    tier, upcoming = tier_for(tiers, size), next_tier(tiers, size)
    return TierWords(size, tier.cashback.describe(currency) if tier else None,
                     upcoming.cashback.describe(currency) if upcoming else None,
                     upcoming.buyers - size if upcoming else None)


def amount_at_rate(campaign: SocialBuyingCampaign, member: Order, founder: Order, rate: Decimal | None,
                   granted: Decimal) -> Decimal:
    """What a member would be granted now at the group's settled rate, never more than `granted`.

    The difference is what a refund after settlement claws back; a fixed tier (no rate) keeps its amount.
    """
    if not member.counts:
        return Decimal(0)
    if rate is None:
        return granted
    amount = round_half_up(eligible_amount(member, eligible_products(campaign, founder), campaign.eligible_base) * rate,
                           campaign.currency)
    return min(granted, capped(amount, campaign.member_cap.amount if campaign.member_cap else None))
