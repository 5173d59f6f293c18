"""The PostgreSQL pool: no liveness round trip for a connection just handed back; a dead idle one is replaced.

Runs against PostgreSQL whichever backend the suite tests (its own server on the SQLite run).
"""

from __future__ import annotations

import time

import psycopg2
import psycopg2.extensions
import pytest

from bridge.storage.db import ALIVE_BYPASS, PostgresPool
from tests.pgserver import PostgresServer


class CountingCursor(psycopg2.extensions.cursor):
    """A real psycopg2 cursor that also remembers what it ran."""

    statements: list[str] = []

    def execute(self, query, vars=None):
        CountingCursor.statements.append(query if isinstance(query, str) else query.decode())
        return super().execute(query, vars)


@pytest.fixture
def pool(postgres_server):
    server = postgres_server or PostgresServer().start()
    url = server.create_database(f"pool_{int(time.time() * 1000)}")
    name = url.rsplit("/", 1)[1]
    database = PostgresPool(name, host="127.0.0.1", port=server.port, user="postgres", max_connections=4,
                            stale_timeout=300, cursor_factory=CountingCursor)
    CountingCursor.statements = []
    yield database, url
    database.close_all()
    if postgres_server is None:
        server.stop()


def check_out(database):
    database.connect()
    pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    database.close()
    return pid


def test_a_connection_handed_back_just_now_is_not_pinged_an_idle_one_is(pool):
    database, _ = pool
    first = check_out(database)
    CountingCursor.statements.clear()
    assert check_out(database) == first  # the same connection, straight back
    assert "SELECT 1" not in CountingCursor.statements
    time.sleep(ALIVE_BYPASS + 0.2)
    assert check_out(database) == first
    assert "SELECT 1" in CountingCursor.statements  # idle for a while: pinged before use


def test_a_connection_the_server_dropped_while_idle_is_replaced(pool):
    database, url = pool
    first = check_out(database)
    killer = psycopg2.connect(url)
    killer.autocommit = True
    killer.cursor().execute("SELECT pg_terminate_backend(%s)", (first,))
    killer.close()
    time.sleep(ALIVE_BYPASS + 0.2)
    second = check_out(database)  # the ping finds it dead; a new connection serves the query
    assert second != first
