"""Durations written as admins write them: `90s`, `30m`, `48h`, `7d`, `2w`, `1d12h`."""

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"(?:\d+[smhdw])+")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: object) -> timedelta:
    """Parse a duration string strictly; raise ValueError with the accepted forms otherwise."""
    if not isinstance(text, str) or not _WHOLE.fullmatch(text.strip()):
        raise ValueError(f'expected a duration like "48h", "7d" or "30m", got {text!r}')
    total = timedelta()
    for number, unit in _PART.findall(text.strip()):
        total += timedelta(**{_UNIT[unit]: int(number)})
    if total <= timedelta(0):
        raise ValueError(f"expected a duration longer than zero, got {text!r}")
    return total


def format_duration(value: timedelta) -> str:
    """Write a duration back in the shortest admin form (`2d`, `36h`, `90m`)."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
