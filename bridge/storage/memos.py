"""Per-process memos of what rarely changes (a code's group, a product), kept apart for each bound database.

Every memo registers itself, so that `clear_all` forgets them all at once (tests, or after a change
in the shop) and none can be forgotten by a list kept by hand.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Callable, Hashable

from bridge.storage.db import db

_all: list["Memo"] = []


class Memo:
    """A bounded map from a key to a value, per database, optionally expiring `ttl` after it was stored."""

    def __init__(self, name: str, max_size: int = 100_000, ttl: timedelta | None = None) -> None:
        self.name, self.max_size, self.ttl = name, max_size, ttl
        self._items: dict[tuple, tuple[datetime | None, object]] = {}
        self._lock = threading.Lock()
        _all.append(self)

    def get(self, key: Hashable, now: datetime | None = None, default: object = None) -> object:
        """The value stored for `key` in the bound database (`default` if none, or expired at `now`)."""
        found = self._items.get((id(db.obj), key))
        if found is None or (self.ttl is not None and now is not None and now - found[0] >= self.ttl):
            return default
        return found[1]

    def __contains__(self, key: Hashable) -> bool:
        return (id(db.obj), key) in self._items

    def put(self, key: Hashable, value: object, now: datetime | None = None) -> object:
        """Store `value` for `key` (the whole memo is dropped when full: simple and bounded) and return it."""
        with self._lock:
            if len(self._items) >= self.max_size:
                self._items.clear()
            self._items[(id(db.obj), key)] = (now, value)
        return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], object], now: datetime | None = None) -> object:
        """The stored value, or `compute()` stored and returned."""
        sentinel = object()
        found = self.get(key, now, sentinel)
        return self.put(key, compute(), now) if found is sentinel else found

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()


def clear_all() -> None:
    """Forget every memo of this process."""
    for memo in _all:
        memo.clear()
