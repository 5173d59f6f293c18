"""Strict marshmallow fields for the values admins write: durations, percentages, money, zones."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from marshmallow import ValidationError, fields

from bridge.basics.durations import parse_duration
from bridge.basics.money import MoneyError, is_currency, parse_amount

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


class StrictString(fields.String):
    """A non-empty string (numbers and booleans are not silently turned into text)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            quote = " (put it in quotes to make it text)" if isinstance(value, (int, float, bool)) else ""
            raise ValidationError(f"expected text, got {_kind(value)}{quote}")
        if not value.strip():
            raise ValidationError("must not be empty")
        return value


class Identifier(fields.String):
    """A lower-case id used in URLs and the CLI (`maboutique`, `summer-2026`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not _ID.fullmatch(value):
            raise ValidationError(
                f"expected an id of lower-case letters, digits, '-' or '_' (at most 63), got {value!r}")
        return value


class StrictInteger(fields.Integer):
    """An integer written as a number, never a string or a boolean."""

    def __init__(self, minimum: int | None = None, maximum: int | None = None, **kwargs) -> None:
        super().__init__(strict=True, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"expected a whole number, got {_kind(value)}")
        if self.minimum is not None and value < self.minimum:
            raise ValidationError(f"must be at least {self.minimum}, got {value}")
        if self.maximum is not None and value > self.maximum:
            raise ValidationError(f"must be at most {self.maximum}, got {value}")
        return value


class StrictBoolean(fields.Boolean):
    """true or false, nothing else (not "yes", not 1)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError(f"expected true or false, got {value!r}")
        return value


class Choice(fields.String):
    """One of a fixed set of words."""

    def __init__(self, choices: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.choices = choices

    def _deserialize(self, value, attr, data, **kwargs):
        if value not in self.choices:
            raise ValidationError(f"expected one of {', '.join(self.choices)}, got {value!r}")
        return value


class Duration(fields.Field):
    """A duration like `48h` or `7d`, loaded as a timedelta."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class DurationOrOff(Duration):
    """A duration, or `off` (loaded as None) for something that can be switched off."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
            return None
        return super()._deserialize(value, attr, data, **kwargs)


class Amount(fields.Field):
    """A non-negative money amount written as a string ("3.00") or a whole number."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            amount = parse_amount(value)
        except MoneyError as exc:
            raise ValidationError(str(exc)) from None
        if amount < 0:
            raise ValidationError(f"must not be negative, got {value!r}")
        return amount


class Percent(fields.Field):
    """A percentage written "8%" or "12.5%", loaded as a fraction (Decimal 0.08)."""

    def _deserialize(self, value, attr, data, **kwargs):
        match = _PERCENT.fullmatch(value.strip()) if isinstance(value, str) else None
        if not match:
            raise ValidationError(f'expected a percentage like "8%", got {value!r}')
        fraction = Decimal(match.group(1)) / 100
        if fraction > 1:
            raise ValidationError(f"must be at most 100%, got {value!r}")
        return fraction


class PercentOrAmount(fields.Field):
    """Either a percentage ("8%") or an amount ("3.00"): ('percent', 0.08) or ('fixed', 3.00)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip().endswith("%"):
            return ("percent", Percent()._deserialize(value, attr, data))
        try:
            amount = parse_amount(value)
        except MoneyError:
            raise ValidationError(
                f'expected a percentage like "8%" or an amount like "3.00", got {value!r}') from None
        if amount < 0:
            raise ValidationError(f"must not be negative, got {value!r}")
        return ("fixed", amount)


class Currency(fields.String):
    """An ISO 4217 currency code such as EUR."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not is_currency(value):
            raise ValidationError(f"expected an ISO 4217 currency code like EUR or USD, got {value!r}")
        return value


class TimeZone(fields.String):
    """An IANA time zone name such as Europe/Paris."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or value not in _zones():
            raise ValidationError(f"expected an IANA time zone like Europe/Paris, got {value!r}")
        try:
            ZoneInfo(value)
        except ZoneInfoNotFoundError:  # listed but not loadable on this machine
            raise ValidationError(f"time zone {value!r} is not installed") from None
        return value


class HttpUrl(fields.String):
    """An absolute http(s) URL with a host and no query, fragment or credentials."""

    def _deserialize(self, value, attr, data, **kwargs):
        parts = urlsplit(value) if isinstance(value, str) else None
        if not parts or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(f"expected an http:// or https:// URL, got {value!r}")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValidationError(f"expected a URL without query, fragment or credentials, got {value!r}")
        try:
            port = parts.port  # urlsplit checks the port only when asked
        except ValueError:
            port = -1
        if port is not None and not 1 <= port <= 65535:
            raise ValidationError(f"the port must be a number from 1 to 65535, got {value!r}")
        return value.rstrip("/")


class Iban(fields.String):
    """An IBAN (spaces allowed), checked by schwifty: country, length, bank code, checksum."""

    def _deserialize(self, value, attr, data, **kwargs):
        from schwifty import IBAN

        try:
            return IBAN(value).compact
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"not a valid IBAN ({exc})") from None


class Bic(fields.String):
    """A BIC of 8 or 11 characters, checked by schwifty."""

    def _deserialize(self, value, attr, data, **kwargs):
        from schwifty import BIC

        try:
            return BIC(value).compact
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"not a valid BIC ({exc})") from None


class Colour(fields.String):
    """A colour written #rrggbb (it goes into e-mails and the widget, so nothing else is accepted)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValidationError(f'expected a colour like "#1f6feb", got {value!r}')
        return value.lower()


class DatabaseUrl(fields.String):
    """sqlite:///path or postgresql://user:password@host:port/name."""

    def _deserialize(self, value, attr, data, **kwargs):
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts and parts.scheme == "sqlite" and (parts.path or value == "sqlite:///:memory:"):
            return value
        if parts and parts.scheme in ("postgresql", "postgres") and parts.path.strip("/"):
            return value
        raise ValidationError("expected sqlite:///path/to/file.db or postgresql://user:password@host/name")


class Day(fields.Field):
    """A calendar date written 2026-06-01."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValidationError(f"expected a date like 2026-06-01, got {value!r}") from None


class ProductSelection(fields.Field):
    """`same`, `any`, or a list of product ids."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("same", "any"):
            return value
        if isinstance(value, list) and value and all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                                     for v in value):
            return tuple(str(v) for v in value)
        raise ValidationError(f"expected same, any, or a list of product ids, got {value!r}")


class DomainList(fields.Field):
    """A list of site domains (`dealabs.com`), lower-cased; each also covers its subdomains."""

    DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ValidationError(f"expected a list of domains like dealabs.com, got {_kind(value)}")
        domains = []
        for item in value:
            domain = item.strip().lower().removeprefix("www.") if isinstance(item, str) else None
            if not domain or not self.DOMAIN.fullmatch(domain):
                raise ValidationError(f"expected a domain like dealabs.com (no scheme, no path), got {item!r}")
            domains.append(domain)
        return tuple(dict.fromkeys(domains))


def _zones() -> frozenset:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


_ZONES = None


def _kind(value) -> str:
    """Name a YAML value's type as an admin would."""
    if value is None:
        return "nothing"
    return {bool: "true/false", int: "a number", float: "a number", str: f"text {value!r}",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)
