"""Flask's signed-cookie sessions, only where they are used (the admin pages), with the serializer built once.

Flask opens a session on every request and builds a new serializer (and its key derivation) for it:
on the public endpoints, which never use the session, that was a measurable part of each request.
Those get Flask's null session instead, which cannot be written to; the admin pages get the usual one.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

SESSION_PATHS = ("/admin",)  # the only pages that keep anything in a session


class CachedSessionInterface(SecureCookieSessionInterface):
    """The default cookie sessions; the serializer is kept while the keys stay the same."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, object] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The session of an admin page; None (Flask's null session) everywhere else."""
        if not request.path.startswith(SESSION_PATHS):
            return None
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if key not in self._serializers:
            self._serializers.clear()
            self._serializers[key] = super().get_signing_serializer(app)
        return self._serializers[key]
