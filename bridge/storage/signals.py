"""Signals of a shop's setup: the last webhook delivery accepted or refused, kept for the setup page."""

from __future__ import annotations

from datetime import datetime

from peewee import EXCLUDED

from bridge.storage.models import ShopSignal


def note_signal(shop: str, name: str, now: datetime, detail: str = "") -> None:
    """Record that `name` happened now for this shop (one row per shop and name, with a count)."""
    ShopSignal.insert(shop=shop, name=name, at=now, count=1, detail=detail[:500]).on_conflict(
        conflict_target=[ShopSignal.shop, ShopSignal.name],
        update={ShopSignal.at: EXCLUDED.at, ShopSignal.detail: EXCLUDED.detail,
                ShopSignal.count: ShopSignal.count + 1}).execute()
