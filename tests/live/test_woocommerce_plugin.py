"""The plugin `bridge for WooCommerce` on the real shop (issue 17): installed and set up as a shop owner does,
the widget on every page and on the order-received page of a block theme, and the order-meta key: a friend
whose thank-you page never runs the widget is attributed by the share code the plugin stored on the order."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from tests.live import woo, woo_front
from tests.live.conftest import ROOT, bridge_for
from tests.live.recorder import DeliveryRecorder
from tests.live.story import (
    DESKTOP_UA,
    PHONE_UA,
    campaign_yaml,
    desktop_and_phone,
    layout_shift,
    past_hold,
    referral_yaml,
    referrer_link,
    referrer_rewards,
    rows,
    shot,
    widget_text,
)
from tests.live.test_woocommerce_story import shop_yaml

PLUGIN = "bridge-for-woocommerce"


@pytest.fixture
def wc(woocommerce):
    """A freshly installed shop; the plugin's files are taken away afterwards (the reset forgets its activation)."""
    woocommerce.fresh()
    yield woocommerce.info
    woocommerce.run(woocommerce.info["wp_cli"], "theme", "activate", "storefront")
    shutil.rmtree(woocommerce.dir / "wp" / "wp-content" / "plugins" / PLUGIN, ignore_errors=True)


def install_plugin(woocommerce, browser, bridge, tmp_path) -> None:
    """The zip installed and activated with wp-cli, then set up on its page under WooCommerce in the browser."""
    archive = shutil.make_archive(str(tmp_path / PLUGIN), "zip", root_dir=ROOT / "wordpress-plugin", base_dir=PLUGIN)
    out = woocommerce.run(woocommerce.info["wp_cli"], "plugin", "install", archive, "--activate")
    assert "activated" in out.lower(), out
    info = woocommerce.info
    owner = browser.new_context(locale="fr-FR", user_agent=DESKTOP_UA)
    page = owner.new_page()
    page.goto(info["url"] + "/wp-login.php")
    page.fill("#user_login", info["admin_user"])
    page.fill("#user_pass", info["admin_password"])
    page.click("#wp-submit")
    page.wait_for_url("**/wp-admin/**")
    page.goto(info["url"] + "/wp-admin/admin.php?page=bridge-for-woocommerce")
    page.fill("#bridge-address", "ftp://bridge.example")  # the browser takes it as a URL; the plugin does not
    page.fill("#bridge-shop", "wc")
    page.click("#submit")
    assert "must be a web address" in page.locator(".notice, .error, .settings-error").first.inner_text()
    page.fill("#bridge-address", bridge.url + "/")
    page.fill("#bridge-shop", "wc")
    page.click("#submit")
    page.wait_for_selector("code")
    assert f'<script src="{bridge.url}/widget.js" data-shop="wc" async></script>' in page.locator("code").inner_text()
    shot(page, "woocommerce-plugin-settings-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "woocommerce-plugin-settings-phone")
    owner.close()


def test_the_plugin_stores_the_share_code_on_the_order_and_attributes_the_referral(tmp_path, wc, woocommerce, browser):
    """A friend arrives through the referrer's link on a phone; the widget never runs again in that browser
    (blocked), yet the share code the plugin stored on the order at the block checkout attributes the referral."""
    bridge = bridge_for(tmp_path, shop_yaml(wc), referral_yaml("wc"))
    bridge.cli("db", "upgrade")
    bridge.serve()
    recorder = DeliveryRecorder(bridge.url)
    try:
        assert bridge.cli("webhooks", "install", "wc", "--url", f"{recorder.url}/webhooks/wc").stdout.count(": created") == 4
        install_plugin(woocommerce, browser, bridge, tmp_path)
        marie = woo.checkout(wc, [(101, 1)], "marie@example.test")
        woo.deliver_webhooks(woocommerce)
        [(code,)] = rows(bridge, "SELECT code FROM advocate WHERE email_norm = ?", "marie@example.test")
        # Marie's thank-you page (the plugin's place, Storefront) gives her own link: a referral-only shop.
        referrer_link(browser, woo.received_url(wc, marie), bridge, code, "woocommerce-referrer-thank-you")

        phone = browser.new_context(locale="fr-FR", user_agent=PHONE_UA, is_mobile=True, has_touch=True,
                                    viewport={"width": 390, "height": 844})
        page = phone.new_page()
        page.goto(f"{bridge.url}/r/{code}")
        assert page.url.startswith(wc["url"]), page.url
        assert "Un proche vous offre 10%" in widget_text(page, ready="bridge-widget .b")  # the plugin's line
        kept = {c["name"]: c["value"] for c in phone.cookies()}.get("bridge_wc", "")
        assert kept.startswith(code), phone.cookies()
        # From here on the widget never runs in this browser: no report from the thank-you page.
        phone.route("**/widget.js", lambda route: route.abort())
        page.goto(wc["url"] + "/product/huile-olive-1l/")
        page.fill("input.qty", "2")
        friend = woo_front.block_checkout(page, wc["url"], "lea@example.test", payment="cod", first="Léa")
        assert page.locator("bridge-widget").count() == 0
        phone.close()

        placed = woo.order(wc, friend["order_id"])
        assert {m["key"]: m["value"] for m in placed["meta_data"]}.get("_bridge_code") == code, placed["meta_data"]
        woo.deliver_webhooks(woocommerce)
        assert rows(bridge, "SELECT order_id, code, source FROM referral_claim") == [(str(friend["order_id"]), code, "meta")]
        past_hold(bridge)
        explained = bridge.cli("explain", "order", "wc", str(friend["order_id"])).stdout
        assert referrer_rewards(bridge) == [("marie@example.test", Decimal("5.00"), "paid")], explained
        assert f"attributed by meta to code {code}" in explained, explained
        assert marie["order_id"]
        bridge.ledger_ok()
    finally:
        recorder.close()
        bridge.stop()


def test_the_plugin_places_the_widget_on_a_block_themes_order_confirmation(tmp_path, wc, woocommerce, browser):
    """Twenty Twenty-Five (a block theme, the Order Confirmation template): the share link is drawn in the
    plugin's place after the order's details, on a phone and a desktop, and moves nothing."""
    bridge = bridge_for(tmp_path, shop_yaml(wc), campaign_yaml("wc", "coupon"))
    bridge.cli("db", "upgrade")
    bridge.serve()
    try:
        install_plugin(woocommerce, browser, bridge, tmp_path)
        woocommerce.run(wc["wp_cli"], "theme", "activate", "twentytwentyfive")
        founder = woo.checkout(wc, [(101, 1)], "founder@example.test")
        for name, page in desktop_and_phone(browser, woo.received_url(wc, founder)):
            assert "1 acheteur" in widget_text(page)
            assert page.locator("[data-bridge-widget] > bridge-widget").count() == 1
            assert page.locator(".wc-block-order-confirmation-status").count() == 1  # the block template it is
            assert layout_shift(page) == (0, []), layout_shift(page)
            shot(page, f"woocommerce-block-theme-thank-you-{name}")
        bridge.ledger_ok()
    finally:
        bridge.stop()
