"""API tokens for the read API: generated here, shown once, kept as their SHA-256, scoped to one shop."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from bridge.storage.models import ApiToken

USED_EVERY = timedelta(minutes=1)  # how finely "last used" is kept
PREFIX = "bt_"  # so that a token pasted in the wrong place is recognisable (and found by secret scanners)


class TokenRefused(Exception):
    """A token that does not open this shop: `status` 401 (missing, unknown, revoked) or 403 (another shop's)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(shop: str, name: str, now: datetime) -> str:
    """A new token (256 bits) for a shop; the clear value is returned once and never stored."""
    if ApiToken.select().where((ApiToken.shop == shop) & (ApiToken.name == name)).exists():
        raise ValueError(f"shop {shop!r} already has a token named {name!r} (revoke it first, or choose another name)")
    token = PREFIX + secrets.token_urlsafe(32)
    ApiToken.create(shop=shop, name=name, token_hash=digest(token), created_at=now)
    return token


def revoke_token(shop: str, name: str, now: datetime) -> bool:
    """Make a token useless at once; its row stays (when it was used last, who it was)."""
    return ApiToken.update(revoked_at=now, name=f"{name} (revoked {now:%Y-%m-%d %H:%M:%S})").where(
        (ApiToken.shop == shop) & (ApiToken.name == name) & ApiToken.revoked_at.is_null()).execute() == 1


def check_token(authorization: str | None, shop: str, now: datetime) -> ApiToken:
    """The token an `Authorization: Bearer ...` header carries, if it opens this shop; else TokenRefused."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRefused(401, "missing_token", "send the shop's API token as `Authorization: Bearer bt_...` "
                                                 "(`bridge tokens create SHOP NAME` makes one)")
    # (looked up by its SHA-256: a timing difference can only tell about hashes, not about the token)
    row = ApiToken.get_or_none(ApiToken.token_hash == digest(token.strip()))
    if row is None or row.revoked_at is not None:
        raise TokenRefused(401, "bad_token", "this token is unknown or revoked")
    if row.shop != shop:
        raise TokenRefused(403, "wrong_shop", f"this token is for another shop, not {shop!r}")
    if row.last_used_at is None or now - row.last_used_at >= USED_EVERY:  # (not a write per request)
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row
