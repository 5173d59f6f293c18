"""The connector contract (tests/connector_contract.py) against the real shops, not only the fakes.

Orders a test needs in bulk (250 changes across pages) are copies of a real checkout's order, made in
the shop's own database with the ids and modification instants the contract asks for; everything
bridge reads of them goes through the platform's API as usual.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from decimal import Decimal

import pytest

from bridge.config import load_config
from bridge.connectors import forget_caches
from bridge.connectors.prestashop import PrestaShopConnector
from bridge.connectors.woocommerce import WooCommerceConnector
from tests.connector_contract import ConnectorContract
from tests.live import woo
from tests.live.conftest import bridge_for
from tests.live.story import campaign_yaml
from tests.live.test_prestashop_story import checkout as ps_checkout
from tests.live.test_prestashop_story import shop_yaml as ps_yaml
from tests.live.test_woocommerce_story import shop_yaml as wc_yaml

ZONE = __import__("zoneinfo").ZoneInfo("Europe/Paris")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveHarness:
    """What both platforms' harnesses share: copies of one real order, written in one batch."""

    def __init__(self, live, shop):
        self.live, self.shop, self.pending = live, shop, []

    def put_order(self, order_id, modified):
        self.pending.append((int(order_id), modified))

    def flush(self) -> None:
        if self.pending:
            self.live.run(*self.sql_command(), "-e", "".join(self.copy_sql(i, m) for i, m in self.pending))
            self.pending = []


class WooCommerceLive(LiveHarness):
    missing_order_id = "999999"
    coupons = True
    refunds = True

    def __init__(self, live, shop):
        super().__init__(live, shop)
        placed = woo.checkout(live.info, [(101, 2)], "ada@example.test")
        self.refundable_order_id = self.template = str(placed["order_id"])
        self.expected = {self.template: dict(currency="EUR", total=Decimal("54.00"), refunded=Decimal("0"),
                                             paid=True, paid_at=None, email="ada@example.test", cancelled=False)}

    def sql_command(self):
        db = self.live.info["mariadb"]
        return ["mariadb", "--no-defaults", f"--socket={db['socket']}", f"-u{db['user']}", f"-p{db['password']}",
                db["database"]]

    def copy_sql(self, order_id, modified) -> str:
        stamp = modified.strftime("%Y-%m-%d %H:%M:%S")
        return (f"DROP TEMPORARY TABLE IF EXISTS t; CREATE TEMPORARY TABLE t AS SELECT * FROM wp_wc_orders WHERE id = "
                f"{int(self.template)}; UPDATE t SET id = {order_id}, date_created_gmt = '{stamp}', "
                f"date_updated_gmt = '{stamp}'; INSERT INTO wp_wc_orders SELECT * FROM t;")

    def connector(self, broken=None):
        self.flush()
        shop = self.shop
        if broken == "credentials":
            shop = replace(shop, woocommerce=replace(shop.woocommerce, consumer_secret="cs_" + "0" * 40))
        elif broken == "unreachable":
            shop = replace(shop, url=f"http://127.0.0.1:{closed_port()}")
        return WooCommerceConnector(shop)


class PrestaShopLive(LiveHarness):
    missing_order_id = "999999"
    coupons = True
    refunds = False

    def __init__(self, live, shop):
        super().__init__(live, shop)
        placed = ps_checkout(live, "1x1", "ada@example.test", "ps_wirepayment")
        self.refundable_order_id = self.template = str(placed["id_order"])
        self.expected = {self.template: dict(currency="EUR", paid=False, paid_at=None, refunded=Decimal("0"),
                                             email="ada@example.test", cancelled=False)}

    def sql_command(self):
        return [str(self.live.dir / "mysql")]

    def copy_sql(self, order_id, modified) -> str:
        local = modified.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")
        return (f"DROP TEMPORARY TABLE IF EXISTS t; CREATE TEMPORARY TABLE t AS SELECT * FROM ps_orders"
                f" WHERE id_order = {int(self.template)}; UPDATE t SET id_order = {order_id}, "
                f"reference = 'C{order_id}', date_add = '{local}', date_upd = '{local}', current_state = 2, valid = 1; "
                "INSERT INTO ps_orders SELECT * FROM t;")

    def connector(self, broken=None):
        self.flush()
        forget_caches()
        shop = self.shop
        if broken == "credentials":
            shop = replace(shop, prestashop=replace(shop.prestashop, webservice_key="Z" * 32))
        elif broken == "unreachable":
            shop = replace(shop, url=f"http://127.0.0.1:{closed_port()}")
        return PrestaShopConnector(shop)


class TestWooCommerceContractOnTheRealShop(ConnectorContract):
    @pytest.fixture
    def harness(self, woocommerce, tmp_path):
        woocommerce.fresh()
        bridge = bridge_for(tmp_path, wc_yaml(woocommerce.info), campaign_yaml("wc", "coupon", "contract"))
        yield WooCommerceLive(woocommerce, load_config(str(bridge.config)).shop("wc"))


class TestPrestaShopContractOnTheRealShop(ConnectorContract):
    @pytest.fixture
    def harness(self, prestashop, tmp_path):
        prestashop.fresh()
        bridge = bridge_for(tmp_path, ps_yaml(prestashop.info, None), campaign_yaml("ps", "coupon", "contract"))
        yield PrestaShopLive(prestashop, load_config(str(bridge.config)).shop("ps"))
