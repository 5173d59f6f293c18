"""The web app: /healthz, and JSON errors (never an HTML traceback, never a 500 for bad input)."""

import pytest

from bridge.storage import latest_version
from bridge.storage.db import db
from bridge.web import create_app


@pytest.fixture
def client(config, migrated):
    app = create_app(config)
    app.config["TESTING"] = True
    return app.test_client()


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "schema": latest_version(), "write": "ok"}


def test_healthz_fails_when_the_database_takes_no_write(config, migrated):
    # As a read-only database or a full disk answers writes (root ignores file modes, so the session says it).
    sqlite = config.server.database_url.startswith("sqlite")
    client = create_app(config).test_client()  # binds its own pool: the session setting goes on its connection
    db.connect(reuse_if_open=True)
    db.execute_sql("PRAGMA query_only = ON" if sqlite else "SET default_transaction_read_only = on")
    try:
        response = client.get("/healthz")
        body = response.get_json()
        assert response.status_code == 503 and body["database"] == "read_only" and body["schema"], body
    finally:
        db.connect(reuse_if_open=True)
        db.execute_sql("PRAGMA query_only = OFF" if sqlite else "SET default_transaction_read_only = off")


def test_healthz_reports_an_outdated_schema(client):
    db.execute_sql("DELETE FROM schema_version")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "out_of_date"


def test_unknown_route_and_method_are_json(client):
    response = client.get("/no/such/thing")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    response = client.post("/healthz", data=b"\xff\xfe garbage")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_unexpected_error_is_json_500_without_traceback(config, migrated):
    app = create_app(config)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "secret detail" not in response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "internal_error"
