"""Flask's signed-cookie sessions, with the signing serializer built once per key instead of per request.

Flask builds a new serializer (and its key derivation) for every request, session or not: on the
public endpoints, which never use the session, that was a measurable part of each request.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSessionInterface(SecureCookieSessionInterface):
    """The default cookie sessions; the serializer is kept while the keys stay the same."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, object] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if key not in self._serializers:
            self._serializers.clear()
            self._serializers[key] = super().get_signing_serializer(app)
        return self._serializers[key]
