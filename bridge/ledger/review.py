"""The review queue of one shop: what waits for a person, and what people did about it.

- payouts waiting for approval (flagged members and referrals, or a campaign with manual approval), with why;
- joins refused (an order came through a link but did not join), with every reason;
- failed payouts; SEPA payouts ready for a batch, and the batches exported but not yet marked sent;
- the actions taken on the dashboard (who, when, what, note, what came of it).
Each list can be searched by e-mail, order number, code or payout key, and is read a page at a time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bridge.config.model import Config
from bridge.rewards.identity import normalise_email
from bridge.rewards.payouts import FAILED, PENDING, READY
from bridge.storage.models import (
    AdminAction,
    GroupRow,
    MembershipRow,
    OrderFact,
    OverrideFact,
    Payout,
    Reward,
    SepaBatch,
)

PAGE = 50


@dataclass(frozen=True)
class Search:
    """What the owner typed: an e-mail, an order number, a code or a payout key (empty: everything)."""

    text: str = ""

    def email(self) -> str | None:
        return normalise_email(self.text) if "@" in self.text else None

    def order_id(self) -> str | None:
        return self.text.lstrip("#") if self.text.lstrip("#").isalnum() else None


def review_queue(config: Config, shop_id: str, search: Search, page: int = 0, campaign: str | None = None) -> dict:
    """The shop's queue (of one campaign, or all), page `page` of each list (PAGE rows), newest first."""
    campaigns = [c.id for c in config.campaigns_of(shop_id) if campaign in (None, c.id)]
    return dict(waiting=_payouts(shop_id, campaigns, PENDING, search, page),
                failed=_payouts(shop_id, campaigns, FAILED, search, page),
                refused=_refused_joins(shop_id, campaigns, search, page), sepa=_sepa(shop_id),
                actions=[dict(at=a.at, user=a.user, action=a.action, target=a.target, note=a.note, result=a.result)
                         for a in AdminAction.select().where(AdminAction.shop == shop_id)
                         .order_by(AdminAction.at.desc(), AdminAction.id.desc()).limit(PAGE)])


def _payouts(shop_id: str, campaigns: list[str], state: str, search: Search, page: int) -> list[dict]:
    query = (Payout.select(Payout, Reward).join(Reward).where((Reward.shop == shop_id) & (Payout.state == state)
                                                              & Reward.campaign.in_(campaigns or [""])))
    if search.text:
        email, order_id = search.email(), search.order_id()
        matches = Payout.key.contains(search.text)
        if email:
            matches |= Reward.email_norm == email
        if order_id:
            matches |= Reward.order_id == order_id
        query = query.where(matches)
    return [dict(key=p.key, campaign=p.reward.campaign, order=p.reward.order_id, email=p.reward.email_norm or "",
                 kind=p.reward.kind, amount=p.amount, currency=p.currency, method=p.method,
                 why=p.review or p.last_error or "", created_at=p.created_at)
            for p in query.order_by(Payout.id.desc()).offset(page * PAGE).limit(PAGE)]


def _refused_joins(shop_id: str, campaigns: list[str], search: Search, page: int) -> list[dict]:
    """Orders that came through a group's link and did not join it, with the failed checks."""
    if not campaigns:
        return []
    query = (MembershipRow.select(MembershipRow, OrderFact.email_norm.alias("email"))
             .join(OrderFact, on=(OrderFact.shop == shop_id) & (OrderFact.order_id == MembershipRow.order_id))
             .where(MembershipRow.campaign.in_(campaigns) & (MembershipRow.role != "member")
                    & MembershipRow.checks.contains('["attributed", true')))
    if search.text:
        email, order_id = search.email(), search.order_id()
        matches = MembershipRow.id < 0  # nothing, unless one of the below
        if email:
            matches |= OrderFact.email_norm == email
        if order_id:
            matches |= MembershipRow.order_id == order_id
        founders = [g.founder_id for g in GroupRow.select(GroupRow.founder_id).where(
            (GroupRow.shop == shop_id) & (GroupRow.code == search.text.upper()))]
        if founders:
            matches |= MembershipRow.checks.contains(f"came through group {founders[0]}'s link")
        query = query.where(matches)
    rows = list(query.order_by(MembershipRow.paid_at.desc(), MembershipRow.order_id).offset(page * PAGE).limit(PAGE)
                .objects())
    overrides = {(o.campaign, o.order_id): o for o in OverrideFact.select().where(
        (OverrideFact.shop == shop_id) & OverrideFact.order_id.in_([r.order_id for r in rows] or [""]))}
    out = []
    for row in rows:
        checks = json.loads(row.checks)
        group = next((text for rule, passed, text in checks if rule == "attributed"), "")
        override = overrides.get((row.campaign, row.order_id))
        out.append(dict(campaign=row.campaign, order=row.order_id, email=row.email or "", paid_at=row.paid_at,
                        group=group, reasons=[text for _, passed, text in checks if not passed],
                        founded=row.role == "founder",
                        # (the action as the queue's buttons name it: reject or allow)
                        override=("reject" if override.action == "refuse" else "allow", override.note) if override else None))
    return out


def _sepa(shop_id: str) -> dict:
    ready = [p.amount for p in Payout.select(Payout.amount).join(Reward).where(
        (Reward.shop == shop_id) & (Payout.state == READY) & (Payout.method == "sepa"))]
    batches = list(SepaBatch.select().where((SepaBatch.shop == shop_id)).order_by(SepaBatch.id.desc()).limit(10))
    return dict(ready=len(ready), ready_total=sum(ready, Decimal(0)), batches=batches)


def record_action(shop_id: str, user: str, action: str, target: str, note: str, result: str, now: datetime) -> None:
    """Keep what someone did on the dashboard (in the transaction of the action itself, where there is one)."""
    AdminAction.create(shop=shop_id, user=user, action=action, target=target[:200], note=note, result=result, at=now)
