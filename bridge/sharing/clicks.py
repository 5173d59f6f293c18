"""Clicks counted on share links: the channel, the IP only as a salted daily hash, the browser's family."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bridge.sharing.targets import Target
from bridge.storage.compiled import execute, sentinel
from bridge.storage.memos import Memo
from bridge.storage.models import Click, ShopSecret
from bridge.storage.secrets import ensure_shop_secret

CHANNELS = frozenset({"whatsapp", "messenger", "facebook", "x", "email", "sms", "copy", "share", "qr"})
# Link-preview fetchers: they show the link in a chat, nobody clicked yet.
PREVIEW_AGENTS = re.compile(r"facebookexternalhit|facebot|whatsapp|twitterbot|slackbot|telegrambot|linkedinbot|"
                            r"discordbot|skypeuripreview|embedly|pinterest|redditbot|applebot|googlebot|bingbot",
                            re.IGNORECASE)
_salts = Memo("click salts", max_size=4)


def is_preview(user_agent: str | None) -> bool:
    """Tell whether a request comes from a chat's link-preview fetcher rather than a person."""
    return bool(user_agent and PREVIEW_AGENTS.search(user_agent))


def record_click(target: Target, tag: str | None, ip: str | None, user_agent: str | None, referrer: str | None,
                 channel: str | None, now: datetime) -> None:
    """Count a click: the IP only as a hash salted with today's salt, the browser's family, the referring site."""
    fields = ("shop", "campaign", "code", "tag", "at", "channel", "ip_hash", "ua_family", "referrer_domain")
    values = dict(shop=target.campaign.shop, campaign=target.campaign.id, code=target.code, tag=tag,
                  at=Click.at.db_value(now), channel=channel if channel in CHANNELS else None,
                  ip_hash=ip_hash(ip, now) if ip else None, ua_family=ua_family(user_agent),
                  referrer_domain=((urlsplit(referrer).hostname or None) if referrer else None))
    # One INSERT in autocommit mode: atomic on its own, without a BEGIN and a COMMIT around it.
    execute("insert_click", lambda: Click.insert({getattr(Click, f): sentinel(f) for f in fields}), **values)


def ip_hash(ip: str, now: datetime) -> str:
    """Hash an IP with a random salt that changes every day (older salts are deleted: old hashes can't be matched)."""
    day = f"{now:%Y-%m-%d}"
    salt = _salts.get(day)
    if salt is None:
        salt = ensure_shop_secret("*", f"click-salt:{day}")
        ShopSecret.delete().where((ShopSecret.shop == "*") & ShopSecret.name.startswith("click-salt:")
                                  & (ShopSecret.name < f"click-salt:{(now - timedelta(days=1)):%Y-%m-%d}")).execute()
        _salts.clear()
        _salts.put(day, salt)
    return hmac.new(salt.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]


def ua_family(user_agent: str | None) -> str | None:
    """A browser family, enough for statistics and nothing more."""
    if not user_agent:
        return None
    ua = user_agent.lower()
    for needle, family in (("edg/", "edge"), ("opr/", "opera"), ("samsungbrowser", "samsung"), ("firefox", "firefox"),
                           ("fxios", "firefox"), ("crios", "chrome"), ("chrome", "chrome"), ("safari", "safari")):
        if needle in ua:
            return family + ("-mobile" if "mobile" in ua else "")
    return "other"
