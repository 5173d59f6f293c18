"""The connector contract, for PrestaShop: data from the shared fixtures, the fake Webservice."""

from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from bridge.config.model import PrestaShopSettings
from bridge.connectors import forget_caches
from bridge.connectors.prestashop import PrestaShopConnector
from tests.connector_contract import ConnectorContract
from tests.fake_prestashop import FakePrestaShop, fixture_entity

KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ123456"
ORDER_5 = fixture_entity("order_5_ps1.6.1.23.xml")


def paid_copy(order_id: int, modified: datetime, state: str = "2") -> dict:
    """Order 5 of the fixtures, paid (Payment accepted), with another id and update time (shop-local)."""
    local = modified.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
    return {**ORDER_5, "id": str(order_id), "current_state": state, "valid": "1", "date_upd": local,
            "date_add": local, "reference": f"REF{order_id}"}


PARIS = __import__("zoneinfo").ZoneInfo("Europe/Paris")


class PrestaShopHarness:
    expected = {
        # Awaiting bank wire (state 10): not paid; 71.51 tax incl.; the customer's e-mail from /customers/1.
        "5": dict(currency="EUR", total=Decimal("71.510000"), refunded=Decimal("0"), paid=False, paid_at=None,
                  created_at=datetime(2019, 1, 30, 0, 2, 12, tzinfo=timezone.utc), cancelled=False,
                  email=fixture_entity("customer_1_ps1.6.1.6.xml")["email"]),
    }
    missing_order_id = "999999"
    refundable_order_id = "5"
    coupons = True
    refunds = False

    def __init__(self, fake, shop):
        self.fake, self.shop = fake, shop

    def connector(self, broken=None):
        shop = self.shop
        if broken == "credentials":
            shop = replace(shop, prestashop=replace(shop.prestashop, webservice_key="Z" * 32))
        elif broken == "unreachable":
            import socket
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                shop = replace(shop, url=f"http://127.0.0.1:{s.getsockname()[1]}")
        return PrestaShopConnector(shop)

    def put_order(self, order_id, modified):
        self.fake.put("orders", paid_copy(order_id, modified))


def prestashop_shop(config, url: str):
    """The tests' shop1, as a PrestaShop shop at `url`."""
    return replace(config.shop("shop1"), platform="prestashop", url=url, woocommerce=None,
                   prestashop=PrestaShopSettings(webservice_key=KEY, id_shop=None))


class TestPrestaShopContract(ConnectorContract):
    @pytest.fixture
    def harness(self, config):
        forget_caches()
        with FakePrestaShop(KEY) as fake:
            yield PrestaShopHarness(fake, prestashop_shop(config, fake.url))
