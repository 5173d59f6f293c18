"""The whole social-buying loop of `make demo`, in Chromium, as a newcomer would click through it.

Screenshots are saved under artifacts/demo/ (the README's pictures come from there).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from bridge.config import load_config_text
from bridge.demo.run import Demo
from bridge.ledger.grants import ledger_balances
from bridge.storage.db import db
from bridge.storage.models import Clawback, OrderFact
from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "demo"
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


@pytest.fixture
def demo(tmp_path, database_url):
    """The demo as `make demo` runs it, on free ports and the test database."""
    text = (ROOT / "demo" / "config.yaml").read_text()
    bridge, shop, smtp = free_port(), free_port(), free_port()
    text = (text.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{bridge}")
            .replace("http://127.0.0.1:8001", f"http://127.0.0.1:{shop}").replace("port: 8025", f"port: {smtp}")
            .replace("sqlite:///demo/var/bridge.db", database_url))
    running = Demo(load_config_text(text, "demo.yaml"), tick_seconds=0.5).start()
    yield running
    running.stop()


def own_refunds_seen(count: int, seconds: float = 20) -> bool:
    """Wait until bridge has read `count` orders carrying its own refunds (webhooks come in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with db.connection_context():
            if OrderFact.select().where(OrderFact.own_refunded != Decimal(0)).count() >= count:
                return True
        time.sleep(0.2)
    return False


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def buy(page, shop_url, product, email, name):
    page.goto(f"{shop_url}/")
    page.get_by_role("link", name=product).click()
    page.get_by_label("Your e-mail").fill(email)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Buy now").click()
    page.wait_for_url(re.compile(r".*/checkout/order-received/\d+/\?key=wc_order_.*"))


def test_the_whole_social_buying_loop_in_a_browser(demo):
    shop_url, bridge_url = demo.shop.url, demo.config.server.public_url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        alice_context = browser.new_context(viewport=DESKTOP)
        alice = alice_context.new_page()
        buy(alice, shop_url, "Organic cotton T-shirt", "alice@example.test", "Alice Martin")
        widget = alice.locator("bridge-widget .b")
        expect(widget).to_contain_text("1 buyer so far · From 2 buyers, everyone gets 5% back")
        link = alice.locator("bridge-widget input").input_value()
        assert link.startswith(f"{bridge_url}/r/")
        shot(alice, "1-thank-you-desktop")

        friend_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)  # a private window
        bob = friend_context.new_page()
        bob.goto(link)
        expect(bob.locator("bridge-widget .b")).to_contain_text("A friend's link: buy before it closes")
        assert "/product/organic-t-shirt/" in bob.url
        shot(bob, "2-landing-phone")
        bob.get_by_label("Your e-mail").fill("bob@example.test")
        bob.get_by_label("Your name").fill("Bob Durand")
        bob.get_by_role("button", name="Buy now").click()
        bob.wait_for_url(re.compile(r".*/checkout/order-received/.*"))
        expect(bob.locator("bridge-widget .b")).to_contain_text("2 buyers so far · 5% back for everyone")
        shot(bob, "3-friend-thank-you-phone")

        alice.reload()
        expect(alice.locator("bridge-widget .b")).to_contain_text("2 buyers so far · 5% back for everyone")
        expect(alice.locator("bridge-widget .b")).to_contain_text("You get €1.25 back so far")
        shot(alice, "4-founder-updated-desktop")

        alice.get_by_role("button", name="Fast-forward to payout").click()
        # Bob's webhook can arrive before his page reports the link: his order founds a group for a moment,
        # then joins Alice's; that empty group is settled too, with nothing to grant.
        expect(alice.locator("pre")).to_contain_text(re.compile(r"settle_groups: settled [12] groups, granted 2 rewards"))
        expect(alice.locator("pre")).to_contain_text("deliver_payouts: payouts: 2 paid")
        alice.get_by_role("link", name="Orders", exact=True).click()
        rows = alice.locator("table tr")
        expect(rows.filter(has_text="alice@example.test")).to_contain_text("1.25 € (Buy together: cashback [bridge payout:")
        expect(rows.filter(has_text="bob@example.test")).to_contain_text("1.25 €")
        shot(alice, "5-orders-refunded-desktop")
        # bridge's own refunds come back as order.updated webhooks: known as bridge's, they open no clawback
        assert own_refunds_seen(2), "the refunds' webhooks did not reach bridge"
        with db.connection_context():
            assert Clawback.select().count() == 0
            balances, problems = ledger_balances()
            assert problems == [] and balances["EUR"].paid == Decimal("2.50")
        alice.get_by_role("link", name="E-mails", exact=True).click()
        mails = alice.locator("article")
        expect(mails.filter(has_text="to alice@example.test").filter(has_text="€1.25 is on its way")).to_have_count(1)
        expect(mails.filter(has_text="A friend joined: your cashback is now 5%")).to_have_count(1)
        expect(mails.filter(has_text="Share your link and get up to 12% back")).to_have_count(2)
        shot(alice, "6-emails-desktop")

        alice.reload()
        alice.goto(f"{bridge_url}/admin")
        alice.get_by_label("Password").fill("wrong")
        alice.get_by_role("button", name="Log in").click()
        expect(alice.get_by_role("alert")).to_have_text("Wrong password.")
        alice.get_by_label("Password").fill("demo")
        alice.get_by_role("button", name="Log in").click()
        expect(alice.locator("h1").first).to_contain_text("Dashboard")  # the demo shop's statistics
        expect(alice.locator("main")).to_contain_text("Friends per buyer (K)")
        shot(alice, "7-dashboard-desktop")
        alice.get_by_role("link", name="Groups, payouts and refusals").click()
        expect(alice.locator("h1").first).to_have_text("Groups")
        expect(alice.locator("body")).to_contain_text("settled (2 buyers)")
        expect(alice.locator("body")).to_contain_text("alice@example.test")
        expect(alice.locator("body")).to_contain_text("paid")
        shot(alice, "8-admin-desktop")
        browser.close()
