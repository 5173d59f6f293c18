"""One person of a shop, by normalised e-mail: their orders and groups, who they brought (as a tree across
groups and campaigns), their rewards, payouts, clawbacks and flags, and their referral code."""

from __future__ import annotations

import json
from collections import defaultdict

from bridge.config.model import Config
from bridge.rewards.identity import normalise_email
from bridge.storage.bulk import chunks
from bridge.storage.models import (
    Advocate,
    Clawback,
    GroupRow,
    MembershipRow,
    OrderFact,
    Payout,
    ReferralDecisionRow,
    Reward,
)

DEPTH = 4  # levels of "brought by" shown under a person
WIDTH = 50  # friends shown per person


def person_view(config: Config, shop_id: str, email: str) -> dict | None:
    """Everything the person page shows; None when the shop has no order from this e-mail."""
    email = normalise_email(email)
    if email is None:
        return None
    campaigns = [c.id for c in config.campaigns_of(shop_id)]
    orders = list(OrderFact.select(OrderFact.order_id, OrderFact.paid_at, OrderFact.total, OrderFact.refunded,
                                   OrderFact.currency, OrderFact.email).where(
        (OrderFact.shop == shop_id) & (OrderFact.email_norm == email)).order_by(OrderFact.paid_at))
    if not orders:
        return None
    ids = [o.order_id for o in orders]
    memberships = _memberships(campaigns, ids)
    groups = {(g.campaign, g.founder_id): g for g in GroupRow.select().where(
        (GroupRow.shop == shop_id) & GroupRow.founder_id.in_(ids) & GroupRow.campaign.in_(campaigns or [""]))}
    rewards = list(Reward.select().where((Reward.shop == shop_id) & (Reward.email_norm == email)).order_by(Reward.id))
    payouts = {p.reward_id: p for p in Payout.select().where(Payout.reward.in_([r.id for r in rewards] or [0]))}
    clawbacks = list(Clawback.select().where((Clawback.shop == shop_id) & (Clawback.email_norm == email)))
    advocates = list(Advocate.select().where(Advocate.campaign.in_(campaigns or [""]) & (Advocate.email_norm == email)))
    referred = list(ReferralDecisionRow.select().where(ReferralDecisionRow.code.in_([a.code for a in advocates] or [""])))
    return dict(
        email=orders[-1].email or email, email_norm=email,
        orders=[dict(order=o.order_id, paid_at=o.paid_at, total=o.total, refunded=o.refunded, currency=o.currency,
                     decisions=[dict(campaign=m.campaign, role=m.role, group=m.founder_id, brought_by=m.sponsor_id,
                                     flags=[text for _, _, text in json.loads(m.flags)])
                                for m in memberships.get(o.order_id, [])]) for o in orders],
        groups=[dict(campaign=c, founder=f, code=g.code, size=g.size, settled=g.settled_at is not None, rate=g.rate)
                for (c, f), g in sorted(groups.items())],
        tree=brought_tree(shop_id, campaigns, email, DEPTH),
        rewards=[dict(key=r.key, campaign=r.campaign, order=r.order_id, kind=r.kind, amount=r.amount, currency=r.currency,
                      state=r.state, reason=r.reason, payout=payouts[r.id].state if r.id in payouts else None,
                      payout_key=payouts[r.id].key if r.id in payouts else None) for r in rewards],
        clawbacks=[dict(key=c.key, amount=c.amount, recovered=c.recovered, currency=c.currency, state=c.state)
                   for c in clawbacks],
        referral=[dict(campaign=a.campaign, code=a.code, friends=sum(1 for r in referred if r.code == a.code),
                       granted=sum(1 for r in referred if r.code == a.code and r.state == "granted")) for a in advocates])


def _memberships(campaigns: list[str], ids: list[str]) -> dict[str, list[MembershipRow]]:
    found: dict[str, list[MembershipRow]] = defaultdict(list)
    for part in chunks(ids):
        for m in MembershipRow.select().where(MembershipRow.campaign.in_(campaigns or [""]) & MembershipRow.order_id.in_(part)):
            found[m.order_id].append(m)
    return found


def brought_tree(shop_id: str, campaigns: list[str], email: str, depth: int) -> list[dict]:
    """Who this person brought, and whom those brought, across groups and campaigns (each person once)."""
    seen = {email}

    def level(person: str, left: int) -> list[dict]:
        friends = _brought_by(shop_id, campaigns, person)
        out = []
        for friend, orders in sorted(friends.items(), key=lambda item: (-len(item[1]), item[0]))[:WIDTH]:
            if friend in seen:
                continue
            seen.add(friend)
            out.append(dict(email=friend, orders=orders, friends=level(friend, left - 1) if left > 1 else []))
        return out

    return level(email, depth)


def _brought_by(shop_id: str, campaigns: list[str], email: str) -> dict[str, list[str]]:
    """The people whose orders joined a group through this person's link (their own or a member's tag)."""
    ids = [o for (o,) in OrderFact.select(OrderFact.order_id).where(
        (OrderFact.shop == shop_id) & (OrderFact.email_norm == email)).tuples()]
    mine = set(ids)
    groups = set()
    for part in chunks(ids):
        for campaign, order_id, role, founder_id in MembershipRow.select(
                MembershipRow.campaign, MembershipRow.order_id, MembershipRow.role, MembershipRow.founder_id).where(
                MembershipRow.campaign.in_(campaigns or [""]) & MembershipRow.order_id.in_(part)
                & MembershipRow.role.in_(("founder", "member"))).tuples():
            groups.add((campaign, founder_id))
    brought = []
    by_campaign: dict[str, list[str]] = defaultdict(list)
    for campaign, founder_id in groups:
        by_campaign[campaign].append(founder_id)
    for campaign, founders in by_campaign.items():
        for part in chunks(sorted(founders)):
            for order_id, founder_id, sponsor_id in MembershipRow.select(
                    MembershipRow.order_id, MembershipRow.founder_id, MembershipRow.sponsor_id).where(
                    (MembershipRow.campaign == campaign) & MembershipRow.founder_id.in_(part)
                    & (MembershipRow.role == "member")).tuples():
                if (sponsor_id or founder_id) in mine:
                    brought.append(order_id)
    friends: dict[str, list[str]] = defaultdict(list)
    for part in chunks(sorted(set(brought))):
        for order_id, friend in OrderFact.select(OrderFact.order_id, OrderFact.email_norm).where(
                (OrderFact.shop == shop_id) & OrderFact.order_id.in_(part)).tuples():
            if friend and friend != email:
                friends[friend].append(order_id)
    return friends
