"""Column types that keep bridge's invariants: exact amounts and UTC instants."""

from datetime import datetime, timezone
from decimal import Decimal

import peewee

# Registered per database in storage.db: TEXT on SQLite (its NUMERIC affinity would turn amounts
# into floats), NUMERIC(20, 6) on PostgreSQL.
AMOUNT = "AMOUNT"
COLUMN_TYPES = {"sqlite": {AMOUNT: "TEXT"}, "postgresql": {AMOUNT: "NUMERIC(20, 6)"}}


class AmountField(peewee.Field):
    """An exact Decimal amount (its currency lives in a sibling column)."""

    field_type = AMOUNT

    def db_value(self, value: object) -> object:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"{self.name}: amounts are Decimal, got {type(value).__name__}")
        return str(value)

    def python_value(self, value: object) -> object:
        # PostgreSQL answers NUMERIC(20, 6) as 5.000000, SQLite as stored: read both as the shortest form.
        if value is None:
            return None
        number = Decimal(str(value))
        return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


class UTCDateTimeField(peewee.DateTimeField):
    """An aware datetime, stored as naive UTC and read back as aware UTC."""

    def db_value(self, value: object) -> object:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError(f"{self.name}: instants must be timezone-aware datetimes, got {value!r}")
        if value.tzinfo is timezone.utc:  # most instants are already UTC: no conversion to compute
            return value.replace(tzinfo=None)
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def python_value(self, value: object) -> object:
        if isinstance(value, str):
            try:  # SQLite's text form, read in C (peewee's own parser tries formats one by one)
                return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
            except ValueError:
                pass
        value = super().python_value(value)
        if isinstance(value, datetime):
            return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return value
