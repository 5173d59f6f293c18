"""Share codes and tags: random, unguessable, and easy to read aloud or type on a phone."""

import secrets

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: codes survive being read from a screen or dictated.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
LENGTH = 14  # 25**14 ~ 2**65: more than 64 bits of randomness


def new_code(length: int = LENGTH) -> str:
    """Return a fresh random code from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def looks_like_code(text: str) -> bool:
    """Tell whether `text` could be one of our codes (cheap check before any database lookup)."""
    return isinstance(text, str) and 8 <= len(text) <= 32 and all(c in ALPHABET for c in text.upper())
