"""The social-buying loop on a real WooCommerce 11 shop, through bridge's CLI and HTTP only.

A founder buys (cash on delivery: `processing` with no payment date), sees the share link on the
real thank-you page, a friend follows it through the real storefront and buys, the owner refunds,
bridge pays by refund and by coupon, the coupon is used at the real checkout, every webhook is
replayed twice newest first, and `bridge ledger check` holds after every step.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from tests.live import woo, woo_front
from tests.live.conftest import bridge_for
from tests.live.recorder import DeliveryRecorder
from tests.live.story import (
    DESKTOP_UA,
    LAYOUT_SHIFTS,
    PHONE_UA,
    campaign_yaml,
    layout_shift,
    paid_payouts,
    past_hold,
    referral_yaml,
    referrer_rewards,
    rows,
    shot,
    state,
    welcome_code,
    widget_text,
)


def shop_yaml(shop: dict) -> str:
    return f"""\
- id: wc
  name: Boutique de test
  platform: woocommerce
  url: {shop['url']}
  currency: EUR
  timezone: Europe/Paris
  locale: fr
  tone: vous
  sync:
    poll_every: "off"
    backfill_from: 2025-01-01
    timeout: 30s
  woocommerce:
    consumer_key: {shop['consumer_key']}
    consumer_secret: {shop['consumer_secret']}
    auth: oauth
    api_refund: false
"""


@pytest.fixture
def wc(woocommerce):
    """A freshly installed shop with bridge's snippet in every page's footer, as a shop owner pastes it."""
    woocommerce.fresh()
    yield woocommerce.info
    for plugin in (woocommerce.dir / "wp" / "wp-content" / "mu-plugins").glob("bridge-*.php"):
        plugin.unlink()


def install_snippet(woocommerce, bridge) -> None:
    """The line `bridge snippet` prints, in every page's footer through a mu-plugin (as a shop owner adds it)."""
    line = bridge.cli("snippet", "wc").stdout.strip()
    (woocommerce.dir / "wp" / "wp-content" / "mu-plugins" / "bridge-snippet.php").write_text(
        "<?php\nadd_action( 'wp_footer', function () {\n    echo <<<'BRIDGE'\n" + line + "\nBRIDGE;\n}, 100 );\n")


def started(tmp_path, wc, woocommerce, payout: str):
    bridge = bridge_for(tmp_path, shop_yaml(wc), campaign_yaml("wc", payout))
    assert "wc" in bridge.cli("check").stdout
    bridge.cli("db", "upgrade")
    bridge.serve()
    recorder = DeliveryRecorder(bridge.url)
    installed = bridge.cli("webhooks", "install", "wc", "--url", f"{recorder.url}/webhooks/wc").stdout
    assert installed.count(": created") == 4, installed
    install_snippet(woocommerce, bridge)
    return bridge, recorder


def group_of_two(bridge, recorder, wc, woocommerce, browser):
    """A founder (cash on delivery) and a friend who came through the share link on a phone (bank transfer)."""
    # The founder pays cash on delivery: WooCommerce says processing, with no payment date.
    founder = woo.checkout(wc, [(101, 2)], "founder@example.test", user_agent=DESKTOP_UA)
    assert founder["status"] == "processing" and woo.order(wc, founder["order_id"])["date_paid_gmt"] is None
    woo.deliver_webhooks(woocommerce)
    assert recorder.deliveries and all(d[3] == 200 for d in recorder.deliveries), recorder.deliveries
    explained = bridge.cli("explain", "order", "wc", str(founder["order_id"])).stdout
    assert "opens a group" in explained and "no payment date from the shop" in explained, explained
    bridge.ledger_ok()

    # The real thank-you page of the real theme shows the share link.
    founder_ctx = browser.new_context(locale="fr-FR", user_agent=DESKTOP_UA)
    founder_ctx.add_init_script(LAYOUT_SHIFTS)
    founder_page = founder_ctx.new_page()
    founder_page.goto(woo.received_url(wc, founder))
    assert "1 acheteur" in widget_text(founder_page)
    # Drawing the widget moves nothing the buyer sees (issue 20: cumulative layout shift 0, real theme).
    assert layout_shift(founder_page) == (0, []), layout_shift(founder_page)
    link = founder_page.locator("bridge-widget input").input_value()
    assert re.fullmatch(rf"{re.escape(bridge.url)}/r/[0-9A-Z]{{14}}/[0-9A-Z]{{14}}", link), link

    # A friend follows it on a phone, through the storefront's pretty permalinks, and buys.
    friend_ctx = browser.new_context(locale="fr-FR", user_agent=PHONE_UA, is_mobile=True, has_touch=True,
                                     viewport={"width": 390, "height": 844})
    friend_ctx.add_init_script(LAYOUT_SHIFTS)
    friend_page = friend_ctx.new_page()
    friend_page.goto(link + "?via=whatsapp")
    assert friend_page.url.startswith(wc["url"] + "/product/huile-olive-1l/?bridge="), friend_page.url
    assert "jusqu'à 10%" in widget_text(friend_page, ready="bridge-widget .b")  # the landing banner
    # The friend adds the tea too, and pays by bank transfer through the real block checkout.
    friend_page.goto(wc["url"] + "/product/the-vert/")
    friend_page.click("button[name=add-to-cart]")
    friend_page.wait_for_load_state()
    friend_page.goto(link.split("?")[0])  # back to the oil through the same link: the code is kept all along
    friend = woo_front.block_checkout(friend_page, wc["url"], "friend@example.test", payment="bacs")
    assert woo.order(wc, friend["order_id"])["status"] == "on-hold"
    # Not paid yet: the real thank-you page says the link is coming, and the widget asks again (issue 17).
    awaiting = widget_text(friend_page, ready="bridge-widget [role=status]")
    assert "Votre lien de partage arrive dès que votre paiement est confirmé" in awaiting, awaiting
    woo.set_status(wc, friend["order_id"], "processing")  # the merchant saw the transfer arrive
    friend_page.wait_for_selector("bridge-widget input", timeout=30_000)  # the widget's next look found it paid
    assert "2 acheteurs" in widget_text(friend_page)
    friend_page.reload()
    assert "2 acheteurs" in widget_text(friend_page)
    assert layout_shift(friend_page) == (0, []), layout_shift(friend_page)  # the thank-you page, on a phone
    woo.deliver_webhooks(woocommerce)
    founder_page.reload()
    assert "2 acheteurs" in widget_text(founder_page)
    bridge.ledger_ok()
    return founder, friend, founder_page, (founder_ctx, friend_ctx)


def test_social_buying_on_a_real_woocommerce_shop_paid_by_refund(tmp_path, wc, woocommerce, browser):
    bridge, recorder = started(tmp_path, wc, woocommerce, "refund")
    try:
        founder, friend, founder_page, contexts = group_of_two(bridge, recorder, wc, woocommerce, browser)

        # The owner refunds the friend's tea (a line refund): the eligible amount drops by that line only.
        tea = next(item for item in woo.order(wc, friend["order_id"])["line_items"] if item["product_id"] == 103)
        woo.refund(wc, friend["order_id"], "9.60", [{"id": tea["id"], "quantity": 1, "refund_total": "8.00",
                                                     "refund_tax": [{"id": 1, "refund_total": "1.60"}]}])
        woo.deliver_webhooks(woocommerce)
        bridge.ledger_ok()

        # Past close + hold: everyone is paid back 5% by a refund on their own order.
        past_hold(bridge)
        # founder: 2 x 24.00 = 48.00 -> 2.40; friend: 24.00 (the tea refunded) -> 1.20
        assert paid_payouts(bridge) == {str(founder["order_id"]): Decimal("2.40"),
                                        str(friend["order_id"]): Decimal("1.20")}
        refunds = woo.order(wc, founder["order_id"])["refunds"]
        assert [r["total"] for r in refunds] == ["-2.40"], refunds
        bridge.ledger_ok()

        # bridge's own refunds come back as order.updated webhooks: they are not the customer's.
        woo.deliver_webhooks(woocommerce)
        bridge.cli("sync", "wc")
        assert rows(bridge, "SELECT count(*) FROM clawback") == [(0,)]
        # The founder's page now shows the closed group and what was paid, and invites no more sharing.
        founder_page.reload()
        closed = widget_text(founder_page)
        assert "Vous récupérez 2,40" in closed and "Ce lien est fermé" in closed, closed
        assert "2 acheteurs ·" in closed and "pour l'instant" not in closed, closed  # final, not "so far"
        assert "Encore" not in closed and founder_page.locator("bridge-widget input").count() == 0
        shot(founder_page, "woocommerce-closed-group-desktop")
        founder_page.set_viewport_size({"width": 390, "height": 844})
        shot(founder_page, "woocommerce-closed-group-phone")
        bridge.ledger_ok()

        # A refund after the payout becomes a clawback of what was paid on it.
        oil = woo.order(wc, founder["order_id"])["line_items"][0]  # one of the two bottles came back
        woo.refund(wc, founder["order_id"], "24.00", [{"id": oil["id"], "quantity": 1, "refund_total": "20.00",
                                                       "refund_tax": [{"id": 1, "refund_total": "4.00"}]}])
        woo.deliver_webhooks(woocommerce)
        assert [(Decimal(a),) for (a,) in rows(bridge, "SELECT amount FROM clawback")] == [(Decimal("1.20"),)]
        bridge.ledger_ok()

        # A full refund of the friend's order after the payout: all that was paid on it comes back.
        left = Decimal(woo.order(wc, friend["order_id"])["total"]) - sum(
            -Decimal(r["total"]) for r in woo.order(wc, friend["order_id"])["refunds"])
        woo.refund(wc, friend["order_id"], f"{left:.2f}")
        assert woo.order(wc, friend["order_id"])["status"] == "refunded"
        woo.deliver_webhooks(woocommerce)
        clawbacks = dict(rows(bridge, "SELECT r.order_id, c.amount FROM clawback c"
                                      " JOIN reward r ON r.id = c.reward_id"))
        assert {k: Decimal(v) for k, v in clawbacks.items()} == {str(founder["order_id"]): Decimal("1.20"),
                                                                 str(friend["order_id"]): Decimal("1.20")}
        bridge.ledger_ok()

        # Every delivery bridge received, replayed twice, newest first, leaves the same state.
        before = state(bridge)
        for _ in range(2):
            assert set(recorder.replay(newest_first=True)) <= {200}
        assert state(bridge) == before
        bridge.ledger_ok()
        for context in contexts:
            context.close()
    finally:
        recorder.close()
        bridge.stop()


def test_cashback_by_coupon_is_used_at_the_real_checkout_once(tmp_path, wc, woocommerce, browser):
    bridge, recorder = started(tmp_path, wc, woocommerce, "coupon")
    try:
        founder, friend, founder_page, contexts = group_of_two(bridge, recorder, wc, woocommerce, browser)
        past_hold(bridge)
        assert paid_payouts(bridge) == {str(founder["order_id"]): Decimal("2.40"),
                                        str(friend["order_id"]): Decimal("1.68")}  # 33.60 x 5%
        coupons = woo.rest(wc).get("coupons", params={"per_page": 100}).json()
        by_email = {tuple(c["email_restrictions"]): c for c in coupons}
        mine = by_email[("founder@example.test",)]
        # Prices are entered without tax here, so WooCommerce adds 20% VAT to a fixed coupon: 2.00 takes 2.40 off.
        assert (mine["amount"], mine["discount_type"], mine["usage_limit"]) == ("2.00", "fixed_cart", 1)
        bridge.ledger_ok()

        # Someone else cannot use it; its owner can, once, as a guest at the real checkout.
        with pytest.raises(woo.CouponRefused):
            woo.checkout(wc, [(102, 1)], "stranger@example.test", coupon=mine["code"])
        used = woo.checkout(wc, [(102, 1)], "founder@example.test", coupon=mine["code"])
        placed = woo.order(wc, used["order_id"])
        assert [c["code"] for c in placed["coupon_lines"]] == [mine["code"]], placed["coupon_lines"]
        assert Decimal(placed["total"]) == Decimal("15.00") + Decimal("6.00") - Decimal("2.40")
        with pytest.raises(woo.CouponRefused):
            woo.checkout(wc, [(102, 1)], "founder@example.test", coupon=mine["code"])
        woo.deliver_webhooks(woocommerce)
        bridge.ledger_ok()
        for context in contexts:
            context.close()
    finally:
        recorder.close()
        bridge.stop()


def test_a_backfill_with_bridge_sync_finds_the_same_group(tmp_path, wc, woocommerce, browser):
    bridge, recorder = started(tmp_path / "live", wc, woocommerce, "refund") if (tmp_path / "live").mkdir() is None \
        else None
    try:
        founder, friend, _, contexts = group_of_two(bridge, recorder, wc, woocommerce, browser)
        for context in contexts:
            context.close()
    finally:
        recorder.close()
        bridge.stop()
    # A second bridge that never got a webhook reads the shop's history: the founder's group is found,
    # with the same payment instant (first seen paid: the shop's last change before the backfill).
    (tmp_path / "late").mkdir()
    late = bridge_for(tmp_path / "late", shop_yaml(wc), campaign_yaml("wc", "refund"))
    late.cli("db", "upgrade")
    synced = late.cli("sync", "wc")
    assert "read 2 order(s)" in synced.stdout and "2/2" in synced.stderr or "read 2 order(s)" in synced.stdout, synced
    explained = late.cli("explain", "order", "wc", str(founder["order_id"])).stdout
    assert "opened its own group" in explained, explained
    late.ledger_ok()


def test_coupons_expire_and_refunds_happen_once_on_the_real_shop(tmp_path, wc):
    from bridge.config import load_config
    from bridge.connectors.base import CouponSpec
    from bridge.connectors.woocommerce import WooCommerceConnector

    bridge = bridge_for(tmp_path, shop_yaml(wc), campaign_yaml("wc", "refund"))
    connector = WooCommerceConnector(load_config(str(bridge.config)).shop("wc"))
    ends = datetime(2027, 1, 31, 22, 59, 0, tzinfo=timezone.utc)
    coupon_id = connector.create_coupon(CouponSpec(code="LIVE-EXPIRES-7K", email="ada@example.test",
                                                   amount=Decimal("6.00"), expires_at=ends, description="live"))
    assert connector.create_coupon(CouponSpec(code="LIVE-EXPIRES-7K", email="ada@example.test",
                                              amount=Decimal("6.00"), expires_at=ends)) == coupon_id
    stored = woo.rest(wc).get(f"coupons/{coupon_id}").json()
    assert stored["date_expires_gmt"] == "2027-01-31T22:59:00", stored  # WooCommerce 11 kept the end
    assert stored["amount"] == "5.00"  # 6.00 with the 20% VAT WooCommerce adds on top

    placed = woo.checkout(wc, [(104, 1)], "ada@example.test")
    first = connector.refund(str(placed["order_id"]), Decimal("1.00"), "payout:live:1", "live cashback")
    assert connector.refund(str(placed["order_id"]), Decimal("1.00"), "payout:live:1", "live cashback") == first
    order = connector.fetch_order(str(placed["order_id"]))
    assert (order.refunded, order.own_refunded, order.paid_at_source) == (Decimal(0), Decimal("1.00"), "first_seen")


def test_a_referral_is_attributed_by_the_welcome_coupon_alone_on_another_device(tmp_path, wc, woocommerce, browser):
    """Issue 17's coupon key: the friend asks for the welcome coupon on a phone, then buys on a laptop with
    no link, no cookie and no widget report; the coupon line of the real order attributes the referral."""
    bridge = bridge_for(tmp_path, shop_yaml(wc), referral_yaml("wc"))
    bridge.cli("db", "upgrade")
    bridge.serve()
    recorder = DeliveryRecorder(bridge.url)
    try:
        assert bridge.cli("webhooks", "install", "wc", "--url", f"{recorder.url}/webhooks/wc").stdout.count(": created") == 4
        install_snippet(woocommerce, bridge)
        marie = woo.checkout(wc, [(101, 1)], "marie@example.test")
        woo.deliver_webhooks(woocommerce)
        [(code,)] = rows(bridge, "SELECT code FROM advocate WHERE email_norm = ?", "marie@example.test")

        coupon = welcome_code(browser, bridge, code, "lea@example.test")

        # On a laptop, days later for all bridge knows: only the coupon typed at the real checkout.
        friend = woo.checkout(wc, [(101, 2)], "lea@example.test", coupon=coupon, user_agent=DESKTOP_UA,
                              address={"first_name": "Léa", "address_1": "12 rue Oberkampf", "postcode": "75011"})
        placed = woo.order(wc, friend["order_id"])
        assert [c["code"] for c in placed["coupon_lines"]] == [coupon.lower()], placed["coupon_lines"]  # WooCommerce lower-cases
        woo.deliver_webhooks(woocommerce)
        assert rows(bridge, "SELECT order_id, code, source FROM referral_claim") == [(str(friend["order_id"]), code, "coupon")]
        assert rows(bridge, "SELECT COUNT(*) FROM click") == [(1,)]  # the phone's visit, never tied to the order
        past_hold(bridge)
        granted = referrer_rewards(bridge)
        explained = bridge.cli("explain", "order", "wc", str(friend["order_id"])).stdout
        assert granted == [("marie@example.test", Decimal("5.00"), "paid")], (granted, explained)
        assert f"attributed by coupon to code {code}" in explained and "granted" in explained, explained
        assert marie["order_id"]
        bridge.ledger_ok()
    finally:
        recorder.close()
        bridge.stop()
