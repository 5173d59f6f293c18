"""Classic referral: does a friend's order earn its referrer a reward, and how much, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bridge.config.model import ReferralCampaign
from bridge.rewards import conditions
from bridge.rewards.amounts import eligible_amount, round_half_up
from bridge.rewards.groups import BURST_SAME_LINK
from bridge.rewards.identity import is_disposable, normalise_email, self_referral_checks
from bridge.rewards.model import PAST, Check, Order, Override


@dataclass(frozen=True)
class Advocate:
    """A customer who refers friends: their code, their e-mail and their own orders (to tell people apart)."""

    code: str
    email: str | None
    orders: tuple[Order, ...] = ()


@dataclass(frozen=True)
class ReferralDecision:
    order_id: str
    state: str  # waiting | granted | refused
    due_at: datetime | None
    amount: Decimal
    checks: tuple[Check, ...]


def eligible_products(campaign: ReferralCampaign) -> frozenset[str] | None:
    """The products a friend's order must hold one of (None: any product)."""
    return None if campaign.eligible_products == "any" else frozenset(campaign.eligible_products)


def referrer_amount(campaign: ReferralCampaign, friend: Order) -> Decimal:
    """The referrer's reward for this friend's order: a fixed amount, or a share of what the friend paid
    for the eligible products (tax included, shipping never)."""
    reward = campaign.referrer_reward
    if reward.amount is not None:
        return reward.amount.amount
    paid = eligible_amount(friend, eligible_products(campaign), "paid_incl_tax")
    return round_half_up(paid * reward.percent, campaign.currency)


def referral_owed(campaign: ReferralCampaign, friend: Order, granted: Decimal) -> Decimal:
    """What a referrer owes back once the friend's order is refunded after the reward was granted.

    All of it when the order no longer counts or what is left of it is below the campaign's minimum;
    else the part of a share-of-the-order reward that the refunds took away (a fixed reward stays).
    """
    left = friend.total - friend.refunded
    if not friend.counts or (campaign.minimum_order is not None and left < campaign.minimum_order.amount):
        return granted
    return max(granted - referrer_amount(campaign, friend), Decimal(0))


# Refusals an admin may waive with `bridge override --allow`; payment, currency, caps, budget and the hold stay.
WAIVABLE = frozenset({"campaign_dates", "minimum_order", "new_customer", "self_referral_email",
                      "self_referral_customer", "self_referral_address", "self_referral_device",
                      "eligible_product"})


def decide_referral(campaign: ReferralCampaign, friend: Order, advocate: Advocate, ordered_before: bool,
                    earlier_rewards: list[datetime], now: datetime, override: Override | None = None,
                    budget_left: Decimal | None = None) -> ReferralDecision:
    """Decide the referrer's reward for one friend's order; `earlier_rewards` are the referrer's, by due time;
    `budget_left` what the campaign's budget still allows (None: no budget)."""
    checks = [conditions.paid(friend), conditions.currency(campaign, friend)]
    if friend.paid_at is None:
        return ReferralDecision(friend.id, "refused", None, Decimal(0), tuple(checks))
    checks += [conditions.in_dates(campaign, friend.paid_at)] + conditions.minimum_order(campaign, friend)
    products = eligible_products(campaign)
    if products is not None:
        held = any(line.product_id in products for line in friend.lines)
        checks.append(Check("eligible_product", held, "has an eligible product" if held else
                            "has none of the campaign's products (" + ", ".join(sorted(products)) + ")"))
    if campaign.new_customers_only:
        checks.append(Check("new_customer", not ordered_before, "a new customer" if not ordered_before
                            else "this e-mail had already ordered from the shop"))
    same_email = normalise_email(friend.email) is not None and normalise_email(friend.email) == normalise_email(advocate.email)
    checks.append(Check("self_referral_email", not same_email, "same e-mail as the referrer" if same_email else "a different e-mail"))
    for own in advocate.orders:
        failed = [c for c in self_referral_checks(friend, own) if not c.passed]
        if failed:
            checks.append(Check(failed[0].rule, False, failed[0].text.replace("the person who shared the link", "the referrer")))
            break
    due_at = friend.paid_at + campaign.hold
    checks += _cap_checks(campaign, due_at, earlier_rewards)
    if override is not None:
        checks.append(Check("admin_override", override.action == "allow", f"admin {PAST[override.action]}: {override.note}"))
    waived = WAIVABLE if override is not None and override.action == "allow" else frozenset()
    if not all(c.passed or c.rule in waived for c in checks):
        return ReferralDecision(friend.id, "refused", due_at, Decimal(0), tuple(checks))
    if now < due_at:
        return ReferralDecision(friend.id, "waiting", due_at, Decimal(0),
                                tuple(checks + [Check("hold", True, f"waiting for the hold to end at {due_at.isoformat()}")]))
    if not friend.counts:
        return ReferralDecision(friend.id, "refused", due_at, Decimal(0), tuple(
            checks + [Check("hold", False, "the order was cancelled or refunded before the hold ended")]))
    amount = referrer_amount(campaign, friend)
    checks.append(Check("hold", True, "the order stayed paid through the hold"))
    if budget_left is not None:
        fits = amount <= budget_left
        budget = Check("budget", fits, f"{budget_left} {campaign.currency} left of the campaign's budget"
                       + ("" if fits else f", less than the reward of {amount} {campaign.currency}"))
        if not fits:
            return ReferralDecision(friend.id, "refused", due_at, Decimal(0), tuple(checks + [budget]))
        checks.append(budget)
    return ReferralDecision(friend.id, "granted", due_at, amount, tuple(
        checks + [Check("reward", True, f"the referrer earns {amount} {campaign.currency}")]))


def _cap_checks(campaign: ReferralCampaign, due_at: datetime, earlier: list[datetime]) -> list[Check]:
    """Caps per referrer over the campaign and per period (counted over rewards due before this one)."""
    checks = []
    if campaign.max_rewards_per_referrer is not None:
        ok = len(earlier) < campaign.max_rewards_per_referrer
        checks.append(Check("cap_per_referrer", ok, f"{len(earlier)} earlier reward(s), cap {campaign.max_rewards_per_referrer}"))
    if campaign.max_rewards_per_period is not None:
        recent = [t for t in earlier if due_at - campaign.period < t <= due_at]
        ok = len(recent) < campaign.max_rewards_per_period
        checks.append(Check("cap_per_period", ok, f"{len(recent)} reward(s) in the period before, cap {campaign.max_rewards_per_period}"))
    return checks


def welcome_refusal(campaign: ReferralCampaign, advocate_email: str | None, friend_email: str | None,
                    already_customer: bool) -> tuple[str, str] | None:
    """Why a friend cannot have the welcome coupon, as (message, reason for the widget); None when they can.

    `friend_email` is the address as typed; `already_customer` says whether it has a paid order in the shop.
    """
    email = normalise_email(friend_email)
    if email is None:
        return f"not an e-mail address: {friend_email!r}", "bad_email"
    if email == normalise_email(advocate_email):
        return "the welcome coupon is for the friend, not for the person who shared the code", "own_code"
    if campaign.new_customers_only and already_customer:
        return "the welcome coupon is for new customers, and this e-mail has already ordered", "not_new"
    return None


def review_flags(friend: Order, orders_through_code_within_burst: int) -> str | None:
    """Why a referrer's reward should wait for an admin: a disposable e-mail, or a burst through one code."""
    flags = []
    if is_disposable(friend.email):
        flags.append("the friend's e-mail is from a disposable-mail provider")
    if orders_through_code_within_burst >= BURST_SAME_LINK:
        flags.append(f"{orders_through_code_within_burst} orders through this code within an hour")
    return "; ".join(flags) or None
