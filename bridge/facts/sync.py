"""Reading a shop's orders: backfill from a start date, then incremental polls from a saved cursor.

Cursor rules (STYLE.md): read from the cursor minus an overlap; upsert, so a re-read is harmless;
save the cursor after each page in the same transaction as the page; never move it past the
instant the sync started (orders modified during the sync are read again next time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timezone
from typing import Callable

from bridge.config.model import Config, Shop
from bridge.connectors import connector_for
from bridge.connectors.base import Connector
from bridge.facts.ingest import ingest
from bridge.storage.db import db
from bridge.storage.models import SyncCursor
from bridge.storage.statistics import analyze

_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
# After a sync this large, PostgreSQL's statistics are refreshed at once: with the empty-table ones,
# the planner scanned every order of the shop for each group's members until autovacuum caught up.
# (During the sync, ingestion refreshes them as the tables grow: bridge/storage/statistics.py.)
ANALYZE_AFTER = 1000
log = logging.getLogger("bridge.facts.sync")


@dataclass(frozen=True)
class SyncResult:
    shop: str
    since: datetime
    orders: int
    pages: int
    cursor: datetime | None


def sync_start(shop: Shop, cursor: SyncCursor | None) -> datetime:
    """Where a sync starts: the saved cursor minus the overlap, or the backfill date for a first sync."""
    if cursor is not None:
        return cursor.modified_after - shop.sync.overlap
    if shop.sync.backfill_from is not None:
        return datetime.combine(shop.sync.backfill_from, time(0), tzinfo=timezone.utc)
    return _EPOCH


def sync_shop(config: Config, shop_id: str, now: datetime, progress: Callable[[int], None] | None = None,
              connector: Connector | None=None) -> SyncResult:
    """Read every order changed since the cursor, page by page, ingesting each page with the cursor."""
    shop = config.shop(shop_id)
    connector = connector or connector_for(shop)
    cursor = SyncCursor.get_or_none(SyncCursor.shop == shop.id)
    since = sync_start(shop, cursor)
    orders = pages = 0
    position = cursor.modified_after if cursor else None
    for page in connector.fetch_changed(since):
        newest = max(o.modified_at or o.created_at for o in page)
        position = min(max(newest, position or newest), now)  # never past the sync's start
        with db.atomic():
            ingest(config, orders=page, now=now)
            SyncCursor.insert(shop=shop.id, modified_after=position, orders_read=len(page), updated_at=now).on_conflict(
                conflict_target=[SyncCursor.shop],
                update={SyncCursor.modified_after: position, SyncCursor.updated_at: now,
                        SyncCursor.orders_read: SyncCursor.orders_read + len(page)}).execute()
        orders, pages = orders + len(page), pages + 1
        if progress:
            progress(len(page))
    if orders >= ANALYZE_AFTER:
        analyze()
    return SyncResult(shop.id, since, orders, pages, position)
