"""Who may log in to the dashboard: users from the YAML with argon2 password hashes, and the legacy admin password.

An owner sees only their shops; an administrator (a `role: admin` user, or `server.admin_password`)
sees all. A session lasts SESSION_HOURS from the login, whatever is done meanwhile.
"""

from __future__ import annotations

import hmac
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import session

from bridge.config.model import Config, User

SESSION_HOURS = 8
LEGACY_ADMIN = "admin"  # the name `server.admin_password` logs in as
_hasher = PasswordHasher()
# Checked against when the name is unknown, so that an unknown name takes as long as a wrong password.
_DUMMY = _hasher.hash("bridge: no such user")


def hash_password(password: str) -> str:
    """An argon2id hash of a password, to paste into the YAML as `password_hash`."""
    return _hasher.hash(password)


def has_logins(config: Config) -> bool:
    """Tell whether anyone can log in (else there are no dashboard pages at all)."""
    return bool(config.users or config.server.admin_password)


def check_login(config: Config, name: str, password: str) -> User | None:
    """The user these credentials name, or None (compared in constant time, or by argon2)."""
    legacy = config.server.admin_password
    if legacy and name in ("", LEGACY_ADMIN) and hmac.compare_digest(password.encode(), legacy.encode()):
        return User(LEGACY_ADMIN, "", "admin")
    user = next((u for u in config.users if u.name == name), None)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def start_session(user: User) -> None:
    session.clear()
    session["user"] = user.name
    session["since"] = int(time.time())


def current_user(config: Config) -> User | None:
    """The logged-in user of this request, if their session has not expired and they still exist."""
    name, since = session.get("user"), session.get("since", 0)
    if not name or time.time() - since > SESSION_HOURS * 3600:
        return None
    if name == LEGACY_ADMIN and config.server.admin_password and not any(u.name == name for u in config.users):
        return User(LEGACY_ADMIN, "", "admin")
    return next((u for u in config.users if u.name == name), None)
