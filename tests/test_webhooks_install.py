"""`bridge webhooks install`: the shop's webhooks created once, then deliveries reach a live bridge."""

import threading
from decimal import Decimal

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from bridge.cli import main
from bridge.connectors.woocommerce import WooCommerceConnector
from bridge.storage.db import db
from bridge.storage.models import OrderFact, ShopSecret
from bridge.web import create_app
from tests.conftest import migrated_config
from tests.fake_woocommerce import FakeWooCommerce, config_for
from tests.wc_fixtures import rest_json


@pytest.fixture
def shop():
    with FakeWooCommerce("ck_test_key", "cs_test_secret_value") as fake:
        fake.put_order(rest_json("19-order-get-after-refund.response.json"))
        yield fake


@pytest.fixture
def bridge_server(config_text, shop, tmp_path):
    """A bridge web server on loopback (the shop pings it and delivers to it) and its config file."""
    server = make_server("127.0.0.1", 0, None, threaded=True)
    public = f"http://127.0.0.1:{server.server_port}"
    text = config_for(config_text, shop.url).replace("public_url: http://127.0.0.1:8000", f"public_url: {public}")
    config, path = migrated_config(text, tmp_path), tmp_path / "config.yaml"
    server.app = create_app(config)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield public, path
    server.shutdown()
    server.server_close()


def install(path, *args):
    return CliRunner().invoke(main, ["--config", str(path), "webhooks", "install", "shop1", *args])


def test_install_creates_the_four_order_webhooks_and_deliveries_are_ingested(shop, bridge_server):
    public, path = bridge_server
    result = install(path)
    assert result.exit_code == 0, result.output
    assert result.output.count(": created (webhook") == 4
    hooks = sorted(shop.webhooks.values(), key=lambda h: h["topic"])
    assert [h["topic"] for h in hooks] == ["order.created", "order.deleted", "order.restored", "order.updated"]
    with db.connection_context():
        secret = ShopSecret.get(ShopSecret.shop == "shop1").value
    assert {h["delivery_url"] for h in hooks} == {f"{public}/webhooks/shop1"}
    assert {h["secret"] for h in hooks} == {secret} and len(secret) >= 40
    assert not any(h["pending_delivery"] for h in hooks)  # every ping got exactly 200
    assert secret not in result.output

    assert shop.deliver("order.updated", 17) == [200]
    assert shop.deliver("order.updated", 17) == [200]  # a duplicate is harmless
    with db.connection_context():
        assert [(o.order_id, o.refunded) for o in OrderFact.select()] == [("17", Decimal("10.00"))]


def test_installing_again_updates_and_reenables_without_duplicates(shop, bridge_server):
    public, path = bridge_server
    install(path)
    hook = next(h for h in shop.webhooks.values() if h["topic"] == "order.updated")
    hook["status"], hook["secret"] = "disabled", "someone-changed-it"
    again = install(path)
    assert again.exit_code == 0 and again.output.count(": updated (webhook") == 4
    assert len(shop.webhooks) == 4 and hook["status"] == "active"
    assert shop.deliver("order.updated", 17) == [200]  # signed with bridge's secret again


def test_a_delivery_with_another_secret_is_refused_and_counts_as_a_failure(shop, bridge_server):
    public, path = bridge_server
    install(path)
    for hook in shop.webhooks.values():
        hook["secret"] = "not-bridges-secret"
    assert shop.deliver("order.updated", 17) == [401]
    with db.connection_context():
        assert OrderFact.select().count() == 0


def test_install_reports_a_shop_error_clearly(shop, bridge_server):
    public, path = bridge_server
    path.write_text(path.read_text().replace("cs_test_secret_value", "cs_wrong"))
    result = install(path)
    assert result.exit_code == 1 and "Invalid signature" in result.output and not shop.webhooks


@pytest.mark.parametrize("url, warned", [("http://127.0.0.1:8000/webhooks/shop1", True),
                                         ("http://127.0.0.1:8080/webhooks/shop1", False),
                                         ("http://10.0.0.5:9000/webhooks/shop1", True),
                                         ("https://bridge.example.com:8443/webhooks/shop1", False)])
def test_local_delivery_urls_on_other_ports_are_warned_about(url, warned):
    assert bool(WooCommerceConnector.delivery_url_warning(url)) == warned
