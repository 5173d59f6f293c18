"""Share codes and tags: random, unguessable, and easy to read aloud or type on a phone."""

import secrets

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: codes survive being read from a screen or dictated.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
LENGTH = 14  # 25**14 ~ 2**65: more than 64 bits of randomness
_BYTE_TO_CHAR = bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(256))
_OVER = bytes(range(250, 256))  # 250 = 10 x 25: bytes from here would favour the alphabet's first letters


def new_code(length: int = LENGTH) -> str:
    """Return a fresh random code from the unambiguous alphabet."""
    # Random bytes below 250 are uniform modulo 25; the others are dropped (translate runs in C).
    code = ""
    while len(code) < length:
        code += secrets.token_bytes(length + 4).translate(_BYTE_TO_CHAR, _OVER).decode()
    return code[:length]


SHARED = 2  # leading characters the codes of one batch have in common (see new_codes)


def new_codes(count: int, length: int = LENGTH) -> list[str]:
    """Return `count` fresh codes that begin with the same two random characters.

    Codes written in one transaction then sit side by side in their unique index, and the commit
    rewrites a page or two of it instead of one page per code. With fully random codes the tags and
    group codes of a 100-order page doubled the bytes every commit wrote, once their indexes were
    large. Each code keeps 12 characters of its own (25**12 ~ 2**55), so knowing one code of a batch
    leaves its neighbours as unguessable as ever against rate-limited links.
    """
    prefix = new_code(SHARED)
    return [prefix + new_code(length - SHARED) for _ in range(count)]


def spell(number: int, length: int) -> str:
    """Write a number's `length` lowest base-25 digits in the alphabet."""
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def looks_like_code(text: str) -> bool:
    """Tell whether `text` could be one of our codes (cheap check before any database lookup)."""
    return isinstance(text, str) and 8 <= len(text) <= 32 and all(c in ALPHABET for c in text.upper())


def share_code(value: object) -> str | None:
    """A share code as a shop stored it (`CODE` or `CODE.TAG`), upper-case; None for anything else."""
    if not isinstance(value, str) or len(value) > 65:
        return None
    parts = value.strip().upper().split(".")
    return ".".join(parts) if len(parts) <= 2 and all(looks_like_code(p) for p in parts) else None
