"""The WooCommerce connector against a fake wc/v3 shop on loopback, through the official client."""

import socket
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from bridge.connectors.errors import FatalError, NotFound, RetriableError
from bridge.connectors.woocommerce import WooCommerceConnector
from tests.fake_woocommerce import FakeWooCommerce
from tests.wc_fixtures import rest_json


@pytest.fixture
def shop():
    with FakeWooCommerce("ck_test_key", "cs_test_secret_value") as fake:
        fake.put_order(rest_json("19-order-get-after-refund.response.json"))
        yield fake


def connector(config, url, **woo):
    settings = replace(config.shop("shop1").woocommerce, **woo)
    return WooCommerceConnector(replace(config.shop("shop1"), url=url, woocommerce=settings))


def test_fetch_order_over_oauth(config, shop):
    order = connector(config, shop.url).fetch_order("17")
    assert (order.id, order.total, order.refunded) == ("17", Decimal("84.31"), Decimal("10.00"))
    assert shop.requests[-1][2]["oauth_signature_method"] == "HMAC-SHA256"


def test_missing_order_is_not_found(config, shop):
    with pytest.raises(NotFound, match="woocommerce_rest_shop_order_invalid_id: Invalid ID. \\(shop shop1, HTTP 404, order 99\\)"):
        connector(config, shop.url).fetch_order("99")


def test_wrong_keys_are_fatal(config, shop):
    with pytest.raises(FatalError) as caught:
        connector(config, shop.url, consumer_secret="wrong").fetch_order("17")
    assert caught.value.status == 401 and "signature does not match" in str(caught.value)


def test_a_shop_that_is_down_is_retriable(config):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    with pytest.raises(RetriableError, match="cannot reach the shop"):
        connector(config, f"http://127.0.0.1:{port}").fetch_order("17")


def test_the_timeout_comes_from_the_shop_settings(config):
    shop_config = config.shop("shop1")
    client = WooCommerceConnector(replace(shop_config, sync=replace(shop_config.sync, timeout=timedelta(seconds=42)))).client()
    assert client.timeout == 42
