"""The social-buying loop on a real PrestaShop 8.1 shop, through bridge's CLI and HTTP only.

Guest checkouts by bank wire and cheque as the classic theme's forms send them, the merchant's
"Payment accepted" and credit slips through PrestaShop's own back-office commands, the bridgehints
module installed into the real shop, the share link through friendly URLs with the canonical
redirect on, polling that sees credit slips, and cashback paid as cart rules that the buyer then
uses at a real guest checkout. `bridge ledger check` holds after every step.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
import requests

from tests.live import prestashop_front
from tests.live.conftest import ROOT, bridge_for
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
    referrer_link,
    referrer_rewards,
    rows,
    shot,
    welcome_code,
    widget_text,
)
from tests.live.story import state as story_state

CAMPAIGN = campaign_yaml("ps", "coupon")


def shop_yaml(shop: dict, hint_secret: str | None) -> str:
    hints = f"\n    hint_secret: {hint_secret}" if hint_secret else ""
    return f"""\
- id: ps
  name: Boutique Test
  platform: prestashop
  url: {shop['url'].rstrip('/')}
  currency: EUR
  timezone: Europe/Paris
  locale: fr
  tone: vous
  sync:
    poll_every: "off"
    backfill_from: 2025-01-01
    timeout: 30s
  prestashop:
    webservice_key: {shop['webservice_key']}{hints}
"""


@pytest.fixture
def ps(prestashop):
    prestashop.fresh()
    return prestashop.info


def checkout(prestashop, product: str, email: str, payment: str, voucher: str | None = None) -> dict:
    """A guest checkout with the shop's own helper (plain form posts, a browser's user agent)."""
    argv = [sys.executable, str(prestashop.dir / "scripts" / "checkout.py"), str(prestashop.dir / "shop.json"),
            "--product", product, "--payment", payment, "--email", email]
    if voucher:
        argv += ["--voucher", voucher]
    return json.loads(prestashop.run(*argv, timeout=120))


def merchant(prestashop, *args: str) -> dict:
    """The back office's own commands (order.php): status changes, partial refunds with credit slips."""
    return json.loads(prestashop.run(str(prestashop.dir / "ps-php"), str(prestashop.dir / "scripts" / "order.php"),
                                     *args))


def install_module(prestashop, bridge, secret: str) -> None:
    """The bridgehints module, installed as the back office's upload does, configured with bridge's URL."""
    prestashop.run(str(prestashop.dir / "install-module"), str(ROOT / "prestashop-module" / "bridgehints"),
                   timeout=300)
    script = prestashop.dir / "scripts" / "bridge-configure.php"
    script.write_text("<?php\nrequire getenv('PS_SHOP_DIR') . '/config/config.inc.php';\n"
                      f"Configuration::updateValue('BRIDGEHINTS_URL', '{bridge.url}/webhooks/ps');\n"
                      f"Configuration::updateValue('BRIDGEHINTS_SECRET', '{secret}');\necho 'ok';\n")
    subprocess.run(["chown", "www-data", str(script)], check=False)
    assert prestashop.run(str(prestashop.dir / "ps-php"), str(script)).strip().endswith("ok")


def share_link(bridge, placed: dict) -> str:
    """What the widget shows on the confirmation page: bridge's thank-you view of the order."""
    view = requests.get(f"{bridge.url}/api/v1/shops/ps/orders/{placed['id_order']}",
                        params={"key": placed["key"]}, timeout=30)
    assert view.status_code == 200, view.text
    return view.json()["share_url"]


def test_social_buying_on_a_real_prestashop_shop_paid_by_voucher(tmp_path, ps, prestashop, browser):
    secret = secrets.token_hex(24)
    bridge = bridge_for(tmp_path, shop_yaml(ps, secret), CAMPAIGN)
    assert "ps" in bridge.cli("check").stdout
    bridge.cli("db", "upgrade")
    bridge.serve()
    try:
        recorder = DeliveryRecorder(bridge.url)
        install_module(prestashop, recorder, secret)

        # The founder pays by bank wire; nothing counts until the merchant records the payment.
        founder = checkout(prestashop, "1x2", "founder@example.test", "ps_wirepayment")
        merchant(prestashop, "status", str(founder["id_order"]), "PS_OS_PAYMENT")
        explained = bridge.cli("explain", "order", "ps", str(founder["id_order"])).stdout
        assert "opened its own group" in explained, explained  # the module's hint brought it at once
        bridge.ledger_ok()

        # The founder's confirmation page of the real classic theme shows the share link, in its
        # confirmation block (the module's placeholder), not below the footer.
        founder_ctx = browser.new_context(locale="fr-FR", user_agent=DESKTOP_UA)
        founder_ctx.add_init_script(LAYOUT_SHIFTS)
        founder_page = founder_ctx.new_page()
        founder_page.goto(founder["confirmation_url"])
        assert "1 acheteur" in widget_text(founder_page)
        # The module kept the widget's place: drawing it moves nothing (issue 20: layout shift 0).
        assert layout_shift(founder_page) == (0, []), layout_shift(founder_page)
        assert founder_page.locator("#content-hook_order_confirmation bridge-widget").count() == 1
        shot(founder_page, "prestashop-confirmation-desktop")
        link = founder_page.locator("bridge-widget input").input_value()

        # A friend on a phone follows it: friendly URLs and the canonical redirect keep the code; the
        # friend buys in the front office by cheque, and the merchant cashes it.
        friend_ctx = browser.new_context(locale="fr-FR", user_agent=PHONE_UA, is_mobile=True, has_touch=True,
                                         viewport={"width": 390, "height": 844})
        friend_ctx.add_init_script(LAYOUT_SHIFTS)
        friend_page = friend_ctx.new_page()
        friend_page.goto(link + "?via=whatsapp")
        assert "bridge=" in friend_page.url and "/hommes/1-" in friend_page.url, friend_page.url
        assert "jusqu'à 10%" in widget_text(friend_page, ready="bridge-widget .b")
        friend = prestashop_front.guest_checkout(friend_page, "friend@example.test", "ps_checkpayment", quantity=2)
        merchant(prestashop, "status", str(friend["id_order"]), "PS_OS_PAYMENT")
        friend_page.reload()
        assert "2 acheteurs" in widget_text(friend_page)
        assert layout_shift(friend_page) == (0, []), layout_shift(friend_page)  # on a phone
        shot(friend_page, "prestashop-friend-confirmation-phone")
        assert "joined" in bridge.cli("explain", "order", "ps", str(friend["id_order"])).stdout
        founder_page.reload()
        assert "2 acheteurs" in widget_text(founder_page)
        bridge.ledger_ok()

        # A credit slip for one of the friend's two T-shirts: seen by the hint, and by a bridge that only
        # polls (with no overlap, so that only the slip's own date can bring the order back).
        (tmp_path / "poller").mkdir()
        polling = shop_yaml(ps, None).replace('poll_every: "off"', 'poll_every: "off"\n    overlap: 1s')
        poller = bridge_for(tmp_path / "poller", polling, CAMPAIGN)
        poller.cli("db", "upgrade")
        time.sleep(2)
        merchant(prestashop, "status", str(founder["id_order"]), "PS_OS_SHIPPING")  # a later change of another order
        poller.cli("sync", "ps")  # its cursor is now past the friend's order, whose date_upd a slip never moves
        time.sleep(2)
        merchant(prestashop, "refund", str(friend["id_order"]), "#1=1")
        poller.cli("sync", "ps")
        for who in (bridge, poller):
            refunded = rows(who, "SELECT refunded FROM order_fact WHERE order_id = ?", str(friend["id_order"]))
            assert Decimal(refunded[0][0]) > 0, (who.folder, refunded)
            who.ledger_ok()

        # Past close + hold: cashback as single-use cart rules, usable by the buyer at a guest checkout.
        past_hold(bridge)
        paid = paid_payouts(bridge)
        # 5% of 2 x 22.94 for the founder; of the one T-shirt (22.94) the friend kept
        assert paid == {str(founder["id_order"]): Decimal("2.29"), str(friend["id_order"]): Decimal("1.15")}, paid
        reference = rows(bridge, "SELECT p.external_ref FROM payout p JOIN reward r ON r.id = p.reward_id "
                                 "WHERE r.order_id = ?", str(founder["id_order"]))[0][0]
        bridge.ledger_ok()
        voucher = json.loads(prestashop.run(
            str(prestashop.dir / "mysql"), "-N", "-e", "SELECT JSON_OBJECT('code', code, 'amount', "
            f"CAST(reduction_amount AS CHAR)) FROM ps_cart_rule WHERE code = '{reference}'").strip())
        assert Decimal(voucher["amount"]) == paid[str(founder["id_order"])]
        used = checkout(prestashop, "1x1", "founder@example.test", "ps_wirepayment", voucher=voucher["code"])
        discount = prestashop.run(str(prestashop.dir / "mysql"), "-N", "-e",
                                  "SELECT CAST(total_discounts_tax_incl AS CHAR) FROM ps_orders"
                                  f" WHERE id_order = {int(used['id_order'])}").strip()
        assert Decimal(discount) == Decimal(voucher["amount"]), discount
        with pytest.raises(Exception, match="voucher"):  # single use
            checkout(prestashop, "1x1", "founder@example.test", "ps_wirepayment", voucher=voucher["code"])
        bridge.ledger_ok()

        # A credit slip after the payout: what it took off the founder's cashback becomes a clawback
        # (5% of 45.89 was 2.29; of the one T-shirt left, 1.15).
        merchant(prestashop, "refund", str(founder["id_order"]), "#1=1")
        clawbacks = [Decimal(a) for (a,) in rows(bridge, "SELECT amount FROM clawback")]
        assert clawbacks == [Decimal("1.14")], clawbacks
        bridge.ledger_ok()

        # Every hint the module sent, replayed twice newest first, changes nothing.
        before = story_state(bridge)
        assert len(recorder.deliveries) >= 5 and {d[3] for d in recorder.deliveries} == {200}, recorder.deliveries
        for _ in range(2):
            assert set(recorder.replay(newest_first=True)) == {200}
        assert story_state(bridge) == before
        bridge.ledger_ok()
        founder_ctx.close()
        friend_ctx.close()
    finally:
        recorder.close() if "recorder" in locals() else None
        bridge.stop()


def allow_get(prestashop, key: str, resource: str = "order_cart_rules") -> None:
    """What the owner ticks on the key's Webservice page: GET on order_cart_rules (the vouchers of each order),
    or on bridge_order_codes (the share codes the module stored)."""
    prestashop.run(str(prestashop.dir / "mysql"), "-e",
                   "INSERT INTO ps_webservice_permission (resource, method, id_webservice_account) SELECT"
                   f" '{resource}', 'GET', id_webservice_account FROM ps_webservice_account"
                   f" WHERE `key` = '{key}'")


@contextmanager
def referral_shop(tmp_path, ps, prestashop, resource: str):
    """bridge serving the referral campaign, the module installed with GET on `resource` for bridge's key, and
    Marie a paying customer, hence a referrer: (bridge, Marie's order, her code); stopped afterwards."""
    secret = secrets.token_hex(24)
    bridge = bridge_for(tmp_path, shop_yaml(ps, secret), referral_yaml("ps"))
    bridge.cli("db", "upgrade")
    bridge.serve()
    recorder = DeliveryRecorder(bridge.url)
    try:
        install_module(prestashop, recorder, secret)
        allow_get(prestashop, ps["webservice_key"], resource)
        marie = checkout(prestashop, "1x2", "marie@example.test", "ps_wirepayment")
        merchant(prestashop, "status", str(marie["id_order"]), "PS_OS_PAYMENT")
        [(code,)] = rows(bridge, "SELECT code FROM advocate WHERE email_norm = ?", "marie@example.test")
        yield bridge, marie, code
    finally:
        recorder.close()
        bridge.stop()


def test_a_referral_is_attributed_by_the_welcome_voucher_alone_on_another_device(tmp_path, ps, prestashop, browser):
    """Issue 17's coupon key on the real shop: the friend asks for the welcome voucher on a phone, then buys
    through the shop's own checkout with no link, no cookie and no widget; the order's cart rule attributes it."""
    with referral_shop(tmp_path, ps, prestashop, "order_cart_rules") as (bridge, marie, code):
        voucher = welcome_code(browser, bridge, code, "lea@example.test", "prestashop-welcome-voucher-phone")

        friend = checkout(prestashop, "1x2", "lea@example.test", "ps_checkpayment", voucher=voucher)
        merchant(prestashop, "status", str(friend["id_order"]), "PS_OS_PAYMENT")
        assert rows(bridge, "SELECT order_id, code, source FROM referral_claim") == [(str(friend["id_order"]), code, "coupon")]
        past_hold(bridge)
        granted = referrer_rewards(bridge)
        assert granted == [("marie@example.test", Decimal("5.00"), "paid")], granted
        explained = bridge.cli("explain", "order", "ps", str(friend["id_order"])).stdout
        assert f"attributed by coupon to code {code}" in explained and "granted" in explained, explained
        bridge.ledger_ok()


def test_a_referral_is_attributed_by_the_code_the_module_stored_with_the_order(tmp_path, ps, prestashop, browser):
    """Issue 17's order-meta key on the real shop: the friend arrives through the referrer's link on a phone; the
    widget never runs again in that browser (blocked), yet the share code the module kept with the cart and stored
    with the order (read through its Webservice resource) attributes the referral."""
    with referral_shop(tmp_path, ps, prestashop, "bridge_order_codes") as (bridge, marie, code):
        # Marie's confirmation page gives her own link (a referral-only shop): the classic theme, desktop and phone.
        referrer_link(browser, marie["confirmation_url"], bridge, code, "prestashop-referrer-confirmation")

        phone = browser.new_context(locale="fr-FR", user_agent=PHONE_UA, is_mobile=True, has_touch=True,
                                    viewport={"width": 390, "height": 844})
        page = phone.new_page()
        page.goto(f"{bridge.url}/r/{code}")
        assert "Un proche vous offre 10%" in widget_text(page, ready="bridge-widget .b")  # the module's line
        assert {c["name"]: c["value"] for c in phone.cookies()}.get("bridge_ps", "").startswith(code), phone.cookies()
        phone.route("**/widget.js", lambda route: route.abort())  # from here on, no widget and no report
        page.goto(ps["url"].rstrip("/") + "/index.php?id_product=1&controller=product")
        friend = prestashop_front.guest_checkout(page, "lea@example.test", "ps_checkpayment", quantity=2, first="Léa")
        assert page.locator("bridge-widget").count() == 0
        phone.close()
        stored = prestashop.run(str(prestashop.dir / "mysql"), "-N", "-e",
                                f"SELECT code FROM ps_bridge_order_code WHERE id_order = {friend['id_order']}")
        assert stored.split() == [code], stored

        merchant(prestashop, "status", str(friend["id_order"]), "PS_OS_PAYMENT")
        assert rows(bridge, "SELECT order_id, code, source FROM referral_claim") == [(str(friend["id_order"]), code, "meta")]
        past_hold(bridge)
        explained = bridge.cli("explain", "order", "ps", str(friend["id_order"])).stdout
        assert referrer_rewards(bridge) == [("marie@example.test", Decimal("5.00"), "paid")], explained
        assert f"attributed by meta to code {code}" in explained, explained
        bridge.ledger_ok()
