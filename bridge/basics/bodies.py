"""Untrusted JSON bodies (widget API, webhook deliveries): bounded in size and depth before they are parsed.

Python's parser recurses once per level, so a 10 KB body nested 2,000 levels deep raised RecursionError
(a 500 with a traceback) before this; numbers of thousands of digits are refused by the parser itself.
"""

from __future__ import annotations

import json

MAX_DEPTH = 32  # no body bridge reads nests deeper than 3 or 4
MAX_BYTES = 1_000_000


class BadBody(ValueError):
    """A body that is not the JSON bridge reads: too large, too deep, not UTF-8, or not JSON."""


def loads(body: bytes | str, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> object:
    """Parse a JSON body after checking its size and nesting without recursion; raise BadBody otherwise."""
    if len(body) > max_bytes:
        raise BadBody(f"the body is larger than {max_bytes} bytes")
    text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else body
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise BadBody(f"the body nests deeper than {max_depth} levels")
        elif char in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError covers JSONDecodeError and over-long integers
        raise BadBody(f"not JSON: {exc}") from None
