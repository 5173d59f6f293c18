"""Versioned schema migrations. Never edit one that has shipped: add the next version instead.

Each migration declares the tables as they were at that version (not the live models), so that a
fresh database and an upgraded one end up identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import peewee

from bridge.storage.db import db, is_postgresql
from bridge.storage.fields import UTCDateTimeField
from bridge.storage.models import SchemaVersion


class SchemaOutOfDate(RuntimeError):
    """The database schema is older (or newer) than this version of bridge expects."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[peewee.Database], None]


def _table(table_name: str, **columns) -> type[peewee.Model]:
    """Declare a table as it is at one migration, bound to the live database."""
    meta = type("Meta", (), {"database": db, "table_name": table_name})
    return type(f"_{table_name}", (peewee.Model,), {**columns, "Meta": meta})


def _v1_base(database: peewee.Database) -> None:
    tables = [
        _table("schema_version", version=peewee.IntegerField(primary_key=True),
               description=peewee.TextField(), applied_at=UTCDateTimeField()),
        _table("job_state", name=peewee.CharField(max_length=200, primary_key=True),
               owner=peewee.CharField(max_length=200, null=True), lease_until=UTCDateTimeField(null=True),
               last_run_for=UTCDateTimeField(null=True), last_error=peewee.TextField(null=True)),
        _table("job_run", name=peewee.CharField(max_length=200, index=True), owner=peewee.CharField(max_length=200),
               run_for=UTCDateTimeField(), started_at=UTCDateTimeField(), finished_at=UTCDateTimeField(null=True),
               outcome=peewee.CharField(max_length=20, default="running"), detail=peewee.TextField(null=True)),
    ]
    database.create_tables(tables)


def _v2_ledger(database: peewee.Database) -> None:
    from bridge.storage import models as m

    # Built from the live models while they are unchanged since version 2. The first change to any of
    # them must first copy their version-2 definitions here (as _v1_base does), then add version 3.
    database.create_tables([m.OrderFact, m.ClaimFact, m.OverrideFact, m.MembershipRow, m.GroupRow, m.MemberTag,
                            m.Reward, m.Payout, m.Clawback])


def _v3_referral(database: peewee.Database) -> None:
    from bridge.storage import models as m

    # Same rule as version 2: freeze these definitions here before the models change.
    database.create_tables([m.Advocate, m.ReferralClaim, m.ReferralDecisionRow, m.WelcomeCoupon])


MIGRATIONS: list[Migration] = [
    Migration(1, "base: schema versions, job leases and runs", _v1_base),
    Migration(2, "ledger: order facts, claims, overrides, memberships, groups, tags, rewards, payouts, clawbacks",
              _v2_ledger),
    Migration(3, "referral: advocates, referral claims, decisions and welcome coupons", _v3_referral),
]


def latest_version() -> int:
    """Return the version this code expects."""
    return MIGRATIONS[-1].version


def current_version() -> int:
    """Return the version of the bound database (0 when it is empty)."""
    if not db.table_exists("schema_version"):
        return 0
    return SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar() or 0


def upgrade() -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return those applied."""
    applied = []
    for migration in MIGRATIONS:
        with db.atomic():
            _lock_for_migration()
            if current_version() >= migration.version:
                continue
            migration.apply(db.obj)
            SchemaVersion.create(version=migration.version, description=migration.description,
                                 applied_at=datetime.now(timezone.utc))
        applied.append(migration)
    return applied


def require_current() -> None:
    """Raise SchemaOutOfDate unless the database is at the latest version."""
    found, wanted = current_version(), latest_version()
    if found < wanted:
        raise SchemaOutOfDate(
            f"the database schema is at version {found}, this bridge needs {wanted}: run `bridge db upgrade`")
    if found > wanted:
        raise SchemaOutOfDate(
            f"the database schema is at version {found}, newer than this bridge ({wanted}): upgrade bridge")


def _lock_for_migration() -> None:
    """Make concurrent upgrades wait for each other instead of applying a migration twice."""
    # SQLite needs nothing more: its transactions begin IMMEDIATE (see storage.db).
    if is_postgresql():
        db.execute_sql("SELECT pg_advisory_xact_lock(7270001)")
