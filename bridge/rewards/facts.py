"""Reducing raw facts: the newest snapshot of each order wins, whatever order they came in."""

from __future__ import annotations

from typing import Iterable

from bridge.rewards.model import Order


def snapshot_rank(order: Order) -> tuple:
    """Order snapshots by the shop's modification time; ties broken by content so any arrival order agrees."""
    # Within one second (shops date changes to the second), more refunded is newer: bridge's own refund too.
    return (order.modified_at is not None, order.modified_at, order.paid, order.cancelled, order.refunded,
            order.own_refunded)


def is_newer(candidate: Order, current: Order | None) -> bool:
    """Tell whether `candidate` should replace the stored snapshot `current`."""
    return current is None or snapshot_rank(candidate) > snapshot_rank(current)


def keep_latest(snapshots: Iterable[Order]) -> dict[tuple[str, str], Order]:
    """Reduce any sequence of snapshots (duplicated, late, reordered) to the newest per (shop, order id)."""
    latest: dict[tuple[str, str], Order] = {}
    for snapshot in snapshots:
        if is_newer(snapshot, latest.get(snapshot.key)):
            latest[snapshot.key] = snapshot
    return latest
