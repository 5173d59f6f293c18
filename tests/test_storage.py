"""Storage: migrations, exact amounts and UTC instants, on SQLite and PostgreSQL alike."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bridge.storage import (
    SchemaOutOfDate,
    bind,
    current_version,
    is_postgresql,
    latest_version,
    require_current,
    upgrade,
)
from bridge.storage.db import db
from bridge.storage.fields import AmountField, UTCDateTimeField
from bridge.storage.models import BaseModel


def test_upgrade_from_empty_is_idempotent(config):
    bind(config.server.database_url)
    with db.connection_context():
        assert current_version() == 0
        with pytest.raises(SchemaOutOfDate, match="run `bridge db upgrade`"):
            require_current()
        assert [m.version for m in upgrade()] == list(range(1, latest_version() + 1))
        assert upgrade() == []
        require_current()
        assert current_version() == latest_version()


def test_backend_is_the_one_under_test(migrated):
    from tests.conftest import BACKEND

    assert is_postgresql() == (BACKEND == "postgresql")


class Sample(BaseModel):
    amount = AmountField()
    at = UTCDateTimeField()


def test_amounts_round_trip_exactly_and_instants_stay_utc(migrated):
    db.create_tables([Sample])
    paris = timezone(timedelta(hours=2))
    values = [Decimal("0.10"), Decimal("19.99"), Decimal("123456789012.345678"), Decimal("-3.000001")]
    for value in values:
        Sample.create(amount=value, at=datetime(2026, 7, 1, 14, 0, tzinfo=paris))
    rows = list(Sample.select().order_by(Sample.id))
    assert [r.amount for r in rows] == values
    assert rows[0].at == datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert rows[0].at.tzinfo == timezone.utc


def test_naive_datetimes_and_float_amounts_are_refused(migrated):
    db.create_tables([Sample])
    with pytest.raises(TypeError, match="timezone-aware"):
        Sample.create(amount=Decimal(1), at=datetime(2026, 7, 1))
    with pytest.raises(TypeError, match="amounts are Decimal"):
        Sample.create(amount=1.5, at=datetime(2026, 7, 1, tzinfo=timezone.utc))


def test_newer_schema_than_code_is_refused(migrated):
    from bridge.storage.models import SchemaVersion

    SchemaVersion.create(version=latest_version() + 1, description="from the future",
                         applied_at=datetime.now(timezone.utc))
    with pytest.raises(SchemaOutOfDate, match="newer than this bridge"):
        require_current()
