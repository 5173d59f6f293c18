"""What the admin page shows, read in a fixed number of queries: groups with members, refusals, payouts,
and referral: advocates, their friends' orders with each decision, welcome coupons and their use."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from bridge.basics.money import format_amount
from bridge.rewards.payouts import founder_of
from bridge.storage.bulk import chunks
from bridge.storage.models import (
    Advocate,
    GroupRow,
    MembershipRow,
    OrderFact,
    Payout,
    ReferralClaim,
    ReferralDecisionRow,
    Reward,
    WelcomeCoupon,
)

LIMIT = 200


@dataclass(frozen=True)
class Overview:
    """The admin page's three lists, each as plain dicts a template can show."""

    groups: list[dict]
    refusals: list[dict]
    payouts: list[dict]
    referrals: list[dict] = ()
    advocates: list[dict] = ()
    welcome: list[dict] = ()


def admin_overview(now: datetime, limit: int = LIMIT) -> Overview:
    """The newest groups with their members, refusals with their reasons, payouts, and referral's lists."""
    return Overview(_groups(now, limit), _refusals(limit), _payouts(limit), _referrals(limit), _advocates(limit),
                    _welcome(limit))


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
        state = group_state(group, any(m.role == "founder" for m in rows), now)
        if state == "void":  # its founder joined another group: nobody in it, nothing to look at
            continue
        out.append(dict(group=group, state=state, members=[
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


def _referrals(limit: int) -> list[dict]:
    """Friends' orders decided for a referrer: who, by which key, the decision and why (or what was granted)."""
    rows = list(ReferralDecisionRow.select().order_by(ReferralDecisionRow.decided_at.desc()).limit(limit))
    referrers = {a.code: a.email for part in chunks(sorted({r.code for r in rows}))
                 for a in Advocate.select(Advocate.code, Advocate.email).where(Advocate.code.in_(part))}
    friends, keys = {}, {}
    for part in chunks(sorted({r.order_id for r in rows})):
        for o in OrderFact.select(OrderFact.order_id, OrderFact.email).where(OrderFact.order_id.in_(part)):
            friends[o.order_id] = o.email or ""
        for c in ReferralClaim.select(ReferralClaim.order_id, ReferralClaim.code, ReferralClaim.source).where(
                ReferralClaim.order_id.in_(part)):
            keys.setdefault((c.order_id, c.code), set()).add(c.source)
    out = []
    for r in rows:
        checks = json.loads(r.checks)
        failed = list(dict.fromkeys(text for _, passed, text in checks if not passed))  # each reason once
        said = {rule: text for rule, _, text in checks}
        out.append(dict(campaign=r.campaign, order=r.order_id, friend=friends.get(r.order_id, ""), code=r.code,
                        referrer=referrers.get(r.code, ""), via=", ".join(sorted(keys.get((r.order_id, r.code), ()))),
                        state=r.state, why="; ".join(failed) or said.get("reward") or said.get("hold", "")))
    return out


def _advocates(limit: int) -> list[dict]:
    """The referrers who brought the most granted friends first, then the newest."""
    granted: dict[str, int] = defaultdict(int)
    for r in ReferralDecisionRow.select(ReferralDecisionRow.code).where(ReferralDecisionRow.state == "granted"):
        granted[r.code] += 1
    rows = list(Advocate.select().order_by(Advocate.created_at.desc()).limit(limit))
    rows.sort(key=lambda a: -granted.get(a.code, 0))
    return [dict(campaign=a.campaign, code=a.code, email=a.email, since=a.created_at, friends=granted.get(a.code, 0))
            for a in rows]


def _welcome(limit: int) -> list[dict]:
    """Welcome coupons, newest first, each with the friend's order that used it (if any)."""
    rows = list(WelcomeCoupon.select().order_by(WelcomeCoupon.created_at.desc()).limit(limit))
    used: dict[str, str] = {}
    for part in chunks(sorted({w.email_norm for w in rows})):
        for o in OrderFact.select(OrderFact.order_id, OrderFact.coupons).where(
                OrderFact.email_norm.in_(part) & (OrderFact.coupons != "[]")):
            for code in json.loads(o.coupons):
                used.setdefault(code, o.order_id)
    return [dict(campaign=w.campaign, coupon=w.coupon_code, friend=w.email, referrer_code=w.advocate_code,
                 value=f"{(w.percent * 100).normalize():f}%" if w.percent is not None else format_amount(w.amount, w.currency),
                 state=w.state, expires=w.expires_at, used_by=used.get(w.coupon_code.upper(), ""))
            for w in rows]
