"""Clicks and link events rolled up into hourly (and daily) counts and per-link activity, each row counted once.

The dashboard reads these counts instead of scanning every click. A cursor per source table says how
far it has been counted; a roll-up moves it with a compare-and-set in the same transaction as the counts
it adds, so that two processes rolling up at once cannot count a row twice. A buyer's link shared or clicked
for the first time marks the buyer's order for `ledger.buyers` (the statistics' time to the first share).
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timedelta

from peewee import EXCLUDED, fn

from bridge.ledger.buyers import mark
from bridge.storage.bulk import chunks
from bridge.storage.db import db
from bridge.storage.models import Click, LinkActivity, LinkEvent, MemberTag, StatCount, StatCursor, StatDay

BATCH = 20000  # source rows per transaction
# A row younger than this waits for the next roll-up: on PostgreSQL ids are handed out before commit,
# so a row with a smaller id may still become visible after a younger one was counted.
SETTLE = timedelta(seconds=10)
SOURCES = {"click": Click, "link_event": LinkEvent}


class _Lost(Exception):
    """Another process counted this range first."""


def roll_up(now: datetime, batches: int | None = None) -> int:
    """Count every click and link event older than a few seconds that is not counted yet (at most `batches`
    transactions per source table); return how many."""
    total = 0
    for name, model in SOURCES.items():
        for _ in itertools.count() if batches is None else range(batches):
            try:
                with db.atomic():
                    counted, full = _roll_up_batch(name, model, now - SETTLE)
            except _Lost:
                counted, full = 0, False
            total += counted
            if not full:
                break
    return total


def _roll_up_batch(name: str, model, before: datetime) -> tuple[int, bool]:
    cursor = StatCursor.get_or_none(StatCursor.name == name)
    if cursor is None:  # (migration 12 writes both; a database emptied by hand has none)
        StatCursor.insert(name=name, last_id=0).on_conflict_ignore().execute()
    last = cursor.last_id if cursor else 0
    kind = model.kind if model is LinkEvent else None
    fields = [model.id, model.shop, model.campaign, model.code, model.tag, model.at, model.channel]
    fields += [kind] if kind is not None else [model.referrer_domain]
    rows = list(model.select(*fields).where(model.id > last).order_by(model.id).limit(BATCH).tuples())
    full = len(rows) == BATCH
    young = next((i for i, row in enumerate(rows) if row[5] >= before), None)
    if young is not None:  # stop at the first young row: nothing after it is counted before it is
        rows, full = rows[:young], False
    if not rows:
        return 0, False
    counts: Counter = Counter()
    activity: dict[tuple[str, str], dict] = {}
    shops: dict[tuple[str, str], str] = {}
    for _, shop, campaign, code, tag, at, channel, extra in rows:
        what = extra if kind is not None else "click"
        hour = at.replace(minute=0, second=0, microsecond=0)
        # one total and one row per channel (and per site for clicks) an hour: far fewer rows than every combination
        counts[(shop, campaign, hour, what, "")] += 1
        counts[(shop, campaign, hour, what, f"c:{channel or ''}")] += 1
        if kind is None:
            counts[(shop, campaign, hour, what, f"d:{(extra or '')[:253]}")] += 1
        if what == "landing":
            continue
        shops[(code, tag or "")] = shop
        link = activity.setdefault((code, tag or ""), dict(campaign=campaign, code=code, tag=tag or "", first_view_at=None,
                                                            first_share_at=None, first_click_at=None, shares=0, clicks=0))
        first = f"first_{what}_at"
        link[first] = link[first] if link[first] is not None and link[first] <= at else at
        link["shares"] += what == "share"
        link["clicks"] += what == "click"
    if StatCursor.update(last_id=rows[-1][0]).where((StatCursor.name == name) & (StatCursor.last_id == last)).execute() != 1:
        raise _Lost(name)
    key = [StatCount.shop, StatCount.hour, StatCount.campaign, StatCount.kind, StatCount.dim]
    for part in chunks([dict(shop=s, campaign=c, hour=h, kind=k, dim=d, count=n)
                        for (s, c, h, k, d), n in sorted(counts.items())]):
        StatCount.insert_many(part).on_conflict(
            conflict_target=key, update={StatCount.count: StatCount.count + EXCLUDED.count}).execute()
    days: Counter = Counter()
    for (s, c, h, k, d), n in counts.items():
        if d:
            days[(s, c, h.replace(hour=0), k, d)] += n
    key = [StatDay.shop, StatDay.day, StatDay.campaign, StatDay.kind, StatDay.dim]
    for part in chunks([dict(shop=s, campaign=c, day=h, kind=k, dim=d, count=n) for (s, c, h, k, d), n in sorted(days.items())]):
        StatDay.insert_many(part).on_conflict(
            conflict_target=key, update={StatDay.count: StatDay.count + EXCLUDED.count}).execute()
    _mark_first_uses(activity, shops)
    earliest = {f: fn.COALESCE(getattr(LinkActivity, f), getattr(EXCLUDED, f))
                for f in ("first_view_at", "first_share_at", "first_click_at")}
    for part in chunks(sorted(activity.values(), key=lambda a: (a["code"], a["tag"]))):
        LinkActivity.insert_many(part).on_conflict(conflict_target=[LinkActivity.code, LinkActivity.tag], update={
            **{getattr(LinkActivity, f): value for f, value in earliest.items()},
            LinkActivity.shares: LinkActivity.shares + EXCLUDED.shares,
            LinkActivity.clicks: LinkActivity.clicks + EXCLUDED.clicks}).execute()
    return len(rows), full


def _mark_first_uses(activity: dict[tuple[str, str], dict], shops: dict[tuple[str, str], str]) -> None:
    """Mark the buyers whose own link is shared or clicked earlier than known (the statistics' `shared_at`)."""
    used = {key: min(at for at in (link["first_share_at"], link["first_click_at"]) if at is not None)
            for key, link in activity.items() if key[1] and (link["first_share_at"] or link["first_click_at"])}
    if not used:
        return
    for part in chunks(sorted({tag for _, tag in used})):
        for code, tag, share, click in LinkActivity.select(LinkActivity.code, LinkActivity.tag, LinkActivity.first_share_at,
                                                           LinkActivity.first_click_at).where(
                LinkActivity.tag.in_(part)).tuples():
            known = min((at for at in (share, click) if at is not None), default=None)
            if (code, tag) in used and known is not None and known <= used[(code, tag)]:
                del used[(code, tag)]
    shop_of = {tag: shops[(code, tag)] for code, tag in used}
    keys = []
    for part in chunks(sorted(shop_of)):
        keys += [(shop_of[tag], order_id) for order_id, tag in MemberTag.select(MemberTag.order_id, MemberTag.tag).where(
            MemberTag.tag.in_(part)).tuples()]
    mark(keys)

