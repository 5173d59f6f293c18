"""The statistics' row per social-buying decision (`BuyerStat`), worked out again for every order marked since.

Writers mark an order in their own transaction (`mark`): its snapshot was stored, one of its decisions
changed, its buyer's link was first shared or clicked. `refresh_buyers` (run by the roll-up) takes the
marks in batches and recomputes those orders' rows, and their founders' (the first friend may have moved),
from the decisions and facts as they are then; it removes the marks it took in the same transaction. So
a period's figures are sums over one narrow index range, and a row is never older than its last mark.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Iterable, Iterator

from peewee import fn

from bridge.config.model import Config
from bridge.rewards import amounts
from bridge.storage.bulk import chunks, insert_rows, upsert_many
from bridge.storage.db import db, is_postgresql
from bridge.storage.models import BuyerMark, BuyerStat, LinkActivity, MembershipRow, MemberTag, OrderFact
from bridge.storage.rows import lines_of

BATCH = 2000  # marks per transaction
ZERO = Decimal(0)


def mark(keys: Iterable[tuple[str, str]]) -> None:
    """Mark orders, as (shop, order id), for their statistics rows to be worked out again."""
    collecting = _collected.get()
    if collecting is not None:
        collecting.update(keys)
        return
    insert_rows(BuyerMark, [dict(shop=shop, order_id=order_id) for shop, order_id in sorted(set(keys))])


# The marks of the writers inside `marks_once`, written at its end (None outside it).
_collected: ContextVar[set | None] = ContextVar("buyer marks", default=None)


@contextmanager
def marks_once() -> Iterator[None]:
    """Collect the marks made inside (in the caller's transaction) and write each order's mark once, at the end.

    Ingestion marks an order when its snapshot is stored and again when its decision changes: one mark
    is enough, since the roll-up reads both as they are then.
    """
    keys: set[tuple[str, str]] = set()
    token = _collected.set(keys)
    try:
        yield
    finally:
        _collected.reset(token)
    mark(keys)


def refresh_buyers(config: Config, batches: int | None = None) -> int:
    """Recompute the rows of every marked order (at most `batches` transactions); return how many marks."""
    done = 0
    for _ in itertools.count() if batches is None else range(batches):
        with db.atomic():
            query = BuyerMark.select(BuyerMark.id, BuyerMark.shop, BuyerMark.order_id).order_by(BuyerMark.id).limit(BATCH)
            if is_postgresql():  # two processes take different marks (SQLite's writers take turns anyway)
                query = query.for_update(skip_locked=True)
            marks = list(query.tuples())
            if not marks:
                break
            by_shop: dict[str, set[str]] = defaultdict(set)
            for _, shop, order_id in marks:
                by_shop[shop].add(order_id)
            for shop, ids in sorted(by_shop.items()):
                for campaign in config.campaigns_of(shop):
                    if campaign.type == "social_buying":
                        _recompute(shop, campaign, ids)
            for part in chunks([m[0] for m in marks]):
                BuyerMark.delete().where(BuyerMark.id.in_(part)).execute()
        done += len(marks)
        if len(marks) < BATCH:
            break
    return done


def _recompute(shop: str, campaign, ids: set[str]) -> None:
    """Write the rows of these orders' decisions in one campaign, and of their groups' founders."""
    decided = _decisions(campaign.id, ids)
    founders = {d[2] for d in decided.values() if d[1] == "member" and d[2] not in decided}
    decided.update(_decisions(campaign.id, founders))
    wanted = {i for i, d in decided.items() if d[4] is not None}  # (an unpaid order is in no period)
    gone = sorted(set(ids) - wanted)
    for part in chunks(gone):
        BuyerStat.delete().where((BuyerStat.campaign == campaign.id) & BuyerStat.order_id.in_(part)).execute()
    if not wanted:
        return
    rows = sorted((decided[i] for i in wanted), key=lambda d: (d[4], d[0]))  # payment order: sponsors first
    sponsors = {d[3] for d in rows if d[1] == "member" and d[3] and d[3] != d[2]}
    facts = _facts(shop, wanted | sponsors | {d[2] for d in rows if d[2]})
    shared = _first_use(campaign.id, wanted)
    friends = _first_friends(campaign.id, {i for i in wanted if decided[i][1] == "founder"})
    depth: dict[str, int] = {}
    for part in chunks(sorted(sponsors - wanted)):  # sponsors worked out in an earlier batch
        depth.update(BuyerStat.select(BuyerStat.order_id, BuyerStat.depth).where(
            (BuyerStat.campaign == campaign.id) & BuyerStat.order_id.in_(part)).tuples())
    out = []
    for order_id, role, founder_id, sponsor_id, paid_at, through in rows:
        fact = facts.get(order_id)
        if fact is None:  # a decision without its order's facts (never, but nothing to count)
            continue
        email, currency, total, refunded = fact[:4]
        net = max(total - refunded, ZERO)
        member = role == "member"
        by = sponsor_id if member and sponsor_id and sponsor_id != founder_id else None
        depth[order_id] = (1 + depth.get(by, 1) if by else 1) if member else 0
        eligible = _eligible(campaign, fact, facts.get(founder_id)) if member else ZERO
        brought_by = (facts.get(by or founder_id) or (None,))[0] if member else None
        out.append(dict(shop=shop, campaign=campaign.id, order_id=order_id, paid_at=paid_at, role=role, through=through,
                        currency=currency, total=total, net=net, eligible=eligible, email=email, brought_by=brought_by,
                        depth=depth[order_id], shared_at=shared.get(order_id),
                        first_friend_at=friends.get(order_id) if role == "founder" else None))
    for part in chunks(out, 500):
        upsert_many(BuyerStat, part, [BuyerStat.campaign, BuyerStat.order_id])


def _decisions(campaign_id: str, ids: set[str]) -> dict[str, tuple]:
    """order id -> (order id, role, founder, sponsor, paid at, came through a link)."""
    out = {}
    for part in chunks(sorted(ids)):
        for order_id, role, founder, sponsor, paid_at, checks in MembershipRow.select(
                MembershipRow.order_id, MembershipRow.role, MembershipRow.founder_id, MembershipRow.sponsor_id,
                MembershipRow.paid_at, MembershipRow.checks).where(
                (MembershipRow.campaign == campaign_id) & MembershipRow.order_id.in_(part)).tuples():
            # (a member came through a link by definition; anyone else did if a claim was attributed)
            out[order_id] = (order_id, role, founder, sponsor, paid_at, role == "member" or '["attributed", true' in checks)
    return out


def _facts(shop: str, ids: set[str]) -> dict[str, tuple]:
    out = {}
    for part in chunks(sorted(ids)):
        for order_id, *fact in OrderFact.select(
                OrderFact.order_id, OrderFact.email_norm, OrderFact.currency, OrderFact.total, OrderFact.refunded,
                OrderFact.lines, OrderFact.refunded_lines, OrderFact.refunded_shipping).where(
                (OrderFact.shop == shop) & OrderFact.order_id.in_(part)).tuples():
            out[order_id] = tuple(fact)
    return out


def _first_use(campaign_id: str, ids: set[str]) -> dict:
    """order id -> when the buyer's own link was first shared or clicked."""
    out: dict = {}
    for part in chunks(sorted(ids)):
        for order_id, share, click in (MemberTag.select(MemberTag.order_id, LinkActivity.first_share_at,
                                                        LinkActivity.first_click_at)
                                       .join(LinkActivity, on=(LinkActivity.tag == MemberTag.tag))
                                       .where((MemberTag.campaign == campaign_id) & MemberTag.order_id.in_(part)).tuples()):
            for at in (share, click):
                if at is not None and (order_id not in out or at < out[order_id]):
                    out[order_id] = at
    return out


def _first_friends(campaign_id: str, founders: set[str]) -> dict:
    """founder -> when the group's first member paid."""
    out: dict = {}
    for part in chunks(sorted(founders)):
        out.update(MembershipRow.select(MembershipRow.founder_id, fn.MIN(MembershipRow.paid_at)).where(
            (MembershipRow.campaign == campaign_id) & MembershipRow.founder_id.in_(part) & (MembershipRow.role == "member"))
            .group_by(MembershipRow.founder_id).tuples())
    return out


def _eligible(campaign, fact: tuple, founder: tuple | None) -> Decimal:
    """What the campaign rewards of a friend's order, net of refunds (as `rewards.amounts` computes it)."""
    _, _, total, refunded, lines, refunded_lines, shipping = fact
    products = None
    if campaign.eligible_products == "same":
        products = frozenset(p for p, *_ in json.loads(founder[4] if founder else "[]"))
    elif campaign.eligible_products != "any":
        products = frozenset(campaign.eligible_products)
    order = _Lines(lines_of(lines), lines_of(refunded_lines or "[]"), shipping or ZERO, refunded, total)
    return amounts.eligible_amount(order, products, campaign.eligible_base)


class _Lines:
    """The parts of an order `rewards.amounts.eligible_amount` reads, without building a whole Order."""

    __slots__ = ("lines", "refunded_lines", "refunded_shipping", "refunded", "total")

    def __init__(self, lines, refunded_lines, refunded_shipping, refunded, total) -> None:
        self.lines, self.refunded_lines, self.refunded_shipping = lines, refunded_lines, refunded_shipping
        self.refunded, self.total = refunded, total
