"""Plain-words explanations of decisions: why an order did or did not open, join or earn."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Iterator

from bridge.basics.money import format_amount
from bridge.config.model import Config
from bridge.connectors import connector_for
from bridge.connectors.errors import ConnectorError
from bridge.ledger.decisions import Facts, load_membership
from bridge.rewards.groups import group_outcome
from bridge.rewards.model import SOURCES
from bridge.rewards.payouts import group_reward_prefix, referral_reward_key
from bridge.storage.models import (
    ClaimFact,
    GroupRow,
    MembershipRow,
    OrderFact,
    Payout,
    ReferralClaim,
    ReferralDecisionRow,
    Reward,
)


def _mark(passed: bool) -> str:
    return "ok " if passed else "NO "


def explain_order(config: Config, shop_id: str, order_id: str) -> list[str]:
    """Describe every campaign's decision on one order, rule by rule."""
    row = OrderFact.get_or_none((OrderFact.shop == shop_id) & (OrderFact.order_id == order_id))
    if row is None:
        lead = purchase_of(config, shop_id, order_id)
        if lead is not None and lead != order_id:
            return [f"order {order_id} of shop {shop_id} is part of one purchase with order {lead} (a cart split"
                    " between carriers): bridge keeps it under that order"] + explain_order(config, shop_id, lead)
        return [f"order {order_id} of shop {shop_id} is unknown to bridge (not synced yet?)"]
    lines = [f"order {order_id} of shop {shop_id}: {format_amount(row.total, row.currency)}, "
             + ("paid" if row.paid else "not paid") + (", cancelled" if row.cancelled else "")
             + (f", refunded {format_amount(row.refunded, row.currency)}" if row.refunded else "")]
    for campaign in config.campaigns_of(shop_id):
        if campaign.type == "referral":
            lines += _explain_referral(campaign, order_id)
            continue
        decision = MembershipRow.get_or_none((MembershipRow.campaign == campaign.id) & (MembershipRow.order_id == order_id))
        if decision is None:
            lines.append(f"campaign {campaign.id}: not decided")
            continue
        membership = load_membership(decision)
        outcome = {"founder": "opened its own group", "member": f"joined group {membership.founder_id}"
                   f" (brought by order {membership.sponsor_id})", "none": "neither opened nor joined a group"}
        lines.append(f"campaign {campaign.id}: {outcome[membership.role]}")
        lines += attribution_lines([(c.source, f"group {c.founder_id}") for c in ClaimFact.select().where(
            (ClaimFact.shop == shop_id) & (ClaimFact.order_id == order_id))])
        lines += [f"  {_mark(c.passed)} {c.rule}: {c.text}" for c in membership.checks]
        lines += [f"  FLAG {f.rule}: {f.text} (held for review)" for f in membership.flags]
        for reward in Reward.select().where((Reward.campaign == campaign.id) & (Reward.order_id == order_id)):
            lines.append(f"  reward {format_amount(reward.amount, reward.currency)}: {reward.reason}")
            for payout in reward.payouts:
                lines.append(f"  payout by {payout.method}: {format_amount(payout.amount, payout.currency)}, {payout.state}"
                             + (f" ({format_amount(payout.deducted, payout.currency)} deducted for earlier clawbacks)"
                                if payout.deducted else "")
                             + (f"; review: {payout.review}" if payout.review else ""))
            for clawback in reward.clawbacks:
                lines.append(f"  clawback {format_amount(clawback.amount, clawback.currency)}: {clawback.state}")
    return lines


# What each attribution key is, in words (the engine ranks them in this order: rewards.model.SOURCES).
KEYS = {"coupon": "a code bridge gave out, used as a coupon at the shop's checkout",
        "widget": "the thank-you page reported the link kept in the buyer's browser",
        "meta": "the referral code the shop stored on the order"}


def attribution_lines(claims: list[tuple[str, str]]) -> list[str]:
    """Which key attributed the order (the strongest present) and which others were there but weaker."""
    if not claims:
        return ["  attribution: none (no coupon, no report from the thank-you page, nothing on the order)"]
    ranked = sorted(set(claims), key=lambda c: (SOURCES.index(c[0]) if c[0] in SOURCES else len(SOURCES), c[1]))
    source, target = ranked[0]
    lines = [f"  attributed by {source} to {target}: {KEYS.get(source, source)}"]
    lines += [f"  also present, weaker: {s} to {t}: {KEYS.get(s, s)}" for s, t in ranked[1:]]
    return lines


def purchase_of(config: Config, shop_id: str, order_id: str) -> str | None:
    """The order id bridge keeps a shop order under (PrestaShop's split carts: the lowest); None if unknown."""
    try:
        return connector_for(config.shop(shop_id)).fetch_order(order_id).id
    except (ConnectorError, LookupError, NotImplementedError, ValueError):
        return None


def _explain_referral(campaign, order_id: str) -> list[str]:
    """Describe the referral decision on a friend's order, and any reward it earned."""
    decision = ReferralDecisionRow.get_or_none((ReferralDecisionRow.campaign == campaign.id)
                                               & (ReferralDecisionRow.order_id == order_id))
    if decision is None:
        return [f"campaign {campaign.id}: no referral code was used for this order (or not decided yet)"]
    lines = [f"campaign {campaign.id}: referred with code {decision.code}, {decision.state}"]
    lines += attribution_lines([(c.source, f"code {c.code}") for c in ReferralClaim.select().where(
        (ReferralClaim.shop == campaign.shop) & (ReferralClaim.order_id == order_id))])
    lines += [f"  {_mark(passed)} {rule}: {text}" for rule, passed, text in json.loads(decision.checks)]
    reward = Reward.get_or_none(Reward.key == referral_reward_key(campaign.id, order_id))
    if reward is not None:
        lines.append(f"  the referrer ({reward.email_norm}) was granted {format_amount(reward.amount, reward.currency)}")
    return lines


def explain_group(config: Config, code: str, now: datetime) -> list[str]:
    """Describe a group: its window, size, tier and each member's amount with the reason."""
    group = GroupRow.get_or_none(GroupRow.code == code)
    if group is None:
        return [f"no group with code {code}"]
    campaign = next(c for c in config.campaigns if c.id == group.campaign)
    facts = Facts(campaign)
    view = facts.view(group.founder_id)
    lines = [f"group {code} of campaign {campaign.id}, founded by order {group.founder_id}",
             f"  open from {group.opened_at.isoformat()} to {group.closes_at.isoformat()}, payable from {group.due_at.isoformat()}"]
    if view is None:
        return lines + ["  void: its founding order later turned out to belong to another group"]
    outcome = group_outcome(campaign, view.founder, view.members, now)
    tier = (f"{outcome.tier_buyers}-buyer tier" if outcome.tier_buyers else "below the first tier")
    lines.append(f"  {outcome.state}: {outcome.size} buyer(s), {tier}"
                 + (f", next tier at {outcome.next_tier_buyers}" if outcome.next_tier_buyers else ", top tier"))
    if group.settled_at:
        rate = f"rate {(group.rate * 100).normalize():f}%" if group.rate is not None else "no rate"
        lines.append(f"  settled at {group.settled_at.isoformat()}: {group.size} buyer(s), {rate}")
    granted = {r.order_id: r for r in Reward.select().where(
        (Reward.campaign == campaign.id) & (Reward.kind == "group_cashback")
        & Reward.key.startswith(group_reward_prefix(campaign.id, group.founder_id)))} if group.settled_at else {}
    for member in outcome.members:
        decision = facts.decided[member.order_id]
        via = "" if decision.role == "founder" else f", brought by {decision.sponsor_id}"
        reward = granted.get(member.order_id)
        if group.settled_at:  # what was granted is the fact; a later refund is a clawback, not a new amount
            line = (f"  order {member.order_id}{via}: granted {format_amount(reward.amount, reward.currency)}"
                    f" ({reward.reason})" + ("" if reward.state == "granted" else f", {reward.state}")
                    if reward is not None else f"  order {member.order_id}{via}: nothing granted ({member.reason})")
            lines.append(line)
            for clawback in reward.clawbacks if reward is not None else ():
                lines.append(f"    clawback {format_amount(clawback.amount, clawback.currency)}: {clawback.state}")
            continue
        lines.append(f"  order {member.order_id}{via}: {format_amount(member.amount, campaign.currency)} ({member.reason})")
        for _, _, text in json.loads(decision.flags):
            lines.append(f"    FLAG {text}")
    return lines + [f"  note: {n}" for n in outcome.notes]


def payout_rows(state: str | None = None) -> Iterator[Payout]:
    """Payouts, newest first, optionally of one state."""
    query = Payout.select().order_by(Payout.created_at.desc(), Payout.id.desc())
    return query.where(Payout.state == state) if state else query
