"""Per-process memos of what rarely changes (a code's group, a product), kept apart for each bound database.

Every memo registers itself, so that `clear_all` forgets them all at once. Across processes (several
gunicorn workers, the job process, a CLI command), a writer that changes memoised rows calls
`bump(name)` in its transaction; each process reads the memo's version at most every
`CHECK_EVERY` seconds and forgets the memo when it moved. So a change is seen everywhere within
about a second, for one primary-key read a second per memo, not one per request.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Callable, Hashable

import peewee

from bridge.storage.db import db
from bridge.storage.models import MemoVersion

CHECK_EVERY = 1.0  # seconds between two reads of a memo's version in one process
GROUP_FIGURES = "group figures"  # what a share link shows of its group: the ledger bumps it, sharing reads it
_all: list["Memo"] = []
_MISSING = object()


class Memo:
    """A bounded map from a key to a value, per database, optionally expiring `ttl` after it was stored."""

    def __init__(self, name: str, max_size: int = 100_000, ttl: timedelta | None = None):
        self.name, self.max_size, self.ttl = name, max_size, ttl
        self._items: dict[tuple, tuple[datetime | None, object]] = {}
        self._lock = threading.Lock()
        self._versions: dict[int, tuple[float, int]] = {}  # per database: (checked at, version seen)
        _all.append(self)

    def get(self, key: Hashable, now: datetime | None = None, default: object = None) -> object:
        """The value stored for `key` in the bound database (`default` if none, or expired at `now`)."""
        self._forget_if_bumped()
        found = self._items.get((id(db.obj), key))
        if found is None or (self.ttl is not None and now is not None and now - found[0] >= self.ttl):
            return default
        return found[1]

    def put(self, key: Hashable, value: object, now: datetime | None = None) -> object:
        """Store `value` for `key` (the whole memo is dropped when full: simple and bounded) and return it."""
        with self._lock:
            if len(self._items) >= self.max_size:
                self._items.clear()
            self._items[(id(db.obj), key)] = (now, value)
        return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], object], now: datetime | None = None) -> object:
        """The stored value, or `compute()` stored and returned."""
        found = self.get(key, now, _MISSING)
        return self.put(key, compute(), now) if found is _MISSING else found

    def clear(self) -> None:
        """Forget everything (in this process)."""
        with self._lock:
            self._items.clear()

    def _forget_if_bumped(self) -> None:
        """Read the memo's version now and then; forget what this process remembers when a writer bumped it."""
        database, clock = id(db.obj), time.monotonic()
        checked = self._versions.get(database)
        if checked is not None and clock - checked[0] < CHECK_EVERY:
            return
        version = _version(self.name)
        if checked is not None and version != checked[1]:
            with self._lock:
                for item in [k for k in self._items if k[0] == database]:
                    del self._items[item]
        self._versions[database] = (clock, version)


def _version(name: str) -> int:
    """The memo's version in the bound database (0 before the first bump, or with no database bound yet)."""
    try:
        return MemoVersion.select(MemoVersion.version).where(MemoVersion.name == name).scalar() or 0
    except peewee.InterfaceError:  # no database bound (a memo read before start-up binds one)
        return 0


def bump(name: str) -> None:
    """Say that rows memoised under `name` changed: every process forgets that memo within CHECK_EVERY.

    This process forgets it at once (a writer reads its own writes).
    """
    for memo in _all:
        if memo.name == name:
            memo.clear()
    with db.atomic():  # the writer's transaction when there is one (a savepoint), else its own
        if not MemoVersion.update(version=MemoVersion.version + 1).where(MemoVersion.name == name).execute():
            MemoVersion.insert(name=name, version=1).on_conflict(
                conflict_target=[MemoVersion.name], update={MemoVersion.version: MemoVersion.version + 1}).execute()


def clear_all() -> None:
    """Forget every memo of this process."""
    for memo in _all:
        memo.clear()
