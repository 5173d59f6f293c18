"""The whole social-buying loop on an example hand-coded shop, in Chromium: nothing but the shop's own server,
its static pages with the pasted widget line, bridge's web app and `bridge tick` processes. Purchase, share link
on the thank-you page, a friend through it on a phone, a refund, then the payouts made by the shop's system
when bridge asks and acknowledged, each once; `bridge ledger check` holds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from bridge.storage.db import db
from bridge.storage.models import Clawback, MembershipRow, OrderFact, Payout
from bridge.web import create_app
from tests.conftest import migrated_config
from tests.hand_shop import EVENTS_SECRET, SIGNING_SECRET, HandShop
from tests.test_widget import DESKTOP, PHONE, shot, widget

BRIDGE = os.path.join(os.path.dirname(sys.executable), "bridge")
SHOP = """
  - id: hand
    name: Fait Main
    platform: custom
    url: {url}
    currency: EUR
    timezone: Europe/Paris
    locale: fr
    tone: vous
    custom: {{signing_secret: {signing}}}
    events:
      - {{name: backoffice, url: '{url}/bridge-events', secret: {events}, alert_email: atelier@faitmain.test}}
"""
CAMPAIGN = """
  - id: ensemble
    type: social_buying
    shop: hand
    window: 48h
    hold: 14d
    payout: refund
    eligible_products: any
    tiers: [{buyers: 2, cashback: 10%}]
"""


@pytest.fixture
def world(config_text, tmp_path):
    with HandShop() as shop:
        server = make_server("127.0.0.1", 0, None, threaded=True)
        shop.bridge = f"http://127.0.0.1:{server.server_port}"
        text = (config_text.replace("public_url: http://127.0.0.1:8000", f"public_url: {shop.bridge}")
                .replace("      consumer_secret: cs_test_secret_value",
                         "      consumer_secret: cs_test_secret_value\n    sync: {poll_every: 'off'}", 1)
                .replace("campaigns:", SHOP.format(url=shop.url, signing=SIGNING_SECRET, events=EVENTS_SECRET).rstrip()
                         + "\ncampaigns:") + CAMPAIGN)
        config = migrated_config(text, tmp_path)
        server.app = create_app(config)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield shop, config, tmp_path / "config.yaml"
        server.shutdown()
        server.server_close()


def buy(page, shop, email: str) -> str:
    page.fill("input[name=email]", email)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/merci/\d+\?key=.+"))
    return page.url.split("/merci/")[1].split("?")[0]


def tick(path, at: datetime) -> str:
    done = subprocess.run([BRIDGE, "--config", str(path), "tick", "--now", at.isoformat()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stderr


def test_a_hand_coded_shop_runs_the_loop_from_its_own_server_and_the_pasted_widget(world, browser):
    shop, config, path = world
    errors = []
    founder_context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    founder = founder_context.new_page()
    founder.on("pageerror", lambda exc: errors.append(str(exc)))
    founder.goto(shop.url + "/")
    founder_id = buy(founder, shop, "ana@faitmain.test")
    box = widget(founder)
    assert "1 acheteur pour l'instant" in box.inner_text()
    link = founder.locator("bridge-widget input").input_value()
    assert link.startswith(shop.bridge + "/r/")
    shot(founder, "hand-shop-thank-you-desktop")

    friend_context = browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True, has_touch=True)
    friend = friend_context.new_page()
    friend.on("pageerror", lambda exc: errors.append(str(exc)))
    friend.goto(link + "?via=whatsapp")
    assert friend.url.startswith(shop.url + "/?bridge="), friend.url
    expect(friend.locator("bridge-widget .b")).to_contain_text("10%")  # the landing banner; the code is kept
    assert any(c["name"] == "bridge_hand" for c in friend_context.cookies())
    friend_id = buy(friend, shop, "ben@faitmain.test")
    assert "2 acheteurs pour l'instant" in widget(friend).inner_text()
    shot(friend, "hand-shop-thank-you-phone")
    founder.reload()
    assert "2 acheteurs pour l'instant" in widget(founder).inner_text()
    assert shop.orders[friend_id]["referral_code"] and errors == []
    founder_context.close()
    friend_context.close()

    shop.refund_customer(friend_id, "20.00")  # Ben sends part of his order back
    with db.connection_context():
        member = MembershipRow.get(MembershipRow.order_id == friend_id)
        assert (member.role, member.founder_id) == ("member", founder_id)
        assert OrderFact.get(OrderFact.order_id == friend_id).refunded == Decimal("20.00")

    after_hold = datetime.now(timezone.utc) + timedelta(hours=49, days=14)
    log = tick(path, after_hold)  # settles, asks the shop for the two refunds, posts the events
    assert "2 asked of the shop" in log, log
    for _ in range(100):  # the shop makes them in the background, then answers
        if len([a for a in shop.answers if "/payouts/" in a[0]]) == 2:
            break
        time.sleep(0.1)
    tick(path, after_hold + timedelta(minutes=5))  # posts payout.paid
    tick(path, after_hold + timedelta(minutes=10))  # nothing left to do: nothing is asked or paid twice

    with db.connection_context():
        payouts = {p.reward.order_id: p for p in Payout.select()}
        assert {o: (p.state, p.amount) for o, p in payouts.items()} == {
            founder_id: ("paid", Decimal("5.99")), friend_id: ("paid", Decimal("3.99"))}
        assert {p.external_ref for p in payouts.values()} == {r["reference"] for r in shop.refunds.values()}
        assert Clawback.select().count() == 0, "the shop's own record of bridge's refunds is not a customer refund"
        assert OrderFact.get(OrderFact.order_id == founder_id).own_refunded == Decimal("5.99")
    assert sorted((r["order_id"], r["amount"]) for r in shop.refunds.values()) == sorted(
        [(founder_id, "5.99"), (friend_id, "3.99")]), "each payout made once by the shop"
    types = [e["type"] for e in shop.events]
    assert types[:2] == ["group.opened", "member.joined"] and types.count("payout.paid") == 2, types
    assert [e["id"] for e in shop.events] == sorted(e["id"] for e in shop.events)
    assert {e["group"] for e in shop.events} == {f"ensemble:{founder_id}"}
    ledger = subprocess.run([BRIDGE, "--config", str(path), "ledger", "check"], capture_output=True, text=True)
    assert ledger.returncode == 0, ledger.stdout + ledger.stderr
