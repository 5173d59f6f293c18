"""Decisions kept up to date: the engine's per-order decision, re-run only where facts changed.

An order's decision depends on its own facts, its strongest claim, and the claimed group as it was
before the order (its founder and earlier members). So a change is propagated through a worklist in
payment order: when a decision changes, the orders that depend on it (the group's later claimants)
are decided again. The result equals deciding every order from scratch (a property test proves it).
Facts and decisions are read in bulk per batch and written back with one upsert per table.
"""

from __future__ import annotations

import heapq
import json
from datetime import datetime, timezone
from typing import Iterable

from bridge.basics.codes import new_codes
from bridge.config.model import Config, SocialBuyingCampaign
from bridge.ledger import buyers, events, news
from bridge.ledger.leaks import leaked_groups
from bridge.rewards.groups import (
    FormingGroup,
    best_claims,
    decide_order,
    forming_group,
    group_flags,
)
from bridge.rewards.leaks import leak_check
from bridge.rewards.model import Check, Claim, Membership, Order, Override
from bridge.storage.bulk import insert_ignoring_many, upsert_many
from bridge.storage.compiled import select_in, sentinel
from bridge.storage.memos import GROUP_FIGURES, bump
from bridge.storage.models import (
    ClaimFact,
    GroupRow,
    MembershipRow,
    MemberTag,
    OverrideFact,
)
from bridge.storage.rows import read_orders

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_END = (datetime.max.replace(tzinfo=timezone.utc), "")
_CLAIM = [ClaimFact.shop, ClaimFact.order_id, ClaimFact.founder_id, ClaimFact.sponsor_id, ClaimFact.source, ClaimFact.at]
_OVERRIDE = [OverrideFact.shop, OverrideFact.order_id, OverrideFact.action, OverrideFact.note]
_DECIDED = [MembershipRow.order_id, MembershipRow.role, MembershipRow.founder_id, MembershipRow.sponsor_id,
            MembershipRow.paid_at, MembershipRow.checks, MembershipRow.flags]


class Decided:
    """One order's current decision, as stored or as just decided."""

    __slots__ = ("role", "founder_id", "sponsor_id", "paid_at", "checks", "flags")

    def __init__(self, role, founder_id, sponsor_id, paid_at, checks, flags) -> None:
        self.role, self.founder_id, self.sponsor_id = role, founder_id, sponsor_id
        self.paid_at, self.checks, self.flags = paid_at, checks, flags

    def same_place(self, other: "Decided | None") -> bool:
        return other is not None and (self.role, self.founder_id, self.sponsor_id) == (
            other.role, other.founder_id, other.sponsor_id)


class Facts:
    """A campaign's facts and decisions, loaded in bulk and cached for one refresh or settlement."""

    def __init__(self, campaign: SocialBuyingCampaign) -> None:
        self.campaign = campaign
        self.orders: dict[str, Order | None] = {}
        self.claims: dict[str, object] = {}
        self.overrides: dict[str, Override | None] = {}
        self.decided: dict[str, Decided | None] = {}
        self.members: dict[str, dict[str, tuple]] = {}  # founder -> member id -> (paid_at, id)
        self.claimants_of: dict[str, set[str]] = {}

    # -- bulk loading ------------------------------------------------------------------------
    def load(self, ids: Iterable[str], known: dict[str, Order] | None = None) -> None:
        """Load orders, best claims, overrides and decisions of `ids` not loaded yet (orders in `known` as given)."""
        missing = sorted({i for i in ids if i not in self.orders})
        if not missing:
            return
        shop, cid, known = self.campaign.shop, self.campaign.id, known or {}
        for i in missing:
            self.orders[i], self.claims[i], self.overrides[i] = known.get(i), None, None
            self.decided.setdefault(i, None)
        self.orders.update(read_orders(shop, [i for i in missing if i not in known]))
        claims = select_in("claims of orders", _CLAIM, lambda ids: (ClaimFact.shop == sentinel("shop"))
                           & ClaimFact.order_id.in_(ids), missing, shop=shop)
        self.claims.update(best_claims([Claim(s, o, f, p or None, source, at) for s, o, f, p, source, at in claims]))
        for s, order_id, action, note in select_in(
                "overrides of orders", _OVERRIDE, lambda ids: (OverrideFact.campaign == sentinel("campaign"))
                & OverrideFact.order_id.in_(ids), missing, campaign=cid):
            self.overrides[order_id] = Override(s, order_id, action, note)
        for order_id, *decided in select_in(
                "decisions of orders", _DECIDED, lambda ids: (MembershipRow.campaign == sentinel("campaign"))
                & MembershipRow.order_id.in_(ids), missing, campaign=cid):
            self.decided[order_id] = Decided(*decided)

    def load_groups(self, founders: Iterable[str]) -> None:
        """Load the members of these groups (and their facts)."""
        missing = sorted({f for f in founders if f and f not in self.members})
        if not missing:
            return
        ids = set(missing)
        for f in missing:
            self.members[f] = {}
        for order_id, founder_id, paid_at in select_in(
                "members of groups", [MembershipRow.order_id, MembershipRow.founder_id, MembershipRow.paid_at],
                lambda ids: (MembershipRow.campaign == sentinel("campaign")) & MembershipRow.founder_id.in_(ids)
                & (MembershipRow.role == "member"), missing, campaign=self.campaign.id):
            self.members[founder_id][order_id] = (paid_at, order_id)
            ids.add(order_id)
        # (members decided in this refresh are added by record(), which loads their group first)
        self.load(ids)

    def load_claimants(self, founders: Iterable[str]) -> None:
        """Load which orders claim each of these groups."""
        missing = sorted({f for f in founders if f not in self.claimants_of})
        for f in missing:
            self.claimants_of[f] = set()
        for order_id, founder_id in select_in(
                "claimants of groups", [ClaimFact.order_id, ClaimFact.founder_id],
                lambda ids: (ClaimFact.shop == sentinel("shop")) & ClaimFact.founder_id.in_(ids),
                missing, shop=self.campaign.shop):
            self.claimants_of[founder_id].add(order_id)

    # -- reading -----------------------------------------------------------------------------
    def view(self, founder_id: str, before: tuple = _END) -> FormingGroup | None:
        """The group founded by `founder_id`, with its members decided before `before` (paid_at, id)."""
        self.load([founder_id])
        self.load_groups([founder_id])
        founder = self.decided.get(founder_id)
        if founder is None or founder.role != "founder" or (founder.paid_at, founder_id) >= before:
            return None
        view = forming_group(self.campaign, self.orders[founder_id])
        view.members += [self.orders[i] for key, i in sorted(self.members[founder_id].values()) if (key, i) < before]
        return view

    # -- writing -----------------------------------------------------------------------------
    def record(self, order: Order, new: Membership, now: datetime) -> tuple[Decided | None, Decided]:
        """Keep a new decision in memory (and in the group index); return the old and the new."""
        old = self.decided.get(order.id)
        current = Decided(new.role, new.founder_id, new.sponsor_id, order.paid_at,
                          checks_json(new.checks), old.flags if old else "[]")
        if old is not None and old.role == "member" and old.founder_id in self.members:
            self.members[old.founder_id].pop(order.id, None)
        if new.role == "member":
            self.load_groups([new.founder_id])
            self.members[new.founder_id][order.id] = (order.paid_at, order.id)
        self.decided[order.id] = current
        return old, current


def checks_json(checks: Iterable[Check]) -> str:
    """Checks as stored: a JSON list of [rule, passed, text] (most members' flags are none: no encoder for those)."""
    listed = [[c.rule, c.passed, c.text] for c in checks]
    return _UNICODE_JSON(listed) if listed else "[]"


# json.dumps with any option builds a new encoder per call: one, kept, for the thousands of decisions of a batch
_UNICODE_JSON = json.JSONEncoder(ensure_ascii=False).encode


def _sort_key(order: Order) -> tuple:
    return (order.paid_at or _EPOCH, order.id)


def refresh(config: Config, changed: set[tuple[str, str]], now: datetime | None = None,
            known: dict[tuple[str, str], Order] | None = None) -> None:
    """Re-decide the changed orders, and whatever depends on them, in every social campaign of their shop.

    `known` holds orders exactly as just stored (by key), which need not be read back.
    """
    refreshed = False
    for campaign in config.campaigns:
        ids = {oid for shop, oid in changed if shop == campaign.shop}
        if campaign.type == "social_buying" and ids:
            mine = {oid: order for (shop, oid), order in (known or {}).items() if shop == campaign.shop}
            refresh_campaign(campaign, ids, now or datetime.now(timezone.utc), mine)
            refreshed = True
    if refreshed:  # members or their orders may have changed: what share links show is read again
        bump(GROUP_FIGURES)


def refresh_campaign(campaign: SocialBuyingCampaign, order_ids: set[str], now: datetime,
                     known: dict[str, Order] | None = None) -> None:
    """Run the worklist for one campaign (inside the caller's transaction)."""
    facts = Facts(campaign)
    facts.load(order_ids, known)
    facts.load_groups({c.founder_id for c in facts.claims.values() if c} | set(order_ids))
    facts.load_claimants(order_ids | {c.founder_id for c in facts.claims.values() if c})
    queue = [(_sort_key(facts.orders[i]), i) for i in order_ids if facts.orders.get(i) is not None]
    heapq.heapify(queue)
    done: set[str] = set()
    changed: dict[str, Decided] = {}
    before: dict[str, Decided | None] = {}  # each order's decision as it was (for the events of a change of place)
    touched: set[str] = set()
    while queue:
        key, order_id = heapq.heappop(queue)
        if order_id in done:
            continue
        done.add(order_id)
        order = facts.orders[order_id]
        claim = facts.claims.get(order_id) if order.paid_at else None
        view = facts.view(claim.founder_id, key) if claim else None
        new = decide_order(campaign, order, claim, view, facts.overrides.get(order_id))
        old, current = facts.record(order, new, now)
        before[order_id] = old
        if old is None or old.checks != current.checks or not current.same_place(old):
            changed[order_id] = current
        touched |= {g for g in (current.founder_id, old.founder_id if old else None) if g}
        # An order whose own facts changed can change later members' checks even if its place stays.
        if order_id in order_ids or not current.same_place(old):
            for dependant in _dependants(facts, order, old, current):
                if dependant not in done and facts.orders.get(dependant) is not None:
                    heapq.heappush(queue, (_sort_key(facts.orders[dependant]), dependant))
    _refresh_flags(facts, touched, changed)
    _write(campaign, facts, changed, now)
    if campaign.endpoints:
        events.store(campaign.endpoints, _events(campaign, facts, changed, before, now))


def _dependants(facts: Facts, order: Order, old: Decided | None, new: Decided) -> set[str]:
    """Orders whose decision may change when this one's did: claimants of its group(s), later than it."""
    founders = {new.founder_id, old.founder_id if old else None} - {None}
    if new.role == "founder" or (old and old.role == "founder"):
        founders.add(order.id)
    facts.load_claimants(founders)
    out = set().union(*(facts.claimants_of[f] for f in founders)) - {order.id} if founders else set()
    facts.load(out)
    key = _sort_key(order)
    return {i for i in out if facts.orders.get(i) is not None and _sort_key(facts.orders[i]) > key}


def _refresh_flags(facts: Facts, founders: set[str], changed: dict[str, Decided]) -> None:
    """Recompute the review flags of every touched group's members; mark those whose flags moved."""
    leaked = leaked_groups(facts.campaign, founders) if founders else {}
    for founder_id in founders:
        view = facts.view(founder_id)
        if view is None:
            continue
        flags = group_flags({founder_id: view.members}, {m.id: m for m in view.members})
        leak = (leak_check(leaked[founder_id]),) if founder_id in leaked else ()
        for member in view.members:
            decided = facts.decided[member.id]
            text = checks_json(flags.get(member.id, ()) + (leak if member.id != founder_id else ()))
            if decided.flags != text:
                decided.flags = text
                changed[member.id] = decided


def _write(campaign: SocialBuyingCampaign, facts: Facts, changed: dict[str, Decided], now: datetime) -> None:
    """Upsert the changed decisions; give founders a group (and code) once, and members a tag once."""
    rows = [dict(campaign=campaign.id, order_id=i, role=d.role, founder_id=d.founder_id, sponsor_id=d.sponsor_id,
                 paid_at=d.paid_at, checks=d.checks, flags=d.flags, decided_at=now) for i, d in sorted(changed.items())]
    upsert_many(MembershipRow, rows, [MembershipRow.campaign, MembershipRow.order_id])
    buyers.mark((campaign.shop, i) for i in changed)
    founders = [(i, d) for i, d in sorted(changed.items()) if d.role == "founder"]
    insert_ignoring_many(GroupRow, [
        dict(campaign=campaign.id, shop=campaign.shop, founder_id=i, code=code, currency=campaign.currency,
             opened_at=d.paid_at, closes_at=d.paid_at + campaign.window, due_at=d.paid_at + campaign.window + campaign.hold)
        for (i, d), code in zip(founders, new_codes(len(founders)))])
    tagged = [i for i, d in sorted(changed.items()) if d.role in ("founder", "member")]
    insert_ignoring_many(MemberTag, [dict(campaign=campaign.id, order_id=i, tag=tag)
                                     for i, tag in zip(tagged, new_codes(len(tagged)))])
    news.store(news.group_news(campaign, facts, changed, now))


def _events(campaign: SocialBuyingCampaign, facts: Facts, changed: dict[str, Decided],
            before: dict[str, Decided | None], now: datetime) -> list[dict]:
    """group.opened, member.joined and member.left for the orders whose place changed."""
    def place(d: Decided | None) -> tuple:  # (a new sponsor inside the same group is no event)
        return (d.role, d.founder_id) if d is not None else (None, None)
    moved = {i: (before.get(i), d) for i, d in changed.items() if place(d) != place(before.get(i))}
    founders = sorted({d.founder_id or i for i, (_, d) in moved.items() if d.role in ("founder", "member")}
                      | {o.founder_id for o, _ in moved.values() if o is not None and o.role == "member"})
    codes = {founder: code for code, founder in select_in(
        "codes of groups", [GroupRow.code, GroupRow.founder_id],
        lambda ids: (GroupRow.campaign == sentinel("campaign")) & GroupRow.founder_id.in_(ids), founders,
        campaign=campaign.id)}
    rows = []
    for order_id, (old, new) in sorted(moved.items(), key=lambda item: (_sort_key(facts.orders[item[0]]), item[0])):
        order = facts.orders[order_id]
        common = dict(campaign=campaign.id, order_id=order_id, email=order.email)
        if old is not None and old.role == "member":
            rows.append(events.event(f"{campaign.id}:{order_id}:{old.founder_id}:{now.isoformat()}", "member.left",
                                     campaign.shop, now, events.group_of(campaign.id, old.founder_id),
                                     code=codes.get(old.founder_id), founder_order_id=old.founder_id,
                                     now_role=new.role, **common))
        if new.role == "founder":
            rows.append(events.event(f"{campaign.id}:{order_id}", "group.opened", campaign.shop, now,
                                     events.group_of(campaign.id, order_id), code=codes.get(order_id),
                                     opened_at=order.paid_at, closes_at=order.paid_at + campaign.window,
                                     currency=campaign.currency, **common))
        elif new.role == "member":
            rows.append(events.event(f"{campaign.id}:{order_id}:{new.founder_id}:{now.isoformat()}", "member.joined", campaign.shop, now,
                                     events.group_of(campaign.id, new.founder_id), code=codes.get(new.founder_id),
                                     founder_order_id=new.founder_id, brought_by_order_id=new.sponsor_id or new.founder_id,
                                     paid_at=order.paid_at, **common))
    return rows


def load_membership(row: MembershipRow) -> Membership:
    """Rebuild a stored decision."""
    def checks(text):
        return tuple(Check(rule, passed, words) for rule, passed, words in json.loads(text))
    return Membership(row.order_id, row.role, row.founder_id, row.sponsor_id, checks(row.checks), checks(row.flags))


def founder_of(campaign: SocialBuyingCampaign, order_id: str) -> str | None:
    """The founder of the group an order belongs to (itself for a founder), or None."""
    row = MembershipRow.get_or_none((MembershipRow.campaign == campaign.id) & (MembershipRow.order_id == order_id))
    if row is None or row.role not in ("founder", "member"):
        return None
    return row.order_id if row.role == "founder" else row.founder_id


def sponsor_of(campaign: SocialBuyingCampaign, founder_id: str, tag: str | None) -> str | None:
    """The member a tag names, only if they belong to that very group (else the group's plain link)."""
    row = MemberTag.get_or_none(MemberTag.tag == tag.upper()) if tag else None
    if row is None or row.campaign != campaign.id or founder_of(campaign, row.order_id) != founder_id:
        return None
    return row.order_id
