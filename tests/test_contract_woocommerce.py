"""The connector contract, for WooCommerce: data from the shared fixtures, the fake wc/v3 shop."""

import socket
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from bridge.connectors.woocommerce import WooCommerceConnector
from tests.connector_contract import ConnectorContract
from tests.fake_woocommerce import FakeWooCommerce, make_order
from tests.wc_fixtures import docs_json, rest_json

LIVE_ORDER = rest_json("19-order-get-after-refund.response.json")


class WooCommerceHarness:
    expected = {
        "17": dict(currency="USD", total=Decimal("84.31"), refunded=Decimal("10.00"), paid=True,
                   email="ada@example.test", paid_at=datetime(2026, 11, 22, 11, 1, 35, tzinfo=timezone.utc)),
        "727": dict(currency="USD", total=Decimal("29.35"), refunded=Decimal("0"), paid=True,
                    email="john.doe@example.com", cancelled=False),
        "723": dict(currency="USD", total=Decimal("39.00"), refunded=Decimal("19.00"), paid=True,
                    email="joao.silva@example.com"),
    }
    missing_order_id = "999999"
    refundable_order_id = "17"
    coupons = True
    refunds = True

    def __init__(self, fake, shop):
        self.fake, self.shop = fake, shop
        fake.put_order({**LIVE_ORDER, "payment_method": "stripe"})
        for order in docs_json("orders_list_727_723_partially_refunded.json"):
            fake.put_order(order)

    def connector(self, broken=None):
        shop = self.shop
        if broken == "credentials":
            shop = replace(shop, woocommerce=replace(shop.woocommerce, consumer_secret="cs_wrong"))
        elif broken == "unreachable":
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                shop = replace(shop, url=f"http://127.0.0.1:{s.getsockname()[1]}")
        return WooCommerceConnector(shop)

    def put_order(self, order_id, modified):
        self.fake.put_order(make_order(order_id, modified, LIVE_ORDER))


class TestWooCommerceContract(ConnectorContract):
    @pytest.fixture
    def harness(self, config):
        with FakeWooCommerce("ck_test_key", "cs_test_secret_value") as fake:
            shop = config.shop("shop1")
            yield WooCommerceHarness(fake, replace(shop, url=fake.url, woocommerce=replace(shop.woocommerce, auth="oauth")))
