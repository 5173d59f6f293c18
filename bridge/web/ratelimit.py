"""A small per-process rate limit for the public endpoints: a fixed window per client IP and bucket.

Per process: with several web processes behind a proxy, each counts on its own (the proxy's own
limits are the first line; this one stops a single client from hammering one process).
"""

from __future__ import annotations

import threading
import time
from functools import wraps
from typing import Callable

from flask import current_app, request

from bridge.web.errors import error_response

_lock = threading.Lock()
_counts: dict[tuple[str, str, int], int] = {}


def limited(bucket: str, per_minute: int) -> Callable[[Callable], Callable]:
    """Decorate a view: more than `per_minute` calls from one IP in a minute get 429 with Retry-After."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_app.extensions["bridge"].config.server.rate_limits:
                return view(*args, **kwargs)
            now = time.time()
            window = int(now // 60)
            key = (bucket, request.remote_addr or "-", window)
            with _lock:
                if len(_counts) > 50_000:  # forget old windows
                    for old in [k for k in _counts if k[2] < window]:
                        del _counts[old]
                _counts[key] = _counts.get(key, 0) + 1
                over = _counts[key] > per_minute
            if over:
                response = error_response(429, "too_many_requests", "too many requests; try again in a minute")
                response.headers["Retry-After"] = str(60 - int(now % 60))
                return response
            return view(*args, **kwargs)

        return wrapper

    return decorate


def reset() -> None:
    """Forget every count (tests)."""
    with _lock:
        _counts.clear()
