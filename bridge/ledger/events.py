"""Outbound events: what a change tells the shop's own systems, written in the change's transaction, once by key.

A change writes its events only for a shop with event endpoints (`Shop.events`; campaigns carry their names),
and one delivery row per endpoint with them, so an event can never be written without the rows that deliver it.
`delivery.events` posts them. Types: group.opened, member.joined, member.left, group.closed, reward.granted,
referral.granted, payout.requested, payout.paid, payout.failed, payout.cancelled, clawback.opened,
clawback.recovered.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from peewee import Expression, Value

from bridge.basics.money import Money
from bridge.config.model import Config
from bridge.rewards.payouts import founder_of
from bridge.storage.bulk import chunks, insert_ignoring_many
from bridge.storage.models import Event, EventDelivery

Row = Any  # a model instance or the dict of its columns (rows about to be inserted)
TYPES = ("group.opened", "member.joined", "member.left", "group.closed", "reward.granted", "referral.granted",
         "payout.requested", "payout.paid", "payout.failed", "payout.cancelled", "clawback.opened",
         "clawback.recovered")


def event(key: str, type_: str, shop: str, at: datetime, group_key: str | None = None, **data) -> dict:
    """One event row; `key` names the change it tells of (a second write of the same change is ignored), and
    `group_key` the group whose events keep their order."""
    assert type_ in TYPES, type_
    return dict(key=f"{type_}:{key}", shop=shop, type=type_, group=group_key, at=at,
                data=json.dumps(data, sort_keys=True, default=_plain))


def group_of(campaign_id: str, founder_id: str) -> str:
    """The key that orders a group's events (delivered in the order they were written)."""
    return f"{campaign_id}:{founder_id}"


def reward_event(reward: dict, order_email: str | None, at: datetime) -> dict:
    """reward.granted (a group's cashback) or referral.granted (a referrer's reward), from a new reward's row."""
    type_ = "referral.granted" if reward["kind"].startswith("referral") else "reward.granted"
    group = None if type_ == "referral.granted" else group_of(reward["campaign"], founder_of(reward["key"]))
    return event(reward["key"], type_, reward["shop"], at, group, reward=reward["key"], campaign=reward["campaign"],
                 order_id=reward["order_id"], email=order_email, amount=amount(reward["amount"], reward["currency"]),
                 currency=reward["currency"],
                 reason=reward["reason"])


def payout_event(type_: str, payout: Row, reward: Row, at: datetime, change: str = "", **extra) -> dict:
    """payout.requested, .paid, .failed or .cancelled; `change` tells apart two changes of one kind (a retry
    that fails again)."""
    return event(f"{_get(payout, 'key')}{change}", type_, _get(reward, "shop"), at, _reward_group(reward),
                 payout=_get(payout, "key"), reward=_get(reward, "key"), campaign=_get(reward, "campaign"),
                 order_id=_get(reward, "order_id"), method=_get(payout, "method"),
                 amount=amount(_get(payout, "amount"), _get(payout, "currency")), currency=_get(payout, "currency"),
                 **extra)


def clawback_event(type_: str, clawback: Row, reward: Row, at: datetime, **extra) -> dict:
    """clawback.opened or clawback.recovered."""
    return event(_get(clawback, "key"), type_, _get(reward, "shop"), at, _reward_group(reward),
                 clawback=_get(clawback, "key"), reward=_get(reward, "key"), campaign=_get(reward, "campaign"),
                 order_id=_get(reward, "order_id"), amount=amount(_get(clawback, "amount"), _get(clawback, "currency")),
                 currency=_get(clawback, "currency"), **extra)


def amount(value: Decimal, currency: str) -> str:
    """An amount as events carry it: text with its currency's decimals ("4.80")."""
    return str(Money(Decimal(value), currency).rounded().amount)


def _reward_group(reward) -> str | None:
    key, kind = _get(reward, "key"), _get(reward, "kind")
    return None if kind.startswith("referral") else group_of(_get(reward, "campaign"), founder_of(key))


def _get(row, name: str):
    return row[name] if isinstance(row, dict) else getattr(row, name)


def endpoints_of(config: Config, shop_id: str) -> tuple[str, ...]:
    """The names of a shop's event endpoints."""
    return tuple(e.name for e in config.shop(shop_id).events)


def store(endpoints: tuple[str, ...], rows: list[dict]) -> None:
    """Write events (ignoring those already written) and a pending delivery of each to every endpoint, inside the
    caller's transaction; nothing at all for a shop without endpoints."""
    rows = [r for r in rows if r]
    if not endpoints or not rows:
        return
    insert_ignoring_many(Event, rows)
    for part in chunks([r["key"] for r in rows]):
        for endpoint in endpoints:
            add_deliveries(endpoint, Event.key.in_(part))


def add_deliveries(endpoint: str, which: Expression) -> int:
    """Pending deliveries to an endpoint of the events `which` selects, due now (those it has are left as they are)."""
    return (EventDelivery.insert_from(
        Event.select(Event.id, Event.shop, Value(endpoint), Value("pending"), Value(0), Event.at).where(which),
        [EventDelivery.event, EventDelivery.shop, EventDelivery.endpoint, EventDelivery.state, EventDelivery.attempts,
         EventDelivery.next_at]).on_conflict_ignore().execute())


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value).__name__}")
