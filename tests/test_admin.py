"""The admin page: behind its password, with CSRF tokens, a brake on guessing, and pages that explain themselves."""

from __future__ import annotations

import pathlib
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
    assert client.get("/admin").headers["Location"] == "/admin/shops/shop1"
    page = client.get("/admin/shops/shop1")
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


def test_a_group_whose_founder_joined_another_is_not_listed_and_people_are_escaped(app):
    config = app.extensions["bridge"].config
    first = replace(order(1, email="alice@example.test"), shop="shop1")
    second = replace(order(2, minutes=5, email="<script>x</script>@example.test"), shop="shop1")
    with db.connection_context():
        ingest(config, orders=[first, second], now=T0 + timedelta(minutes=6))  # both found a group
        ingest(config, claims=[replace(engine_claim(2, 1, minutes=7), shop="shop1")], now=T0 + timedelta(minutes=8))
    page = logged_in(app).get("/admin/activity").get_data(as_text=True)
    groups = page[page.index("<h1>Groups"):page.index("<h1>Payouts")]
    assert groups.count("<tr><td>") - groups.count("<tr><td>#") == 1  # the first group only: the void one is left out
    assert "<td>#2</td><td>member" in page  # now in the first group
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;@example.test" in page


def test_a_refused_join_is_listed_even_when_the_order_founded_its_own_group(app):
    config = app.extensions["bridge"].config
    founder = replace(order(1, email="ada.lovelace@gmail.com"), shop="shop1")
    myself = replace(order(2, minutes=5, email="adalovelace+again@gmail.com"), shop="shop1")  # the same person
    with db.connection_context():
        ingest(config, orders=[founder, myself], claims=[replace(engine_claim(2, 1, minutes=6), shop="shop1")],
               now=T0 + timedelta(minutes=7))
    page = logged_in(app).get("/admin/activity").get_data(as_text=True)
    refused = page[page.index("<h1>Refusals"):]
    assert "#2" in refused and "founded its own group instead" in refused, refused[:2000]


def test_referral_shows_friends_decisions_advocates_and_welcome_coupons(app, tmp_path):
    """Issue 17: referral on /admin: each friend's order with the key, the decision and why; the advocates;
    the welcome coupons and the order that used each one; everything escaped."""
    from click.testing import CliRunner

    from bridge.cli import main
    from bridge.config import load_config_text
    from bridge.ledger.referrals import welcome_coupon
    from bridge.storage.models import Advocate

    path = tmp_path / "config.yaml"
    path.write_text(path.read_text() + """
  - id: refer
    type: referral
    shop: shop1
    hold: 14d
    friend_reward: {type: coupon, value: "10%"}
    referrer_reward: {type: coupon, value: "5.00"}
""")
    config = load_config_text(path.read_text())
    app.extensions["bridge"].config = config
    with db.connection_context():
        ingest(config, orders=[replace(order(1, email="marie@example.test"), shop="shop1")], now=T0)
        code = Advocate.get(Advocate.email_norm == "marie@example.test").code
        coupon = welcome_coupon(config.campaigns[1], code, "<b>lea</b>@example.test", T0).coupon_code
        friend = replace(order(2, minutes=30, email="<b>lea</b>@example.test", coupons=(coupon,)), shop="shop1")
        stranger = replace(order(3, minutes=31, email="marie@example.test"), shop="shop1")  # the referrer herself
        ingest(config, orders=[friend, stranger], referral_claims=[("shop1", "3", code, "widget", T0)], now=T0)
    ticked = CliRunner().invoke(main, ["--config", str(path), "tick", "--now",
                                       (T0 + timedelta(days=15)).isoformat()])
    assert "referrals: granted 1, refused 1" in ticked.output, ticked.output
    page = logged_in(app).get("/admin/activity").get_data(as_text=True)
    artifacts = pathlib.Path(__file__).resolve().parents[1] / "artifacts" / "admin"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "referral.html").write_text(page)  # for people to look at
    referral = page[page.index("<h1>Referral: friends"):]
    assert "<b>lea</b>" not in page and "&lt;b&gt;lea&lt;/b&gt;@example.test" in referral
    assert f"marie@example.test ({code})</td>\n<td>coupon</td><td>granted</td><td>the referrer earns 5.00 EUR" in referral, referral[:3000]
    assert "<td>widget</td><td>refused</td><td>this e-mail had already ordered from the shop; same e-mail as the referrer</td>" in referral
    assert f"<td>{code}</td><td>marie@example.test</td><td>2026-07-01</td><td>1</td>" in referral
    assert f"<td>{coupon}</td><td>10%</td>" in referral and "order #2</td>" in referral
