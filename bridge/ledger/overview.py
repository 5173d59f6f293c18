"""What the admin page shows, read in a fixed number of queries: groups with members, refusals, payouts."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from bridge.basics.money import format_amount
from bridge.rewards.payouts import founder_of
from bridge.storage.bulk import chunks
from bridge.storage.models import GroupRow, MembershipRow, OrderFact, Payout, Reward

LIMIT = 200


@dataclass(frozen=True)
class Overview:
    """The admin page's three lists, each as plain dicts a template can show."""

    groups: list[dict]
    refusals: list[dict]
    payouts: list[dict]


def admin_overview(now: datetime, limit: int = LIMIT) -> Overview:
    """The newest groups with their members, refusals with their reasons, and payouts (five queries at most)."""
    return Overview(_groups(now, limit), _refusals(limit), _payouts(limit))


def group_state(group: GroupRow, has_founder: bool, now: datetime) -> str:
    """A group's state in one word: void (its founder joined another group), open, closed or settled."""
    if not has_founder:
        return "void"
    return "settled" if group.settled_at else ("open" if now < group.closes_at else "closed")


def _groups(now: datetime, limit: int) -> list[dict]:
    groups = list(GroupRow.select().order_by(GroupRow.opened_at.desc()).limit(limit))
    keys = {(g.campaign, g.founder_id) for g in groups}
    members: dict[tuple[str, str], list[MembershipRow]] = defaultdict(list)
    for part in chunks(sorted({g.founder_id for g in groups})):
        for m in MembershipRow.select().where(MembershipRow.founder_id.in_(part)
                                              & MembershipRow.role.in_(("founder", "member"))):
            if (m.campaign, m.founder_id) in keys:
                members[(m.campaign, m.founder_id)].append(m)
    shops = {(g.campaign, g.founder_id): g.shop for g in groups}
    order_ids = sorted({m.order_id for ms in members.values() for m in ms})
    emails: dict[tuple[str, str], str] = {}
    rewards: dict[tuple[str, str, str], Reward] = {}
    for part in chunks(order_ids):
        for o in OrderFact.select(OrderFact.shop, OrderFact.order_id, OrderFact.email).where(
                OrderFact.order_id.in_(part)):
            emails[(o.shop, o.order_id)] = o.email or ""
        for r in Reward.select().where(Reward.order_id.in_(part) & (Reward.kind == "group_cashback")):
            rewards[(r.campaign, founder_of(r.key), r.order_id)] = r
    out = []
    for group in groups:
        key = (group.campaign, group.founder_id)
        rows = members.get(key, [])
        out.append(dict(group=group, state=group_state(group, any(m.role == "founder" for m in rows), now), members=[
            dict(order=m.order_id, role=m.role, email=emails.get((shops[key], m.order_id), ""), sponsor=m.sponsor_id,
                 flags=[text for _, _, text in json.loads(m.flags)],
                 reward=(format_amount(rewards[key + (m.order_id,)].amount, group.currency)
                         if key + (m.order_id,) in rewards else ""))
            for m in sorted(rows, key=lambda m: (m.role != "founder", m.paid_at or now))]))
    return out


def _refusals(limit: int) -> list[dict]:
    """Every refusal, also a refused join whose order then founded a group of its own (a self-referral)."""
    refusals = [dict(campaign=m.campaign, order=m.order_id,
                     reasons=[text for _, passed, text in json.loads(m.checks) if not passed]
                     + (["founded its own group instead"] if m.role == "founder" else []))
                for m in MembershipRow.select().where((MembershipRow.role == "none")
                                                      | MembershipRow.checks.contains("false"))
                .order_by(MembershipRow.decided_at.desc()).limit(limit)]
    return [r for r in refusals if r["reasons"] and r["reasons"] != ["founded its own group instead"]]


def _payouts(limit: int) -> list[dict]:
    return [dict(key=p.key, amount=format_amount(p.amount, p.currency), method=p.method, state=p.state,
                 note=p.last_error or p.review or p.external_ref or "")
            for p in Payout.select().order_by(Payout.id.desc()).limit(limit)]
