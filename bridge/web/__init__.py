"""The Flask application factory: blueprints, database connections per request (when used), JSON errors.

Imports: every layer below it (basics … schedule); the blueprints only translate HTTP into calls of
those layers' functions.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bridge.config import Config
from bridge.schedule.runtime import Runtime, start
from bridge.storage.db import db
from bridge.web import (
    admin,
    api,
    claim,
    errors,
    health,
    links,
    people,
    read_api,
    review,
    shop_api,
    shop_setup,
    webhooks,
    widget,
)
from bridge.web.reason_texts import reason_in
from bridge.web.sessions import CachedSessionInterface


def create_app(config: Config, runtime: Runtime | None = None) -> Flask:
    """Build the web app for `config` (binds the database; connects per request)."""
    runtime = runtime or start(config)
    app = Flask("bridge")
    # A path with "//" is a 404 like any unknown path, not a redirect that echoes the whole path back.
    app.url_map.merge_slashes = False
    app.config.update(SECRET_KEY=config.server.secret_key,
                      MAX_CONTENT_LENGTH=1024 * 1024, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=config.server.public_url.startswith("https://"))
    app.extensions["bridge"] = runtime
    app.session_interface = CachedSessionInterface()
    app.json.sort_keys = False  # answers keep their natural order (Flask 3 ignores JSON_SORT_KEYS)

    # No connection is taken before the request: the first query takes one from the pool (peewee's
    # autoconnect), so that what needs no database (the script, a memoised link state) takes none.
    @app.teardown_request
    def disconnect(exc):
        if not db.is_closed():
            db.close()

    if config.server.proxies:
        # Trust exactly that many proxies for the client's address (rate limits, click hashes) and scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.server.proxies, x_proto=config.server.proxies)
    errors.init_app(app)
    app.add_template_filter(reason_in, "reason")  # the engine's reasons in the page's language
    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(claim.bp)
    app.register_blueprint(links.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(shop_api.bp)
    app.register_blueprint(read_api.bp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(shop_setup.bp)
    app.register_blueprint(people.bp)
    return app


def runtime_of(app: Flask) -> Runtime:
    """Return the runtime an app was built with."""
    return app.extensions["bridge"]
