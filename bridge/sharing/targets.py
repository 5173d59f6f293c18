"""What a share code names: a social-buying group (with a member's tag) or a referral advocate.

A share link is `/r/<code>` or `/r/<code>/<tag>` (the tag names the member who shared it). It leads
to the shop's own site with `?bridge=<code>[.<tag>]`, which the widget keeps until the thank-you page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge.config.model import Config
from bridge.ledger.decisions import sponsor_of
from bridge.storage.compiled import select
from bridge.storage.memos import Memo
from bridge.storage.models import Advocate, GroupRow

PARAM = "bridge"  # the query parameter that carries the code on the shop's pages
CODE = re.compile(r"[0-9A-Z]{8,32}")
# What a click needs of a group (campaign, founder, closing time) never changes once the group exists.
_targets = Memo("targets")


@dataclass(frozen=True)
class Target:
    """What a code names: a social-buying group or a referral advocate."""

    kind: str  # group | advocate
    campaign: object
    code: str
    group: GroupRow | None = None
    advocate: Advocate | None = None


def resolve(config: Config, code: str) -> Target | None:
    """Find the group or advocate a code belongs to (None for anything else, including malformed codes)."""
    code = (code or "").upper()
    if not CODE.fullmatch(code):
        return None
    campaigns = {c.id: c for c in config.campaigns}
    found = select(GroupRow, "group_by_code", lambda: GroupRow.select().where(GroupRow.code == ":code"), code=code)
    group = found[0] if found else None
    if group is not None and group.campaign in campaigns:
        return Target("group", campaigns[group.campaign], code, group=group)
    advocate = Advocate.get_or_none(Advocate.code == code)
    if advocate is not None and advocate.campaign in campaigns:
        return Target("advocate", campaigns[advocate.campaign], code, advocate=advocate)
    return None


def resolve_for_click(config: Config, code: str) -> Target | None:
    """`resolve` for the click path, memoised. Unknown codes are not memoised (a group may appear)."""
    key = (code or "").upper()
    target = _targets.get(key)
    if target is None:
        target = resolve(config, code)
        if target is not None:
            _targets.put(key, target)
    return target


def tag_of(target: Target, tag: str | None) -> str | None:
    """Keep a member's tag only if it belongs to a member of this very group."""
    if not tag or target.kind != "group" or not CODE.fullmatch(tag.upper()):
        return None
    return tag.upper() if sponsor_of(target.campaign, target.group.founder_id, tag) else None
