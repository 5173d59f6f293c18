"""What the read API lists of one shop: groups with their members, rewards and payouts, as plain JSON values.

Pages go by id (`after` the last one seen, `limit` rows at most), so a list read while it grows neither
skips nor repeats a row. Amounts are text with their currency's decimals; instants ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import datetime

from bridge.ledger.events import amount
from bridge.rewards.payouts import group_reward_prefix
from bridge.storage.models import GroupRow, MembershipRow, OrderFact, Payout, Reward

GROUP_STATES = ("open", "closed", "settled")
MAX_LIMIT = 200


def groups_page(shop: str, state: str | None, limit: int, after: int, now: datetime) -> dict:
    """The shop's groups, oldest first: open (taking friends), closed (waiting for the hold's end) or settled."""
    where = (GroupRow.shop == shop) & (GroupRow.id > after)
    if state == "open":
        where &= (GroupRow.closes_at > now) & GroupRow.settled_at.is_null()
    elif state == "closed":
        where &= (GroupRow.closes_at <= now) & GroupRow.settled_at.is_null()
    elif state == "settled":
        where &= GroupRow.settled_at.is_null(False)
    rows = list(GroupRow.select().where(where).order_by(GroupRow.id).limit(limit))
    return _page("groups", [_group(g, now) for g in rows], rows, limit)


def group_detail(shop: str, code: str, now: datetime) -> dict | None:
    """One group (by its share code) with its buyers: the founder first, then the members in payment order."""
    group = GroupRow.get_or_none((GroupRow.code == code.upper()) & (GroupRow.shop == shop))
    if group is None:
        return None
    members = list(MembershipRow.select(MembershipRow, OrderFact.email, OrderFact.total, OrderFact.currency).join(
        OrderFact, on=(OrderFact.shop == shop) & (OrderFact.order_id == MembershipRow.order_id), attr="order").where(
        (MembershipRow.campaign == group.campaign) & (
            (MembershipRow.order_id == group.founder_id)
            | ((MembershipRow.founder_id == group.founder_id) & (MembershipRow.role == "member"))))
        .order_by(MembershipRow.paid_at, MembershipRow.order_id))
    rewards = {r.order_id: r for r in Reward.select().where(
        (Reward.shop == shop) & (Reward.campaign == group.campaign)
        & Reward.key.startswith(group_reward_prefix(group.campaign, group.founder_id)))}
    buyers = [dict(order_id=m.order_id, role=m.role, email=m.order.email, paid_at=_instant(m.paid_at),
                   total=amount(m.order.total, m.order.currency), brought_by_order_id=m.sponsor_id or m.founder_id,
                   reward=_reward_brief(rewards.get(m.order_id)))
              for m in sorted(members, key=lambda m: (m.role != "founder", m.paid_at or now, m.order_id))]
    return dict(_group(group, now), buyers=buyers)


def rewards_page(shop: str, limit: int, after: int) -> dict:
    """The shop's rewards, oldest first, each with its payout's state."""
    rows = list(Reward.select().where((Reward.shop == shop) & (Reward.id > after)).order_by(Reward.id).limit(limit))
    payouts = {p.reward_id: p for p in Payout.select().where(Payout.reward.in_([r.id for r in rows]))} if rows else {}
    items = [dict(_reward_brief(r), campaign=r.campaign, order_id=r.order_id, reason=r.reason,
                  created_at=_instant(r.created_at), payout=payouts[r.id].key if r.id in payouts else None)
             for r in rows]
    return _page("rewards", items, rows, limit)


def payouts_page(shop: str, state: str | None, limit: int, after: int) -> dict:
    """The shop's payouts, oldest first (one state, or all)."""
    where = (Reward.shop == shop) & (Payout.id > after)
    if state is not None:
        where &= Payout.state == state
    rows = list(Payout.select(Payout, Reward).join(Reward).where(where).order_by(Payout.id).limit(limit))
    return _page("payouts", [payout_item(p) for p in rows], rows, limit)


def payout_item(payout: Payout) -> dict:
    """One payout as the API shows it."""
    return dict(key=payout.key, reward=payout.reward.key, campaign=payout.reward.campaign,
                order_id=payout.reward.order_id, method=payout.method, state=payout.state,
                amount=amount(payout.amount, payout.currency), deducted=amount(payout.deducted, payout.currency),
                currency=payout.currency, review=payout.review, reference=payout.external_ref,
                last_error=payout.last_error, created_at=_instant(payout.created_at),
                updated_at=_instant(payout.updated_at))


def _group(g: GroupRow, now: datetime) -> dict:
    state = "settled" if g.settled_at else "open" if g.closes_at > now else "closed"
    return dict(code=g.code, campaign=g.campaign, founder_order_id=g.founder_id, state=state, currency=g.currency,
                opened_at=_instant(g.opened_at), closes_at=_instant(g.closes_at), due_at=_instant(g.due_at),
                settled_at=_instant(g.settled_at), size=g.size, rate=str(g.rate) if g.rate is not None else None)


def _reward_brief(r: Reward | None) -> dict | None:
    if r is None:
        return None
    return dict(key=r.key, kind=r.kind, state=r.state, amount=amount(r.amount, r.currency), currency=r.currency)


def _page(name: str, items: list, rows: list, limit: int) -> dict:
    return {name: items, "next_after": rows[-1].id if len(rows) == limit else None}


def _instant(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None

