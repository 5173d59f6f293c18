"""Facts in: store the newest snapshot of each order and every claim, then refresh the decisions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Iterable

from bridge.config.model import Config
from bridge.facts.order_keys import carried_claims
from bridge.ledger.buyers import mark, marks_once
from bridge.ledger.decisions import refresh
from bridge.ledger.grants import record_clawbacks
from bridge.ledger.referrals import issue_advocates_for_orders, store_referral_claim
from bridge.rewards.facts import is_newer, keep_latest
from bridge.rewards.model import Claim, Order
from bridge.storage.bulk import chunks, insert_ignoring_many, upsert_many
from bridge.storage.db import db
from bridge.storage.models import ClaimFact, OrderFact
from bridge.storage.rows import order_to_row, read_orders
from bridge.storage.statistics import keep_statistics


def with_paid_at(order: Order, stored: Order | None, now: datetime) -> Order:
    """Give a snapshot the payment instant that is already a fact, or make it one.

    Once stored, paid_at never moves: a later read (completing a cash-on-delivery order sets WooCommerce's
    date_paid; a refund takes the paid status away) must not move a group's window or void it. A paid
    snapshot without a date from the shop is dated when bridge first sees it paid: the shop's last change,
    which the payment cannot be later than, or now if the shop gave no change instant.
    """
    if stored is not None and stored.paid_at is not None:
        return replace(order, paid_at=stored.paid_at, paid_at_source=stored.paid_at_source)
    if order.paid_at is not None or not order.paid:
        return order
    seen = min(order.modified_at, now) if order.modified_at is not None else now
    return replace(order, paid_at=seen, paid_at_source="first_seen")


def store_orders(orders: Iterable[Order], now: datetime | None = None) -> dict[tuple[str, str], Order]:
    """Upsert each order whose snapshot is newer than the stored one; return those stored, by key."""
    now = now or datetime.now(timezone.utc)
    newest = keep_latest(orders)
    changed = []
    by_shop: dict[str, list[str]] = {}
    for shop, order_id in newest:
        by_shop.setdefault(shop, []).append(order_id)
    for shop, ids in by_shop.items():
        for part in chunks(ids):
            stored = read_orders(shop, part)
            changed += [with_paid_at(newest[(shop, i)], stored.get(i), now) for i in part
                        if is_newer(newest[(shop, i)], stored.get(i))]
    upsert_many(OrderFact, [order_to_row(o) for o in changed], [OrderFact.shop, OrderFact.order_id])
    mark(o.key for o in changed if o.paid_at is not None)  # (the statistics count paid orders only)
    return {o.key: o for o in changed}


def store_claims(claims: Iterable[Claim]) -> set[tuple[str, str]]:
    """Record claims once; a duplicate keeps the earliest instant, so arrival order never matters."""
    earliest: dict[tuple, Claim] = {}
    for claim in claims:
        key = (claim.shop, claim.order_id, claim.source, claim.founder_id, claim.sponsor_id or "")
        if key not in earliest or claim.at < earliest[key].at:
            earliest[key] = claim
    stored: dict[tuple, ClaimFact] = {}
    for shop in {k[0] for k in earliest}:
        ids = sorted({k[1] for k in earliest if k[0] == shop})
        for part in chunks(ids):
            for row in ClaimFact.select().where((ClaimFact.shop == shop) & ClaimFact.order_id.in_(part)):
                stored[(row.shop, row.order_id, row.source, row.founder_id, row.sponsor_id)] = row
    fresh = [c for k, c in earliest.items() if k not in stored]
    for key, claim in earliest.items():
        if key in stored and claim.at < stored[key].at:
            ClaimFact.update(at=claim.at).where(ClaimFact.id == stored[key].id).execute()
            fresh.append(claim)
    rows = [dict(shop=c.shop, order_id=c.order_id, founder_id=c.founder_id, sponsor_id=c.sponsor_id or "",
                 source=c.source, at=c.at) for c in fresh if (c.shop, c.order_id, c.source, c.founder_id,
                                                               c.sponsor_id or "") not in stored]
    insert_ignoring_many(ClaimFact, rows)
    return {(c.shop, c.order_id) for c in fresh}


def ingest(config: Config, orders: Iterable[Order]=(), claims: Iterable[Claim]=(), now: datetime=None, referral_claims: Iterable[tuple]=()) -> set[tuple[str, str]]:
    """Store facts and refresh every affected decision in one transaction; return the changed order keys.

    `referral_claims` are (shop, order_id, advocate code, source, at) tuples.
    """
    now = now or datetime.now(timezone.utc)
    with db.atomic(), marks_once():
        stored = store_orders(orders, now)
        carried, carried_referrals = carried_claims(config, stored.values())
        changed = set(stored) | store_claims([*claims, *carried])
        for shop, order_id, code, source, at in [*referral_claims, *carried_referrals]:
            store_referral_claim(shop, order_id, code, source, at)
        refresh(config, changed, now, stored)
        record_clawbacks(config, changed, now)
        issue_advocates_for_orders(config, changed, now)
    keep_statistics(len(stored))
    return changed
