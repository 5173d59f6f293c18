"""The database handle: one proxy bound at start-up to SQLite or PostgreSQL from a URL."""

from __future__ import annotations

import os
import time
from urllib.parse import unquote, urlsplit

import peewee
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from bridge.storage.fields import COLUMN_TYPES

# Connections are pooled: the web app takes one per request, and opening a connection (with its
# pragmas, or a PostgreSQL login) costs more than most requests do.
POOL = dict(max_connections=32, stale_timeout=300)
ALIVE_BYPASS = 0.5  # seconds: a connection handed back this recently is not pinged again (as HikariCP does)

db = peewee.DatabaseProxy()


class PostgresPool(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool, without its liveness round trip (`SELECT 1`) on every check-out of a
    connection that was handed back less than ALIVE_BYPASS ago: on a busy server that round trip
    doubled the cost of a click. An idle connection is still pinged before it is used again."""

    def __init__(self, *args, **kwargs) -> None:
        self._returned: dict[int, float] = {}
        super().__init__(*args, **kwargs)

    def _is_closed(self, conn):
        returned = self._returned.get(self.conn_key(conn))
        if (returned is not None and time.monotonic() - returned < ALIVE_BYPASS and not conn.closed
                and self._adapter.txn_status(conn) == self._adapter.txn_idle):
            return False
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        self._returned[self.conn_key(conn)] = time.monotonic()
        super()._close(conn, close_conn)

    def _close_raw(self, conn):
        self._returned.pop(self.conn_key(conn), None)
        super()._close_raw(conn)


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
        return PostgresPool(
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
