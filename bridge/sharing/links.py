"""The addresses bridge gives people: share links and claim pages (one place, so e-mails and widget agree)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Callable


def share_url(public_url: str, code: str, tag: str | None = None) -> str:
    """A group's share link; `tag` names the member who shares it (so we know who brought whom)."""
    return f"{public_url.rstrip('/')}/r/{code}" + (f"/{tag}" if tag else "")


def claim_token(secret_key: str, payout_id: int, payout_key: str) -> str:
    """An unguessable token for a payout's claim page, derived (never stored) from the server's secret."""
    mac = hmac.new(secret_key.encode(), f"claim:{payout_key}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{payout_id}.{mac}"


def claim_url(public_url: str, secret_key: str, payout_id: int, payout_key: str) -> str:
    return f"{public_url.rstrip('/')}/claim/{claim_token(secret_key, payout_id, payout_key)}"


def check_claim_token(secret_key: str, token: str, key_of: Callable[[int], str | None]) -> int | None:
    """Return the payout id a token names, if genuine (compared in constant time); `key_of(id)` gives its key."""
    head, _, mac = token.partition(".")
    if not head.isdigit() or len(mac) != 32 or len(head) > 12:
        return None
    key = key_of(int(head))
    if key is None:
        return None
    return int(head) if hmac.compare_digest(claim_token(secret_key, int(head), key), token) else None
