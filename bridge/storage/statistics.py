"""PostgreSQL's planner statistics kept up with tables that grow fast, as during a shop's first import.

Autovacuum analyzes a table once a tenth of it has changed, and looks once a minute. An import can
multiply the tables within that minute; with the statistics of nearly empty tables, the planner read
a campaign's decisions through its time index, every row of the campaign for every batch of orders:
2 ms a lookup at 10,000 orders, growing with the table, and 0.6 ms once analyzed. So ingestion looks
at PostgreSQL's own count of the rows changed since the last ANALYZE, every CHECK_EVERY orders it
stores, and analyzes the tables it reads once that count reaches half their size.
"""

from __future__ import annotations

import threading

from bridge.storage.db import db, is_postgresql

TABLES = ("order_fact", "claim_fact", "membership", "group", "member_tag")
CHECK_EVERY = 1000  # orders stored by this process between two looks at the counts
AT_LEAST = 1000  # rows changed before a table is worth analyzing at all

_lock = threading.Lock()
_stored = 0


def keep_statistics(orders: int) -> None:
    """Count the orders this process stored; now and then, ANALYZE the tables that changed by half since theirs."""
    global _stored
    if orders <= 0 or not is_postgresql():
        return
    with _lock:
        _stored += orders
        if _stored < CHECK_EVERY:
            return
        _stored = 0
    analyze([name for name, changed, rows in db.execute_sql(
        "SELECT s.relname, s.n_mod_since_analyze, c.reltuples FROM pg_stat_user_tables s"
        " JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = current_schema() AND s.relname IN %s",
        (TABLES,)).fetchall() if changed >= max(AT_LEAST, rows / 2)], wait=False)


def analyze(tables: list[str] | tuple[str, ...] = TABLES, wait: bool = True) -> None:
    """ANALYZE these tables now, on PostgreSQL; without `wait`, one another process is analyzing is left to it."""
    if tables and is_postgresql():
        db.execute_sql(("ANALYZE " if wait else "ANALYZE (SKIP_LOCKED) ") + ", ".join(f'"{name}"' for name in tables))
