"""The database handle: one proxy bound at start-up to SQLite or PostgreSQL from a URL."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

import peewee

from bridge.storage.fields import COLUMN_TYPES

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
        return peewee.SqliteDatabase(
            path or ":memory:", field_types=COLUMN_TYPES["sqlite"], lock_type="IMMEDIATE",
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 15000, "synchronous": "normal",
                     "cache_size": -65536})  # 64 MiB: the working set of a busy shop stays in memory
    if parts.scheme in ("postgresql", "postgres"):
        return peewee.PostgresqlDatabase(
            parts.path.lstrip("/"), user=unquote(parts.username or "") or None,
            password=unquote(parts.password or "") or None, host=parts.hostname or None, port=parts.port,
            field_types=COLUMN_TYPES["postgresql"])
    raise ValueError(f"unsupported database URL scheme {parts.scheme!r}")


def bind(url: str) -> peewee.Database:
    """Point the proxy at the database of `url` and return it."""
    database = open_database(url)
    db.initialize(database)
    return database


def is_postgresql() -> bool:
    """Tell whether the bound database is PostgreSQL."""
    return isinstance(db.obj, peewee.PostgresqlDatabase)
