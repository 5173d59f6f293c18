"""Facts in: store the newest snapshot of each order and every claim, then refresh the decisions."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

from bridge.rewards.facts import is_newer
from bridge.rewards.identity import normalise_email
from bridge.rewards.model import Claim, Line, Order
from bridge.storage.db import db
from bridge.storage.models import ClaimFact, OrderFact


def order_to_row(order: Order) -> dict:
    """Flatten an Order into OrderFact columns."""
    return dict(shop=order.shop, order_id=order.id, currency=order.currency, paid=order.paid, paid_at=order.paid_at,
                created_at=order.created_at, modified_at=order.modified_at, total=order.total,
                refunded=order.refunded, cancelled=order.cancelled,
                lines=json.dumps([[l.product_id, l.quantity, str(l.total), str(l.tax)] for l in order.lines]),
                customer_id=order.customer_id, email=order.email, email_norm=normalise_email(order.email),
                billing_address=order.billing_address, ip=order.ip, user_agent=order.user_agent)


def row_to_order(row: OrderFact) -> Order:
    """Rebuild the engine's Order from its row."""
    return Order(shop=row.shop, id=row.order_id, currency=row.currency, paid=row.paid, paid_at=row.paid_at,
                 created_at=row.created_at, modified_at=row.modified_at, total=row.total, refunded=row.refunded,
                 cancelled=row.cancelled,
                 lines=tuple(Line(p, q, Decimal(t), Decimal(x)) for p, q, t, x in json.loads(row.lines)),
                 customer_id=row.customer_id, email=row.email, billing_address=row.billing_address, ip=row.ip,
                 user_agent=row.user_agent)


def store_order(order: Order) -> bool:
    """Upsert the order if this snapshot is newer than the stored one; return whether anything changed."""
    current = OrderFact.get_or_none((OrderFact.shop == order.shop) & (OrderFact.order_id == order.id))
    if current is None:
        OrderFact.insert(**order_to_row(order)).on_conflict_ignore().execute()
        return True
    if not is_newer(order, row_to_order(current)):
        return False
    OrderFact.update(**order_to_row(order)).where(OrderFact.id == current.id).execute()
    return True


def store_claim(claim: Claim) -> bool:
    """Record a claim once; a duplicate keeps the earliest instant, so arrival order never matters."""
    same = ((ClaimFact.shop == claim.shop) & (ClaimFact.order_id == claim.order_id) & (ClaimFact.source == claim.source)
            & (ClaimFact.founder_id == claim.founder_id) & (ClaimFact.sponsor_id == (claim.sponsor_id or "")))
    current = ClaimFact.get_or_none(same)
    if current is None:
        ClaimFact.insert(shop=claim.shop, order_id=claim.order_id, founder_id=claim.founder_id,
                         sponsor_id=claim.sponsor_id or "", source=claim.source, at=claim.at).on_conflict_ignore().execute()
        return True
    if claim.at < current.at:
        ClaimFact.update(at=claim.at).where(ClaimFact.id == current.id).execute()
        return True
    return False


def row_to_claim(row: ClaimFact) -> Claim:
    return Claim(row.shop, row.order_id, row.founder_id, row.sponsor_id or None, row.source, row.at)


def ingest(config, orders=(), claims=(), now=None) -> set[tuple[str, str]]:
    """Store facts and refresh every affected decision in one transaction; return the changed order keys."""
    from bridge.decisions import refresh
    from bridge.ledger import record_clawbacks

    now = now or datetime.now(timezone.utc)
    with db.atomic():
        changed = {o.key for o in orders if store_order(o)}
        changed |= {(c.shop, c.order_id) for c in claims if store_claim(c)}
        refresh(config, changed, now)
        record_clawbacks(config, changed, now)
    return changed
