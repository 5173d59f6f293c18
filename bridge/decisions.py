"""Decisions kept up to date: the engine's per-order decision, re-run only where facts changed.

An order's decision depends on its own facts, its strongest claim, and the claimed group as it was
before the order (its founder and earlier members). So a change is propagated through a worklist in
payment order: when a decision changes, the orders that depend on it (the group's later claimants)
are decided again. The result equals deciding every order from scratch (a property test proves it).
"""

from __future__ import annotations

import heapq
import json
from datetime import datetime, timezone

from bridge.codes import new_code
from bridge.config.model import SocialBuyingCampaign
from bridge.ingest import row_to_claim, row_to_order
from bridge.rewards.groups import GroupView, best_claims, decide_order, group_flags, open_view
from bridge.rewards.model import Check, Membership, Order, Override
from bridge.storage.models import ClaimFact, GroupRow, MemberTag, MembershipRow, OrderFact, OverrideFact

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class _Facts:
    """Read-through cache of one refresh's facts and decisions."""

    def __init__(self, campaign: SocialBuyingCampaign):
        self.campaign = campaign
        self.orders: dict[str, Order | None] = {}

    def order(self, order_id: str) -> Order | None:
        if order_id not in self.orders:
            row = OrderFact.get_or_none((OrderFact.shop == self.campaign.shop) & (OrderFact.order_id == order_id))
            self.orders[order_id] = row_to_order(row) if row else None
        return self.orders[order_id]

    def claim(self, order_id: str):
        rows = ClaimFact.select().where((ClaimFact.shop == self.campaign.shop) & (ClaimFact.order_id == order_id))
        return best_claims([row_to_claim(r) for r in rows]).get(order_id)

    def override(self, order_id: str) -> Override | None:
        row = OverrideFact.get_or_none((OverrideFact.campaign == self.campaign.id) & (OverrideFact.order_id == order_id))
        return Override(row.shop, row.order_id, row.action, row.note) if row else None

    def decision(self, order_id: str) -> MembershipRow | None:
        return MembershipRow.get_or_none((MembershipRow.campaign == self.campaign.id) & (MembershipRow.order_id == order_id))

    def view(self, founder_id: str, before: tuple) -> GroupView | None:
        """The group founded by `founder_id`, with its members decided before `before` (paid_at, id)."""
        founder_row = self.decision(founder_id)
        if founder_row is None or founder_row.role != "founder" or (founder_row.paid_at, founder_id) >= before:
            return None
        view = open_view(self.campaign, self.order(founder_id))
        rows = (MembershipRow.select().where((MembershipRow.campaign == self.campaign.id)
                                             & (MembershipRow.founder_id == founder_id) & (MembershipRow.role == "member"))
                .order_by(MembershipRow.paid_at, MembershipRow.order_id))
        view.members += [self.order(r.order_id) for r in rows if (r.paid_at, r.order_id) < before]
        return view

    def claimants(self, founder_id: str) -> list[str]:
        rows = ClaimFact.select(ClaimFact.order_id).where(
            (ClaimFact.shop == self.campaign.shop) & (ClaimFact.founder_id == founder_id)).distinct()
        return [r.order_id for r in rows]


def _sort_key(order: Order) -> tuple:
    return (order.paid_at or _EPOCH, order.id)


def refresh(config, changed: set[tuple[str, str]], now: datetime | None = None) -> None:
    """Re-decide the changed orders, and whatever depends on them, in every social campaign of their shop."""
    for campaign in config.campaigns:
        ids = {oid for shop, oid in changed if shop == campaign.shop}
        if campaign.type == "social_buying" and ids:
            refresh_campaign(campaign, ids, now or datetime.now(timezone.utc))


def refresh_campaign(campaign: SocialBuyingCampaign, order_ids: set[str], now: datetime) -> None:
    """Run the worklist for one campaign (inside the caller's transaction)."""
    facts = _Facts(campaign)
    queue = [(_sort_key(o), o.id) for o in map(facts.order, order_ids) if o is not None]
    heapq.heapify(queue)
    done: set[str] = set()
    touched: set[str] = set()
    while queue:
        key, order_id = heapq.heappop(queue)
        if order_id in done:
            continue
        done.add(order_id)
        order = facts.order(order_id)
        claim = facts.claim(order_id) if order.paid_at else None
        view = facts.view(claim.founder_id, key) if claim else None
        new = decide_order(campaign, order, claim, view, facts.override(order_id))
        old = facts.decision(order_id)
        _store(campaign, order, new, old, now)
        touched |= {g for g in (new.founder_id, old.founder_id if old else None) if g}
        # An order whose own facts changed can change later members' checks even if its decision stays.
        if old is None or order_id in order_ids or \
                (old.role, old.founder_id, old.sponsor_id) != (new.role, new.founder_id, new.sponsor_id):
            for dependant in _dependants(facts, order, old, new):
                if dependant not in done:
                    dependant_order = facts.order(dependant)
                    if dependant_order is not None:
                        heapq.heappush(queue, (_sort_key(dependant_order), dependant))
    _refresh_flags(campaign, facts, touched)


def _dependants(facts: _Facts, order: Order, old: MembershipRow | None, new: Membership) -> set[str]:
    """Orders whose decision may change when this one's did: claimants of its group(s), later than it."""
    out = set()
    if new.role == "founder" or (old and old.role == "founder"):
        out |= set(facts.claimants(order.id))
    for founder in {new.founder_id, old.founder_id if old else None} - {None, order.id}:
        out |= {oid for oid in facts.claimants(founder) if oid != order.id}
    return out


def _checks_json(checks) -> str:
    return json.dumps([[c.rule, c.passed, c.text] for c in checks], ensure_ascii=False)


def _store(campaign, order: Order, new: Membership, old: MembershipRow | None, now: datetime) -> None:
    """Save the decision; give a founder its group (and code) once, and every member a personal tag."""
    values = dict(role=new.role, founder_id=new.founder_id, sponsor_id=new.sponsor_id, paid_at=order.paid_at,
                  checks=_checks_json(new.checks), decided_at=now)
    if old is None:
        MembershipRow.insert(campaign=campaign.id, order_id=order.id, **values).execute()
    else:
        MembershipRow.update(**values).where(MembershipRow.id == old.id).execute()
    if new.role == "founder":
        closes = order.paid_at + campaign.window
        GroupRow.insert(campaign=campaign.id, shop=campaign.shop, founder_id=order.id, code=new_code(),
                        currency=campaign.currency, opened_at=order.paid_at, closes_at=closes,
                        due_at=closes + campaign.hold).on_conflict_ignore().execute()
    if new.role in ("founder", "member"):
        MemberTag.insert(campaign=campaign.id, order_id=order.id, tag=new_code()).on_conflict_ignore().execute()


def _refresh_flags(campaign, facts: _Facts, founders: set[str]) -> None:
    """Recompute the review flags of every touched group's members."""
    for founder_id in founders:
        view = facts.view(founder_id, (datetime.max.replace(tzinfo=timezone.utc), ""))
        if view is None:
            continue
        flags = group_flags({founder_id: view.members}, {m.id: m for m in view.members})
        for member in view.members:
            MembershipRow.update(flags=_checks_json(flags.get(member.id, ()))).where(
                (MembershipRow.campaign == campaign.id) & (MembershipRow.order_id == member.id)).execute()


def load_membership(row: MembershipRow) -> Membership:
    """Rebuild a stored decision."""
    def checks(text):
        return tuple(Check(rule, passed, words) for rule, passed, words in json.loads(text))
    return Membership(row.order_id, row.role, row.founder_id, row.sponsor_id, checks(row.checks), checks(row.flags))
