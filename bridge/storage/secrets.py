"""Secrets that bridge generates and keeps per shop (the webhook signing secret)."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

from bridge.storage.models import ShopSecret

WEBHOOK = "webhook"


def shop_secret(shop: str, name: str = WEBHOOK) -> str | None:
    """Return the stored secret, or None when bridge has not generated one yet."""
    row = ShopSecret.get_or_none((ShopSecret.shop == shop) & (ShopSecret.name == name))
    return row.value if row else None


def ensure_shop_secret(shop: str, name: str = WEBHOOK) -> str:
    """Return the stored secret, generating a random one (256 bits) the first time."""
    ShopSecret.insert(shop=shop, name=name, value=secrets.token_urlsafe(32),
                      created_at=datetime.now(timezone.utc)).on_conflict_ignore().execute()
    return shop_secret(shop, name)
