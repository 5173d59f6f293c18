"""Which e-mails a change causes. Called inside the change's transaction; the outbox keys keep each once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bridge.config.model import Campaign
from bridge.rewards.groups import figures_as_joined
from bridge.storage.bulk import insert_ignoring_many
from bridge.storage.models import EmailMessage


def group_news(campaign: Campaign, facts: Any, changed: dict, now: datetime) -> list[dict]:
    """Share-link e-mails for new founders and members, and "a friend joined" for the others of an open group.

    Nothing is sent about a group that is already closed: a backfill of old orders e-mails nobody.
    """
    rows, joins = [], {}
    for order_id, decided in sorted(changed.items()):
        if decided.role not in ("founder", "member"):
            continue
        founder = order_id if decided.role == "founder" else decided.founder_id
        opened = facts.decided.get(founder).paid_at if facts.decided.get(founder) else None
        if opened is None or opened + campaign.window <= now:
            continue
        rows.append(_row(f"share:{campaign.id}:{order_id}", "share_link", campaign, facts.orders.get(order_id), now,
                         order=order_id))
        if decided.role == "member":
            joins.setdefault(founder, []).append((order_id, decided))
    for founder, joined in sorted(joins.items()):
        # Each e-mail states the group as it was when that member joined, not as it is at send time.
        view = facts.view(founder)
        seen = figures_as_joined(campaign, view.members, {i for i, _ in joined}) if view is not None else {}
        members = facts.members.get(founder, {})
        for order_id, decided in joined:
            # Those who were there before: a later member is not told about an earlier one.
            here = members.get(order_id, (decided.paid_at, order_id))
            others = [founder] + sorted(i for i, place in members.items() if place < here)
            rows += [_row(f"joined:{campaign.id}:{order_id}:{other}", "friend_joined", campaign, facts.orders.get(other),
                          now, order=other, joined=order_id, **_for(seen.get(order_id), other)) for other in others]
    return [r for r in rows if r]


def _for(figures: tuple | None, order_id: str) -> dict:
    """What one member's "a friend joined" e-mail states: the group's size and their amount at that moment."""
    if figures is None:
        return {}
    size, amounts = figures
    amount = amounts.get(order_id)
    return dict(size=size, amount=str(amount) if amount else None)


def reward_news(campaign: Campaign, kind: str, fresh: list[tuple], now: datetime) -> list[dict]:
    """The closing summary of a group (or the referrer's reward), one per reward granted."""
    email_kind = "group_closed" if kind == "group_cashback" else "referral_reward"
    rows = [_row(f"reward:{key}", email_kind, campaign, beneficiary, now, reward=key)
            for key, beneficiary, amount, _, _ in fresh if amount > 0]
    return [r for r in rows if r]


def _row(key: str, kind: str, campaign, person, now: datetime, **ref) -> dict | None:
    """An outbox row to the person behind an order (or a referrer)."""
    return message(key, kind, campaign.shop, campaign.id, getattr(person, "email", None), now, **ref)


def message(key: str, kind: str, shop: str, campaign: str | None, to_email: str | None, now: datetime,
            **ref) -> dict | None:
    """An outbox row (None when there is nobody to write to); `ref` names what it is about."""
    if not to_email:
        return None
    return dict(key=f"email:{key}", kind=kind, shop=shop, campaign=campaign, to_email=to_email.strip(),
                ref=_SORTED_JSON(ref), state="queued", created_at=now, updated_at=now)


# json.dumps with any option builds a new encoder per call: one, kept, for the thousands of rows of a batch
_SORTED_JSON = json.JSONEncoder(sort_keys=True).encode


def enqueue(key: str, kind: str, shop: str, campaign: str | None, to_email: str | None, now: datetime, **ref) -> None:
    """Queue one message once per key (inside the transaction of the change that causes it)."""
    row = message(key, kind, shop, campaign, to_email, now, **ref)
    if row:
        store([row])


def store(rows: list[dict]) -> None:
    """Insert outbox rows, ignoring those already queued (by key); one statement written once, run for every row."""
    insert_ignoring_many(EmailMessage, rows)
