"""PrestaShop order hints: the bridgehints module (real PHP, real HTTP) posts to bridge, which reads the order.

The module runs under php-cli through tests/php/harness.php (stand-ins for the few PrestaShop classes it
touches); bridge runs on loopback in front of the fake Webservice. `make test` installs php-cli.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import socket
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bridge.connectors import forget_caches
from bridge.storage.db import db
from bridge.storage.models import OrderFact
from bridge.web import create_app
from tests.conftest import migrated_config
from tests.fake_prestashop import FakePrestaShop
from tests.test_contract_prestashop import KEY, paid_copy

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "prestashop-module" / "bridgehints" / "bridgehints.php"
HARNESS = ROOT / "tests" / "php" / "harness.php"
SECRET = "hint-secret-0123456789abcdefghijklmnop"
PHP = shutil.which("php")


def prestashop_text(config_text: str, url: str, **settings) -> str:
    """The tests' configuration with shop1 on PrestaShop at `url`, plus prestashop settings."""
    extra = "".join(f"\n      {k}: {v}" for k, v in settings.items())
    return config_text.replace("platform: woocommerce", "platform: prestashop").replace(
        "url: https://shop1.example", f"url: {url}").replace(
        "    woocommerce:\n      consumer_key: ck_test_key\n      consumer_secret: cs_test_secret_value",
        f"    prestashop:\n      webservice_key: {KEY}{extra}")


@pytest.fixture
def shop():
    forget_caches()
    with FakePrestaShop(KEY) as fake:
        fake.put("orders", paid_copy(41, datetime.now(timezone.utc) - timedelta(minutes=5)))
        fake.put("orders", paid_copy(42, datetime.now(timezone.utc) - timedelta(minutes=4)))
        yield fake


def serve(config):
    """bridge's web app on a loopback port; returns (base URL, stop)."""
    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop():
        server.shutdown()
        server.server_close()
    return f"http://127.0.0.1:{server.server_port}", stop


@pytest.fixture
def bridge(config_text, shop, tmp_path):
    config = migrated_config(prestashop_text(config_text, shop.url, hint_secret=SECRET, id_shop=1), tmp_path)
    base, stop = serve(config)
    yield base, config
    stop()


def run_module(tmp_path, scenario: dict, bare: bool = False) -> dict:
    """Run the module under php-cli (with `bare`, without php.ini: no curl, the streams fallback)."""
    assert PHP, "php-cli is missing: scripts/system-deps.sh installs it"
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"module": str(MODULE), **scenario}))
    result = subprocess.run([PHP, *(["-n"] if bare else []), str(HARNESS), str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr + result.stdout  # not even a notice
    return json.loads(result.stdout)


def configured(base: str, secret: str = SECRET) -> dict:
    return {"BRIDGEHINTS_URL": f"{base}/webhooks/shop1", "BRIDGEHINTS_SECRET": secret}


def stored_orders() -> set[str]:
    with db.connection_context():
        return {row.order_id for row in OrderFact.select(OrderFact.order_id)}


def order_reads(shop) -> list[str]:
    return [path for method, path, args in shop.requests if method == "GET" and path.startswith("/api/orders/")]


@pytest.mark.parametrize("bare", [False, True], ids=["curl", "streams"])
def test_the_modules_hooks_become_one_signed_hint_per_order_and_bridge_reads_each_order(bridge, shop, tmp_path,
                                                                                         bare):
    base, _ = bridge
    report = run_module(tmp_path, {
        "configuration": configured(base), "order_shops": {"41": 1, "42": 1}, "install": True,
        "calls": [["hookActionValidateOrder", {"order": 41}], ["hookActionOrderStatusPostUpdate", {"id_order": 41}],
                  ["hookActionValidateOrder", {"order": 42}], ["hookActionOrderSlipAdd", {"order": 42}]]}, bare=bare)
    assert report["transport"] == ("streams" if bare else "curl")
    assert report["hooks"] == ["actionValidateOrder", "actionOrderStatusPostUpdate", "actionOrderSlipAdd",
                               "displayBeforeBodyClosingTag", "displayOrderConfirmation", "actionCartSave",
                               "addWebserviceResources"]
    assert any("CREATE TABLE IF NOT EXISTS `ps_bridge_order_code`" in q for q in report["queries"])
    assert report["logs"] == []  # every hint was accepted
    assert stored_orders() == {"41", "42"}
    # Two hooks for each order, one hint each: the order is read once per hint, from the shop's own API.
    assert sorted(order_reads(shop)) == ["/api/orders/41", "/api/orders/42"]
    with db.connection_context():
        assert OrderFact.get(OrderFact.order_id == "41").paid


def test_a_wrong_secret_is_refused_stores_nothing_and_is_logged_without_the_secret(bridge, shop, tmp_path):
    base, _ = bridge
    wrong = "another-secret-0123456789abcdefghijkl"
    report = run_module(tmp_path, {"configuration": configured(base, wrong), "order_shops": {"41": 1},
                                   "calls": [["hookActionValidateOrder", {"order": 41}]]})
    assert stored_orders() == set() and order_reads(shop) == []
    [line] = report["logs"]
    assert "order 41 not delivered: HTTP 401" in line["message"] and line["severity"] == 2
    assert wrong not in json.dumps(report["logs"])


def test_an_unreachable_bridge_never_breaks_the_request(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    report = run_module(tmp_path, {"configuration": configured(closed), "order_shops": {"41": 1},
                                   "calls": [["hookActionValidateOrder", {"order": 41}]]})
    [line] = report["logs"]
    assert "bridge hint order.created for order 41 not delivered" in line["message"]


def test_an_unconfigured_module_sends_nothing(tmp_path):
    report = run_module(tmp_path, {"configuration": {}, "calls": [["hookActionValidateOrder", {"order": 41}]]})
    assert report["logs"] == []


def test_the_configuration_page_saves_checks_and_tests_the_connection(bridge, tmp_path):
    base, _ = bridge
    saved = run_module(tmp_path, {"configuration": {}, "content": True, "post": {
        "submitBridgeHints": "1", "BRIDGEHINTS_URL": f"{base}/webhooks/shop1", "BRIDGEHINTS_SECRET": SECRET}})
    assert "Settings saved." in saved["content"] and saved["configuration"] == configured(base)
    assert SECRET not in saved["content"]  # the secret is never shown again
    kept = run_module(tmp_path, {"configuration": configured(base), "content": True, "post": {
        "submitBridgeHints": "1", "BRIDGEHINTS_URL": f"{base}/webhooks/shop1", "BRIDGEHINTS_SECRET": ""}})
    assert kept["configuration"]["BRIDGEHINTS_SECRET"] == SECRET
    short = run_module(tmp_path, {"configuration": {}, "content": True, "post": {
        "submitBridgeHints": "1", "BRIDGEHINTS_URL": f"{base}/webhooks/shop1", "BRIDGEHINTS_SECRET": "short"}})
    assert "at least 32 characters" in short["content"] and not short["configuration"]
    bad_url = run_module(tmp_path, {"configuration": {}, "content": True, "post": {
        "submitBridgeHints": "1", "BRIDGEHINTS_URL": "javascript:alert(1)//webhooks/x", "BRIDGEHINTS_SECRET": SECRET}})
    assert "must be bridge's webhook address" in bad_url["content"] and not bad_url["configuration"]
    test = run_module(tmp_path, {"configuration": configured(base), "content": True, "post": {"testBridgeHints": "1"}})
    assert "bridge accepted the test hint." in test["content"]
    refused = run_module(tmp_path, {"configuration": configured(base, "x" * 40), "content": True,
                                    "post": {"testBridgeHints": "1"}})
    assert "bridge refused the signature" in refused["content"]


def test_a_saved_url_is_escaped_in_the_page(tmp_path):
    hostile = 'http://x.example/webhooks/a"><script>alert(1)</script>'
    page = run_module(tmp_path, {"configuration": {"BRIDGEHINTS_URL": hostile}, "content": True})["content"]
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post(client, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Bridge-Signature"] = signature
    return client.post("/webhooks/shop1", data=body, headers=headers)


@pytest.mark.parametrize("body, signature, status, code", [
    (b'{"event": "order.created", "id_order": 41}', None, 401, "bad_signature"),
    (b'{"event": "order.created", "id_order": 41}', sign(b"something else"), 401, "bad_signature"),
    (b'{"event": "order.created", "id_order": 41}', "not base64 \xe9", 401, "bad_signature"),
    (b"not json", sign(b"not json"), 400, "malformed_payload"),
    (b'["order.created"]', sign(b'["order.created"]'), 400, "malformed_payload"),
    (b'{"event": "order.created", "id_order": "41"}', sign(b'{"event": "order.created", "id_order": "41"}'), 400,
     "malformed_payload"),
    (b'{"event": "order.created", "id_order": true}', sign(b'{"event": "order.created", "id_order": true}'), 400,
     "malformed_payload"),
])
def test_bad_hints_get_4xx_and_store_nothing(bridge, shop, body, signature, status, code):
    _, config = bridge
    response = post(create_app(config).test_client(), body, signature)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert stored_orders() == set() and order_reads(shop) == []


def test_pings_other_stores_and_unknown_events_are_answered_200_and_read_nothing(bridge, shop):
    _, config = bridge
    client = create_app(config).test_client()
    ping = b'{"event": "ping", "id_order": 0, "id_shop": 1}'
    assert post(client, ping, sign(ping)).status_code == 200
    for body in (b'{"event": "order.created", "id_order": 41, "id_shop": 2}', b'{"event": "cart.updated", "id_order": 41}'):
        response = post(client, body, sign(body))
        assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    assert stored_orders() == set() and order_reads(shop) == []


def test_hints_are_refused_until_a_secret_is_configured(config_text, shop, tmp_path):
    config = migrated_config(prestashop_text(config_text, shop.url), tmp_path)
    body = b'{"event": "order.created", "id_order": 41}'
    response = post(create_app(config).test_client(), body, sign(body, ""))  # an empty key would let anyone sign
    assert response.status_code == 401 and "prestashop.hint_secret" in response.get_json()["error"]["message"]
    assert stored_orders() == set()


def test_a_hint_for_an_order_the_shop_does_not_know_is_gone(bridge, shop):
    _, config = bridge
    body = b'{"event": "order.updated", "id_order": 777}'
    response = post(create_app(config).test_client(), body, sign(body))
    assert response.status_code == 200 and response.get_json()["status"] == "gone"
    assert stored_orders() == set()


@pytest.mark.parametrize("secret, says", [(SECRET, "order hints from the bridgehints module accepted"),
                                          (None, "no order hints (prestashop.hint_secret not set)")])
def test_check_says_whether_hints_are_accepted(config_text, tmp_path, secret, says):
    from click.testing import CliRunner

    from bridge.cli import main

    text = prestashop_text(config_text, "https://ps.example", **({"hint_secret": secret} if secret else {}))
    (tmp_path / "config.yaml").write_text(text)
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "config.yaml"), "check"])
    assert result.exit_code == 0 and says in result.output and SECRET not in result.output, result.output


def test_a_split_cart_is_one_purchase_for_hints_and_the_thank_you_page(bridge, shop):
    _, config = bridge
    for order_id, total in ((43, "40.000000"), (44, "31.510000")):
        shop.put("orders", {**paid_copy(order_id, datetime.now(timezone.utc) - timedelta(minutes=1)),
                            "reference": "SPLITCART", "id_cart": "77", "total_paid_tax_incl": total})
    client = create_app(config).test_client()
    body = b'{"event": "order.created", "id_order": 44, "id_shop": 1}'
    assert post(client, body, sign(body)).get_json() == {"status": "ok", "order": "43", "changed": True}
    assert stored_orders() == {"43"}
    view = client.post("/api/v1/shops/shop1/conversions",
                       data={"order_id": "44", "key": "b44a6d9efd7a0076a0fbce6b15eaf3b1"}).get_json()
    assert view["you"]["role"] == "founder" and view["share_url"] and stored_orders() == {"43"}


def test_webhooks_install_points_prestashop_shops_to_the_module(config_text, tmp_path):
    from click.testing import CliRunner

    from bridge.cli import main

    text = prestashop_text(config_text, "https://ps.example").replace(
        "    tone: tu", "    tone: tu\n    sync:\n      poll_every: 2m")
    migrated_config(text, tmp_path)
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "config.yaml"), "webhooks", "install", "shop1"])
    assert result.exit_code == 2 and "polls them every 2m" in result.output and "bridgehints" in result.output


def test_a_hint_that_does_not_know_its_store_is_read(bridge, shop):
    _, config = bridge
    body = b'{"event": "order.updated", "id_order": 41, "id_shop": 0}'  # the module could not tell the store
    response = post(create_app(config).test_client(), body, sign(body))
    assert response.status_code == 200 and response.get_json()["status"] == "ok" and stored_orders() == {"41"}


def test_the_module_puts_the_widget_on_every_page_and_its_place_on_the_confirmation_page(tmp_path):
    report = run_module(tmp_path, {"configuration": {"BRIDGEHINTS_URL": "https://bridge.example/b/webhooks/shop-1",
                                                     "BRIDGEHINTS_SECRET": SECRET},
                                   "calls": [["hookDisplayBeforeBodyClosingTag", {}],
                                             ["hookDisplayOrderConfirmation", {}]]})
    assert report["outputs"] == ['<script src="https://bridge.example/b/widget.js" data-shop="shop-1" async></script>\n',
                                 "<style>[data-bridge-widget] { display: flow-root; min-height: 340px; }</style>"
                                 "<div data-bridge-widget></div>"]
    unconfigured = run_module(tmp_path, {"configuration": {"BRIDGEHINTS_URL": "javascript:alert(1)//webhooks/x"},
                                         "calls": [["hookDisplayBeforeBodyClosingTag", {}]]})
    assert unconfigured["outputs"] == [""]  # only a real webhook address of bridge gives a script


FUTURE = "9999999999999"  # the cookie's expiry, in ms


@pytest.mark.parametrize("cookie, cart_code, stored", [
    (f"K9RTX7MNPQ4CDE.W3AF6GHJ9KMN4P|{FUTURE}", None, "K9RTX7MNPQ4CDE.W3AF6GHJ9KMN4P"),  # the widget's cookie
    ("k9rtx7mnpq4cde|" + FUTURE, None, "K9RTX7MNPQ4CDE"),
    (None, "K9RTX7MNPQ4CDE", "K9RTX7MNPQ4CDE"),  # kept with the cart earlier: an off-site payment's return
    ("K9RTX7MNPQ4CDE|1000000000000", None, None),  # expired (2001)
    ("K9RTX7MNPQ4CDE'; DROP TABLE x; --|" + FUTURE, None, None),  # not a code: nothing stored
    (None, None, None),
], ids=["code-and-tag", "lower-case", "from-the-cart", "expired", "malformed", "none"])
def test_the_module_stores_the_share_code_with_the_validated_order(tmp_path, cookie, cart_code, stored):
    """Issue 17's order-meta key: the cookie's code (or the one kept with the cart) stored once with the order."""
    report = run_module(tmp_path, {"configuration": {"BRIDGEHINTS_URL": "https://bridge.example/webhooks/shop1"},
                                   "cookies": {"bridge_shop1": cookie} if cookie else {},
                                   "cart_codes": {"1041": cart_code} if cart_code else {},
                                   "calls": [["hookActionValidateOrder", {"order": 41}]]})
    inserts = [q for q in report["queries"] if q.startswith("INSERT")]
    if stored is None:
        assert inserts == [] and report["logs"] == []
    else:
        [insert] = inserts
        assert insert.startswith("INSERT IGNORE INTO `ps_bridge_order_code`") and f"(1041, 41, '{stored}', NOW())" in insert


def test_the_module_keeps_the_cookies_code_with_the_shoppers_cart(tmp_path):
    report = run_module(tmp_path, {"configuration": {"BRIDGEHINTS_URL": "https://bridge.example/webhooks/shop1"},
                                   "cookies": {"bridge_shop1": f"K9RTX7MNPQ4CDE|{FUTURE}", "bridge_other": "x"},
                                   "cart": 77, "calls": [["hookActionCartSave", {}]]})
    [insert] = report["queries"]
    assert "VALUES (77, 0, 'K9RTX7MNPQ4CDE', NOW()) ON DUPLICATE KEY UPDATE" in insert
    resources = run_module(tmp_path, {"calls": [["hookAddWebserviceResources", {}]]})["outputs"][0]
    assert resources["bridge_order_codes"]["class"] == "BridgeOrderCode"
    assert resources["bridge_order_codes"]["forbidden_method"] == ["PUT", "POST", "PATCH", "DELETE"]
