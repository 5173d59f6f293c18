"""Storage: the peewee database (SQLite or PostgreSQL), models, migrations, row mappers, memos, health.

Imports: rewards only (the row mappers turn rows into the engine's facts).
"""

from bridge.storage.db import bind, db, is_postgresql
from bridge.storage.migrations import (
           SchemaOutOfDate,
           current_version,
           latest_version,
           require_current,
           upgrade,
)

__all__ = ["bind", "current_version", "db", "is_postgresql", "latest_version", "require_current",
           "SchemaOutOfDate", "upgrade"]
