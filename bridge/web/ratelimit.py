"""Rate limits for the public endpoints: a fixed window per client IP and bucket, shared by every web process.

The counts live in one block of shared memory made when this module is imported, which happens in
`bridge serve` before gunicorn forks its workers: every worker (and a worker gunicorn restarts)
counts in the same table, under one lock, so a client gets `per_minute` requests a minute in all,
not per process. The table is a fixed array of slots (hash of bucket and IP, window, count),
probed linearly; a slot of an older window is free again. A few microseconds a request.
"""

from __future__ import annotations

import hashlib
import mmap
import multiprocessing
import struct
import time
from functools import wraps
from typing import Callable

from flask import current_app, request

from bridge.web.errors import error_response

SLOTS = 1 << 16  # distinct (bucket, IP) pairs counted per minute before the oldest are overwritten
PROBES = 8
_SLOT = struct.Struct("<QII")  # key hash, window (minutes since the epoch), count
_table = mmap.mmap(-1, SLOTS * _SLOT.size, flags=mmap.MAP_SHARED) if hasattr(mmap, "MAP_SHARED") else bytearray(
    SLOTS * _SLOT.size)
_lock = multiprocessing.get_context("fork" if hasattr(mmap, "MAP_SHARED") else "spawn").Lock()


def count(bucket: str, client: str, window: int) -> int:
    """Add one call of `client` to `bucket` in `window` and return the calls so far in that window."""
    key = int.from_bytes(hashlib.blake2b(f"{bucket}\0{client}".encode(), digest_size=8).digest(), "little") or 1
    first = key % SLOTS
    with _lock:
        free = None
        for probe in range(PROBES):
            offset = ((first + probe) % SLOTS) * _SLOT.size
            found, at, calls = _SLOT.unpack_from(_table, offset)
            if found == key and at == window:
                _SLOT.pack_into(_table, offset, key, window, calls + 1)
                return calls + 1
            if free is None and (found == 0 or at != window):
                free = offset
        # A full neighbourhood (64k clients in one minute): take over the first slot of it.
        _SLOT.pack_into(_table, first * _SLOT.size if free is None else free, key, window, 1)
        return 1


def limited(bucket: str, per_minute: int) -> Callable[[Callable], Callable]:
    """Decorate a view: more than `per_minute` calls from one IP in a minute get 429 with Retry-After."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_app.extensions["bridge"].config.server.rate_limits:
                return view(*args, **kwargs)
            now = time.time()
            if count(bucket, request.remote_addr or "-", int(now // 60)) > per_minute:
                response = error_response(429, "too_many_requests", "too many requests; try again in a minute")
                response.headers["Retry-After"] = str(60 - int(now % 60))
                return response
            return view(*args, **kwargs)

        return wrapper

    return decorate


def reset() -> None:
    """Forget every count (tests)."""
    with _lock:
        _table[:] = bytes(len(_table))
