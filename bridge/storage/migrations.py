"""Versioned schema migrations. Never edit one that has shipped: add the next version instead.

Each migration declares the tables as they were at that version (not the live models), so that a
fresh database and an upgraded one end up identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Callable

import peewee

from bridge.storage import models as m
from bridge.storage.db import db, is_postgresql
from bridge.storage.fields import AmountField, UTCDateTimeField
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
    # Built from the live models while they are unchanged since version 2. The first change to any of
    # them must first copy their version-2 definitions here (as _v1_base does), then add version 3.
    database.create_tables([_V2OrderFact, m.ClaimFact, m.OverrideFact, m.MembershipRow, m.GroupRow, m.MemberTag,
                            m.Reward, m.Payout, m.Clawback])


class _V2OrderFact(peewee.Model):
    """order_fact as version 2 made it (version 7 adds the payment instant's source and bridge's own refunds)."""
    shop = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    currency = peewee.CharField(max_length=3)
    paid = peewee.BooleanField()
    paid_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()
    modified_at = UTCDateTimeField(null=True)
    total = AmountField()
    refunded = AmountField()
    cancelled = peewee.BooleanField()
    lines = peewee.TextField()
    customer_id = peewee.CharField(max_length=64, null=True)
    email = peewee.CharField(max_length=254, null=True)
    email_norm = peewee.CharField(max_length=254, null=True, index=True)
    billing_address = peewee.TextField(null=True)
    ip = peewee.CharField(max_length=64, null=True)
    user_agent = peewee.TextField(null=True)

    class Meta:
        database = db
        table_name = "order_fact"
        indexes = ((("shop", "order_id"), True),)


def _v7_order_facts(database: peewee.Database) -> None:
    from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

    migrator = PostgresqlMigrator(database) if is_postgresql() else SqliteMigrator(database)
    migrate(migrator.add_column("order_fact", "paid_at_source", peewee.CharField(max_length=16, default="shop")),
            migrator.add_column("order_fact", "own_refunded", AmountField(default=Decimal(0))),
            migrator.add_column("order_fact", "refunded_lines", peewee.TextField(default="[]")),
            migrator.add_column("order_fact", "refunded_shipping", AmountField(default=Decimal(0))))


def _v3_referral(database: peewee.Database) -> None:
    # Same rule as version 2: freeze these definitions here before the models change.
    database.create_tables([_V3Advocate, m.ReferralClaim, m.ReferralDecisionRow, m.WelcomeCoupon])


class _V3Advocate(peewee.Model):
    """advocate as version 3 made it (version 11 adds the referrer's first name)."""
    campaign = peewee.CharField(max_length=64)
    code = peewee.CharField(max_length=32, unique=True)
    email_norm = peewee.CharField(max_length=254)
    email = peewee.CharField(max_length=254)
    order_id = peewee.CharField(max_length=64, null=True)
    created_at = UTCDateTimeField()

    class Meta:
        database = db
        table_name = "advocate"
        indexes = ((("campaign", "email_norm"), True),)


def _v4_shop_secrets(database: peewee.Database) -> None:
    # Same rule as version 2: freeze this definition here before the model changes.
    database.create_tables([m.ShopSecret, m.SyncCursor])


def _v5_delivery(database: peewee.Database) -> None:
    # Same rule as version 2: freeze these definitions here before the models change.
    database.create_tables([m.EmailMessage, m.BankAccount, m.SepaBatch, m.SepaBatchItem])


def _v6_attribution(database: peewee.Database) -> None:
    # Same rule as version 2: freeze these definitions here before the models change.
    database.create_tables([m.Click, m.Product])



def _v8_memo_versions(database: peewee.Database) -> None:
    # Same rule as version 2: freeze this definition here before the model changes.
    database.create_tables([m.MemoVersion])


def _add_column(database: peewee.Database, table: str, name: str, field: peewee.Field) -> None:
    from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

    migrator = PostgresqlMigrator(database) if is_postgresql() else SqliteMigrator(database)
    migrate(migrator.add_column(table, name, field))


def _v9_order_coupons(database: peewee.Database) -> None:
    _add_column(database, "order_fact", "coupons", peewee.TextField(default="[]"))


def _v10_order_stored_code(database: peewee.Database) -> None:
    _add_column(database, "order_fact", "stored_code", peewee.CharField(max_length=65, null=True))


def _v11_first_names(database: peewee.Database) -> None:
    _add_column(database, "order_fact", "first_name", peewee.CharField(max_length=64, null=True))
    _add_column(database, "advocate", "first_name", peewee.CharField(max_length=64, null=True))


def _v12_statistics(database: peewee.Database) -> None:
    # Same rule as version 2: freeze these definitions here before the models change.
    database.create_tables([m.LinkEvent, m.StatCount, m.LinkActivity, m.StatCursor, m.AdminAction, m.ShopSignal])
    m.StatCursor.insert_many([dict(name="click", last_id=0), dict(name="link_event", last_id=0)]).execute()
    from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

    migrator = PostgresqlMigrator(database) if is_postgresql() else SqliteMigrator(database)
    # the dashboard reads a campaign's decisions by payment instant, for the period it shows
    migrate(migrator.add_index("membership", ("campaign", "paid_at"), False),
            migrator.add_index("reward", ("campaign", "created_at"), False))



def _v13_buyer_stats_and_custom_keys(database: peewee.Database) -> None:
    # Same rule as version 2: freeze these definitions here before the models change.
    database.create_tables([m.BuyerStat, m.BuyerMark, m.StatDay, m.CustomOrderKey])
    # the days of the hourly counts by channel and site rolled up so far
    day = (peewee.fn.date_trunc("day", m.StatCount.hour) if is_postgresql()
           else peewee.fn.substr(m.StatCount.hour, 1, 10).concat(" 00:00:00"))
    m.StatDay.insert_from(m.StatCount.select(m.StatCount.shop, m.StatCount.campaign, day, m.StatCount.kind, m.StatCount.dim,
                                             peewee.fn.SUM(m.StatCount.count)).where(m.StatCount.dim != "").group_by(
        m.StatCount.shop, m.StatCount.campaign, day, m.StatCount.kind, m.StatCount.dim),
        [m.StatDay.shop, m.StatDay.campaign, m.StatDay.day, m.StatDay.kind, m.StatDay.dim, m.StatDay.count]).execute()
    # every paid order is marked: the roll-up works their rows out, oldest first (sponsors before their friends)
    m.BuyerMark.insert_from(m.OrderFact.select(m.OrderFact.shop, m.OrderFact.order_id).where(
        m.OrderFact.paid_at.is_null(False)).order_by(m.OrderFact.paid_at, m.OrderFact.order_id),
        [m.BuyerMark.shop, m.BuyerMark.order_id]).execute()


def _v14_events(database: peewee.Database) -> None:
    # Same rule as version 2: freeze these definitions here before the models change.
    database.create_tables([m.Event, m.EventDelivery, m.EventAttempt, m.EndpointState, m.ApiToken, m.CouponCode])


MIGRATIONS: list[Migration] = [
    Migration(1, "base: schema versions, job leases and runs", _v1_base),
    Migration(2, "ledger: order facts, claims, overrides, memberships, groups, tags, rewards, payouts, clawbacks",
              _v2_ledger),
    Migration(3, "referral: advocates, referral claims, decisions and welcome coupons", _v3_referral),
    Migration(4, "shop secrets (webhook signing secrets generated by bridge) and sync cursors", _v4_shop_secrets),
    Migration(5, "delivery: e-mail outbox, bank accounts, SEPA batches", _v5_delivery),
    Migration(6, "attribution: clicks on share links, product cache", _v6_attribution),
    Migration(7, "order facts: where the payment instant came from, bridge's own refunds, what refunds named", _v7_order_facts),
    Migration(8, "memo versions: what web processes remember, forgotten by all of them when a writer bumps it",
              _v8_memo_versions),
    Migration(9, "order facts: the coupon codes used on each order (an attribution key of their own)", _v9_order_coupons),
    Migration(10, "order facts: the share code the shop stored on the order (the order-meta key)",
              _v10_order_stored_code),
    Migration(11, "first names: the buyer's on order facts, the referrer's on advocates (a banner may name them)",
              _v11_first_names),
    Migration(12, "dashboard: link events, counts per hour, link activity, roll-up cursors, admin actions; indexes by instant",
              _v12_statistics),
    Migration(13, "dashboard: a row per social-buying decision, the orders to work it out again, daily counts; custom shops' order keys",
              _v13_buyer_stats_and_custom_keys),
    Migration(14, "outbound events (outbox, deliveries per endpoint, delivery log, endpoints' health), API tokens, "
              "uploaded coupon codes",
              _v14_events),
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
