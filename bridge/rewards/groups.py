"""Social buying: which order founds or joins which group, and what each member earns.

Both steps are functions of the facts (current order snapshots, claims, overrides) and `now`, so
webhooks that arrive twice, late or out of order lead to the same groups and the same amounts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from bridge.config.model import SocialBuyingCampaign, Tier
from bridge.rewards import amounts as am
from bridge.rewards import conditions
from bridge.rewards.identity import is_disposable, self_referral_checks
from bridge.rewards.model import (
    PAST,
    Check,
    Claim,
    GroupOutcome,
    MemberAmount,
    Membership,
    Order,
    Override,
)

# Refusals to join an admin may waive with `bridge override --allow`: who the buyer is (self-referral,
# already a member). The link, the group being open, its currency and its products stay.
JOIN_WAIVABLE = frozenset({"self_referral_email", "self_referral_customer", "self_referral_address",
                           "self_referral_device", "already_member", "admin_override"})
BURST_WINDOW = timedelta(hours=1)
BURST_SAME_IP = 3  # joins from one IP address within an hour, in one group
BURST_SAME_LINK = 10  # joins through one link within an hour


def best_claims(claims: list[Claim]) -> dict[str, Claim]:
    """Keep, for each order, the strongest claim (coupon > widget > meta, then earliest)."""
    best: dict[str, Claim] = {}
    for claim in claims:
        if claim.order_id not in best or claim.strength() < best[claim.order_id].strength():
            best[claim.order_id] = claim
    return best


@dataclass
class FormingGroup:
    """What deciding one order needs to know of a group: its founder and the members before that order."""

    founder: Order
    products: frozenset[str] | None
    closes_at: datetime
    members: list[Order] = field(default_factory=list)  # founder first, then earlier members


def forming_group(campaign: SocialBuyingCampaign, founder: Order) -> FormingGroup:
    """Build the view of the group an order founds."""
    return FormingGroup(founder, am.eligible_products(campaign, founder), founder.paid_at + campaign.window, [founder])


def decide_order(campaign: SocialBuyingCampaign, order: Order, claim: Claim | None,
                 group: FormingGroup | None, override: Override | None = None) -> Membership:
    """Decide one paid order: join the claimed group (seen as it was before this order), found one, or neither."""
    checks = conditions.order_conditions(campaign, order)
    if order.paid_at is None:
        return Membership(order.id, "none", None, None, tuple(checks))
    refused: list[Check] = []
    if claim is not None and all(c.passed for c in checks):
        joined, refused = _try_join(order, claim, group, checks, override)
        if joined:
            return joined
    products = am.eligible_products(campaign, order)
    has_product = am.has_eligible_line(order, products)
    founding = checks + [conditions.in_dates(campaign, order.paid_at), Check(
        "eligible_product", has_product, "has an eligible product" if has_product else "has no eligible product")]
    if all(c.passed for c in founding):
        founding.append(Check("founds_group", True, f"opens a group until {(order.paid_at + campaign.window).isoformat()}"))
        return Membership(order.id, "founder", order.id, None, tuple(refused + founding))
    return Membership(order.id, "none", None, None, tuple(refused + founding))


def decision_order(order: Order) -> tuple:
    """The order in which orders are decided: by payment time, then id."""
    return (order.paid_at, order.id)


def assign_orders(campaign: SocialBuyingCampaign, orders: list[Order], claims: list[Claim],
                  overrides: list[Override] = ()) -> dict[str, Membership]:
    """Decide, for every order of the campaign's shop, whether it founds a group, joins one, or neither."""
    latest = {o.id: o for o in orders if o.shop == campaign.shop}
    best = best_claims([c for c in claims if c.shop == campaign.shop])
    decided = {o.order_id: o for o in overrides if o.shop == campaign.shop}
    groups: dict[str, FormingGroup] = {}
    result: dict[str, Membership] = {}
    for order in [o for o in latest.values() if o.paid_at is None]:
        result[order.id] = decide_order(campaign, order, None, None)
    for order in sorted((o for o in latest.values() if o.paid_at is not None), key=decision_order):
        claim = best.get(order.id)
        membership = decide_order(campaign, order, claim, groups.get(claim.founder_id) if claim else None,
                                  decided.get(order.id))
        if membership.role == "founder":
            groups[order.id] = forming_group(campaign, order)
        elif membership.role == "member":
            groups[membership.founder_id].members.append(order)
        result[order.id] = membership
    flags = group_flags({fid: g.members for fid, g in groups.items()}, latest)
    return {oid: replace(m, flags=flags[oid]) if oid in flags else m for oid, m in result.items()}


def _try_join(order: Order, claim: Claim, group: FormingGroup | None, checks: list[Check],
              override: Override | None) -> tuple[Membership | None, list[Check]]:
    """Join the claimed group if every join rule passes (or an admin allowed it); else return why not."""
    attribution = Check("attributed", True, f"came through group {claim.founder_id}'s link ({claim.source})")
    if group is None:
        return None, [attribution, Check("group_exists", False,
                                         f"the link's group ({claim.founder_id}) is not one of this campaign's: never opened"
                                         " in it, or opened after this order")]
    join = [attribution, Check("group_open", order.paid_at < group.closes_at,
                               f"paid before the group closed at {group.closes_at.isoformat()}"
                               if order.paid_at < group.closes_at
                               else f"paid after the group closed at {group.closes_at.isoformat()}")]
    join.append(Check("currency_of_group", order.currency == group.founder.currency,
                      f"same currency as the group ({order.currency})" if order.currency == group.founder.currency
                      else f"in {order.currency}, the group is in {group.founder.currency}"))
    has_product = am.has_eligible_line(order, group.products)
    join.append(Check("eligible_product", has_product,
                      "has a product the group rewards" if has_product else "has none of the group's products"))
    member_ids = {m.id for m in group.members}
    sponsor_id = claim.sponsor_id if claim.sponsor_id in member_ids else group.founder.id
    sponsor = next(m for m in group.members if m.id == sponsor_id)
    join += [c for c in self_referral_checks(order, sponsor)]
    for member in group.members:
        if member.id != sponsor_id and not all(c.passed for c in self_referral_checks(order, member)):
            join.append(Check("already_member", False, f"the same person already belongs to this group (order {member.id})"))
            break
    if override is not None:
        join.append(Check("admin_override", override.action == "allow", f"admin {PAST[override.action]}: {override.note}"))
        allowed = override.action == "allow" and all(c.passed or c.rule in JOIN_WAIVABLE for c in join)
    else:
        allowed = all(c.passed for c in join)
    if not allowed:
        return None, join
    return Membership(order.id, "member", group.founder.id, sponsor_id, tuple(
        checks + join + [Check("joins_group", True, f"joins group {group.founder.id}, brought by {sponsor_id}")])), join


def group_flags(groups: dict[str, list[Order]], orders: dict[str, Order]) -> dict[str, tuple[Check, ...]]:
    """Review flags per order: disposable e-mails, bursts from one IP, bursts through one link."""
    flagged: dict[str, list[Check]] = defaultdict(list)
    for members in groups.values():
        for member in members:
            if is_disposable(member.email):
                flagged[member.id].append(Check("disposable_email", False, "the e-mail is from a disposable-mail provider"))
        joins = members[1:]
        for member in joins:
            near = [m for m in joins if abs(m.paid_at - member.paid_at) <= BURST_WINDOW]
            if member.ip and sum(1 for m in near if m.ip == member.ip) >= BURST_SAME_IP:
                flagged[member.id].append(Check("burst_ip", False, f"{BURST_SAME_IP} or more joins from one IP within an hour"))
            if len(near) >= BURST_SAME_LINK:
                flagged[member.id].append(Check("burst_link", False, f"{BURST_SAME_LINK} or more joins through one link within an hour"))
    return {oid: tuple(checks) for oid, checks in flagged.items()}


def group_outcome(campaign: SocialBuyingCampaign, founder: Order, members: list[Order], now: datetime,
                 budget_left: Decimal | None = None) -> GroupOutcome:
    """Compute a group's state, tier and every member's amount at `now` (members include the founder)."""
    closes_at, due_at, state = group_phase(campaign, founder.paid_at, now)
    products = am.eligible_products(campaign, founder)
    counted = [m for m in members if m.counts]
    tier = am.tier_for(campaign.tiers, len(counted))
    upcoming = am.next_tier(campaign.tiers, len(counted))
    cap = campaign.member_cap.amount if campaign.member_cap else None
    raw, reasons, bases = [], [], []
    for member in members:
        bases.append(am.eligible_amount(member, products, campaign.eligible_base) if member.counts else am.ZERO)
        raw.append(member_amount(campaign, tier, bases[-1], cap) if member.counts else am.ZERO)
        if not member.counts:
            reasons.append("left the group: order " + ("cancelled" if member.cancelled else
                                                       "fully refunded" if member.fully_refunded else "no longer paid"))
        elif tier is None:
            reasons.append(f"the group has {len(counted)} buyer(s), below the first tier ({campaign.tiers[0].buyers})")
        elif tier.cashback.kind == "percent":
            reasons.append(f"{tier.cashback.describe(campaign.currency)} of {am.round_half_up(bases[-1], campaign.currency)}")
        else:
            reasons.append(f"fixed {tier.cashback.describe(campaign.currency)}")
    fitted, factor = am.fit_budget(raw, budget_left, campaign.currency)
    notes = () if factor == 1 else (f"scaled by {factor:.4f} to fit the campaign budget",)
    rows = tuple(MemberAmount(m.id, m.counts, base, amount,
                              reason + (f", capped at {campaign.member_cap}" if cap is not None and raw_amount == cap else ""))
                 for m, base, amount, raw_amount, reason in zip(members, bases, fitted, raw, reasons))
    percent = tier is not None and tier.cashback.kind == "percent"
    return GroupOutcome(
        founder_id=founder.id, currency=campaign.currency, opened_at=founder.paid_at, closes_at=closes_at, due_at=due_at,
        state=state, size=len(counted), rate=(tier.cashback.value * factor if percent else None),
        fixed=(tier.cashback.value if tier is not None and not percent else None),
        tier_buyers=tier.buyers if tier else None, next_tier_buyers=upcoming.buyers if upcoming else None,
        members=rows, notes=notes)


def member_amount(campaign: SocialBuyingCampaign, tier: Tier | None, base: Decimal, cap: Decimal | None) -> Decimal:
    """A counted member's amount at a tier, before any budget: the rate of its base rounded half up, or the fixed sum; capped."""
    if tier is None:
        return am.ZERO
    if tier.cashback.kind == "percent":
        return am.capped(am.round_half_up(base * tier.cashback.value, campaign.currency), cap)
    return am.capped(tier.cashback.value, cap)


def figures_as_joined(campaign: SocialBuyingCampaign, members: list[Order],
                      joiners: set[str]) -> dict[str, tuple[int, dict[str, Decimal]]]:
    """For each joiner, the group's size and each counted member's amount the moment it joined.

    `members` are the group's orders, founder first then in joining order. The figures are those
    group_outcome states for the members up to the joiner with no budget limit, without its reasons:
    the "a friend joined" e-mails of a batch need one such snapshot per join, and this walks the
    group once, working out each member's base once.
    """
    products = am.eligible_products(campaign, members[0])
    cap = campaign.member_cap.amount if campaign.member_cap else None
    bases: list[tuple[str, Decimal]] = []
    out = {}
    for member in members:
        if member.counts:
            bases.append((member.id, am.eligible_amount(member, products, campaign.eligible_base)))
        if member.id in joiners:
            tier = am.tier_for(campaign.tiers, len(bases))
            out[member.id] = (len(bases), {i: member_amount(campaign, tier, base, cap) for i, base in bases})
    return out


def group_phase(campaign: SocialBuyingCampaign, opened_at: datetime, now: datetime) -> tuple[datetime, datetime, str]:
    """When a group opened at `opened_at` closes, when its rewards are due, and its state now: open, closed or due."""
    closes_at = opened_at + campaign.window
    due_at = closes_at + campaign.hold
    return closes_at, due_at, "open" if now < closes_at else ("closed" if now < due_at else "due")


def group_members(memberships: dict[str, Membership], orders: dict[str, Order]) -> dict[str, list[Order]]:
    """Collect each group's orders, founder first then members in joining order."""
    out: dict[str, list[Order]] = defaultdict(list)
    for membership in memberships.values():
        if membership.role == "founder":
            out[membership.order_id].insert(0, orders[membership.order_id])
    for membership in sorted((m for m in memberships.values() if m.role == "member"),
                             key=lambda m: (orders[m.order_id].paid_at, m.order_id)):
        out[membership.founder_id].append(orders[membership.order_id])
    return dict(out)
