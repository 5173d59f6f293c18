"""The admin page: behind its password, with CSRF tokens, a brake on guessing, and pages that explain themselves."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from bridge.facts.ingest import ingest
from bridge.storage.db import db
from bridge.web import create_app
from bridge.web.ratelimit import reset
from tests.conftest import migrated_config
from tests.engine_data import T0, order
from tests.engine_data import claim as engine_claim

PASSWORD = "admin-password-0123456789"


@pytest.fixture
def app(config_text, tmp_path):
    reset()
    text = config_text.replace("  database_url:", f"  admin_password: {PASSWORD}\n  database_url:")
    config = migrated_config(text, tmp_path)
    yield create_app(config)
    reset()


def csrf_of(page: bytes) -> str:
    return re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()


def logged_in(app):
    client = app.test_client()
    token = csrf_of(client.get("/admin/login").data)
    assert client.post("/admin/login", data={"csrf": token, "password": PASSWORD}).status_code == 303
    return client


def test_the_page_needs_the_password_and_a_fresh_form(app):
    client = app.test_client()
    assert client.get("/admin").status_code == 303  # to the login page
    token = csrf_of(client.get("/admin/login").data)
    assert client.post("/admin/login", data={"password": PASSWORD}).status_code == 400  # no CSRF token
    wrong = client.post("/admin/login", data={"csrf": token, "password": "nope"})
    assert wrong.status_code == 401 and b"Wrong password." in wrong.data
    assert client.get("/admin").status_code == 303
    client = logged_in(app)
    page = client.get("/admin")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert client.post("/admin/logout", data={"csrf": csrf_of(page.data)}).status_code == 303
    assert client.get("/admin").status_code == 303


def test_without_a_password_there_is_no_admin_page(config_text, tmp_path):
    client = create_app(migrated_config(config_text, tmp_path)).test_client()
    assert client.get("/admin").status_code == 404 and client.get("/admin/login").status_code == 404


def test_guessing_the_password_is_slowed_down(app):
    client = app.test_client()
    for _ in range(3):  # the brake counts per minute: a run that straddles two minutes is run again
        reset()
        minute = int(time.time() // 60)
        token = csrf_of(client.get("/admin/login").data)
        answers = [client.post("/admin/login", data={"csrf": token, "password": f"guess{i}"}).status_code
                   for i in range(12)]
        if int(time.time() // 60) == minute:
            break
    assert answers[:9] == [401] * 9 and answers[-1] == 429


def test_a_group_whose_founder_joined_another_is_shown_as_void_and_people_are_escaped(app):
    config = app.extensions["bridge"].config
    first = replace(order(1, email="alice@example.test"), shop="shop1")
    second = replace(order(2, minutes=5, email="<script>x</script>@example.test"), shop="shop1")
    with db.connection_context():
        ingest(config, orders=[first, second], now=T0 + timedelta(minutes=6))  # both found a group
        ingest(config, claims=[replace(engine_claim(2, 1, minutes=7), shop="shop1")], now=T0 + timedelta(minutes=8))
    page = logged_in(app).get("/admin").get_data(as_text=True)
    assert "void: order #2 joined another group" in page
    assert "<td>#2</td><td>member" in page  # now in the first group
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;@example.test" in page


def test_a_refused_join_is_listed_even_when_the_order_founded_its_own_group(app):
    config = app.extensions["bridge"].config
    founder = replace(order(1, email="ada.lovelace@gmail.com"), shop="shop1")
    myself = replace(order(2, minutes=5, email="adalovelace+again@gmail.com"), shop="shop1")  # the same person
    with db.connection_context():
        ingest(config, orders=[founder, myself], claims=[replace(engine_claim(2, 1, minutes=6), shop="shop1")],
               now=T0 + timedelta(minutes=7))
    page = logged_in(app).get("/admin").get_data(as_text=True)
    refused = page[page.index("<h1>Refusals"):]
    assert "#2" in refused and "founded its own group instead" in refused, refused[:2000]
