"""The database handle: one proxy bound at start-up to SQLite or PostgreSQL from a URL."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

import peewee
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from bridge.storage.fields import COLUMN_TYPES

# Connections are pooled: the web app takes one per request, and opening a connection (with its
# pragmas, or a PostgreSQL login) costs more than most requests do.
POOL = dict(max_connections=32, stale_timeout=300)

db = peewee.DatabaseProxy()


def open_database(url: str) -> peewee.Database:
    """Create (not connect) the database a URL names: sqlite:///path or postgresql://..."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("/") and not url.startswith("sqlite:////") else parts.path
        if path not in (":memory:", "") and os.path.dirname(path):
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # WAL lets readers work while the worker writes; busy_timeout makes writers wait, not fail;
        # IMMEDIATE transactions take the write lock at BEGIN, so two processes never deadlock on
        # upgrading a read lock.
        # A pooled connection moves between threads, one thread at a time: hence check_same_thread off.
        return PooledSqliteDatabase(
            path or ":memory:", field_types=COLUMN_TYPES["sqlite"], lock_type="IMMEDIATE", check_same_thread=False,
            **POOL,
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 15000, "synchronous": "normal",
                     "cache_size": -65536})  # 64 MiB: the working set of a busy shop stays in memory
    if parts.scheme in ("postgresql", "postgres"):
        return PooledPostgresqlDatabase(
            parts.path.lstrip("/"), **POOL, user=unquote(parts.username or "") or None,
            password=unquote(parts.password or "") or None, host=parts.hostname or None, port=parts.port,
            field_types=COLUMN_TYPES["postgresql"])
    raise ValueError(f"unsupported database URL scheme {parts.scheme!r}")


def bind(url: str) -> peewee.Database:
    """Point the proxy at the database of `url` and return it."""
    database = open_database(url)
    if isinstance(db.obj, (PooledSqliteDatabase, PooledPostgresqlDatabase)):
        db.obj.close_all()  # let go of the previous database's pooled connections
    db.initialize(database)
    return database


def is_postgresql() -> bool:
    """Tell whether the bound database is PostgreSQL."""
    return isinstance(db.obj, peewee.PostgresqlDatabase)
