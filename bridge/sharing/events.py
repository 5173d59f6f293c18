"""What the widget tells of a link: shown on a thank-you page, shared through a channel, landed on a shop's page.

Counted for the owner's statistics only (nothing is paid on them), so they are checked no further than
this: a known code of that shop, a known kind and channel. The IP is not kept.
"""

from __future__ import annotations

from datetime import datetime

from bridge.config.model import Config
from bridge.sharing.clicks import CHANNELS
from bridge.sharing.targets import CODE, resolve_for_click
from bridge.storage.compiled import execute, sentinel
from bridge.storage.models import LinkEvent

KINDS = frozenset({"view", "share", "landing"})


class BadEvent(ValueError):
    """An event that names no known link of the shop, or an unknown kind or channel."""


def record_event(config: Config, shop_id: str, kind: str, link: str, channel: str | None, now: datetime) -> None:
    """Store one link event; `link` is `CODE` or `CODE/TAG` (or `CODE.TAG`, as the widget keeps it)."""
    if kind not in KINDS:
        raise BadEvent(f"kind must be one of {', '.join(sorted(KINDS))}")
    if channel and channel not in CHANNELS:
        raise BadEvent(f"channel must be one of {', '.join(sorted(CHANNELS))}")
    code, _, tag = link.replace(".", "/").partition("/")
    target = resolve_for_click(config, code)
    if target is None or target.campaign.shop != shop_id or (tag and not CODE.fullmatch(tag.upper())):
        raise BadEvent("no such link in this shop")
    fields = ("shop", "campaign", "code", "tag", "kind", "channel", "at")
    values = dict(shop=shop_id, campaign=target.campaign.id, code=target.code, tag=tag.upper() or None, kind=kind,
                  channel=channel or None, at=LinkEvent.at.db_value(now))
    execute("insert_link_event", lambda: LinkEvent.insert({getattr(LinkEvent, f): sentinel(f) for f in fields}), **values)
