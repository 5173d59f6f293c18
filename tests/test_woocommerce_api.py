"""The WooCommerce connector against a fake wc/v3 shop on loopback, through the official client."""

import socket
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
import trustme

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


def _spec(code="Ref-ABC123", **changes):
    from datetime import datetime, timezone

    from bridge.connectors.base import CouponSpec

    base = dict(code=code, email="lea@example.com", percent=Decimal("0.10"), minimum_order=Decimal("30.00"),
                expires_at=datetime(2026, 12, 31, 23, 0, tzinfo=timezone.utc), description="bridge welcome")
    return CouponSpec(**{**base, **changes})


def test_coupon_is_single_use_email_restricted_and_lower_cased(config, shop):
    coupon_id = connector(config, shop.url).create_coupon(_spec())
    coupon = shop.coupons[int(coupon_id)]
    assert coupon["code"] == "ref-abc123"
    assert (coupon["discount_type"], coupon["amount"]) == ("percent", "10")
    assert (coupon["usage_limit"], coupon["usage_limit_per_user"]) == (1, 1)
    assert coupon["email_restrictions"] == ["lea@example.com"] and coupon["minimum_amount"] == "30.00"
    assert coupon["date_expires_gmt"] == "2026-12-31T23:00:00"
    fixed = connector(config, shop.url).create_coupon(_spec("CASH-5", percent=None, amount=Decimal("5.00")))
    assert (shop.coupons[int(fixed)]["discount_type"], shop.coupons[int(fixed)]["amount"]) == ("fixed_cart", "5.00")


def test_creating_a_coupon_twice_returns_the_same_one(config, shop):
    woo = connector(config, shop.url)
    first = woo.create_coupon(_spec())
    assert woo.create_coupon(_spec("REF-abc123")) == first and len(shop.coupons) == 1


def test_a_race_answered_with_a_duplicate_400_finds_the_existing_coupon(config, shop):
    woo = connector(config, shop.url)
    first = woo.create_coupon(_spec())
    shop.lookup_misses = 1  # our look-up misses it, as if another worker created it just now
    assert woo.create_coupon(_spec()) == first and len(shop.coupons) == 1


def test_an_empty_code_is_a_clear_fatal_error(config, shop):
    with pytest.raises(FatalError, match="woocommerce_rest_empty_coupon_code"):
        connector(config, shop.url).create_coupon(_spec(code=" "))


def _refund_shop(shop, payment_method="stripe"):
    order = {**rest_json("19-order-get-after-refund.response.json"), "payment_method": payment_method}
    shop.put_order(order)
    return order


def test_partial_refund_once_per_key_and_the_order_nets_it(config, shop):
    _refund_shop(shop)
    woo = connector(config, shop.url)
    first = woo.refund("17", Decimal("4.20"), "payout:group1:group:1:17", "bridge cashback 5%")
    assert woo.refund("17", Decimal("4.20"), "payout:group1:group:1:17", "bridge cashback 5%") == first  # retried
    assert len(shop.refunds) == 1
    refund = shop.refunds[int(first)]
    assert refund["refunded_payment"] is True and refund["amount"] == "4.20"
    assert "[bridge payout:group1:group:1:17]" in refund["reason"]
    netted = woo.fetch_order("17")  # 10.00 the customer's before; bridge's own 4.20 is not the customer's
    assert (netted.refunded, netted.own_refunded) == (Decimal("10.00"), Decimal("4.20"))


def test_refund_recorded_only_when_api_refund_is_false(config, shop):
    _refund_shop(shop, payment_method="bacs")
    refund_id = connector(config, shop.url, api_refund=False).refund("17", Decimal("1.00"), "k1", "cashback")
    assert shop.refunds[int(refund_id)]["refunded_payment"] is False


def test_a_gateway_that_cannot_refund_is_refused_with_the_shops_message(config, shop):
    from bridge.connectors.errors import RefundRefused

    _refund_shop(shop, payment_method="bacs")
    with pytest.raises(RefundRefused, match="does not support automatic refunds") as caught:
        connector(config, shop.url).refund("17", Decimal("1.00"), "k2", "cashback")
    assert not isinstance(caught.value, RetriableError) and shop.refunds == {}


def test_more_than_what_is_left_is_refused_and_a_full_refund_flips_the_order(config, shop):
    from bridge.connectors.errors import RefundRefused

    _refund_shop(shop)
    woo = connector(config, shop.url)
    with pytest.raises(RefundRefused, match="Invalid refund amount"):
        woo.refund("17", Decimal("74.32"), "k3", "too much")
    woo.refund("17", Decimal("74.31"), "k4", "all the rest")
    order = woo.fetch_order("17")
    assert order.fully_refunded and not order.counts


def test_reads_are_retried_after_429_and_5xx_honouring_retry_after(config, shop):
    client = connector(config, shop.url)
    waits = []
    client.sleep = waits.append
    shop.fail_next = [(429, {"Retry-After": "3"}), (503, {})]
    assert client.fetch_order("17").id == "17"
    assert waits == [3.0, client.retry_delays[1]]


def test_reads_give_up_after_the_last_retry(config, shop):
    client = connector(config, shop.url)
    client.sleep = lambda seconds: None
    shop.fail_next = [(502, {})] * 3
    with pytest.raises(RetriableError, match="HTTP 502"):
        client.fetch_order("17")
    assert shop.fail_next == []  # three attempts, no more


def test_a_long_retry_after_is_left_to_the_next_run(config, shop):
    client = connector(config, shop.url)
    client.sleep = lambda seconds: pytest.fail("should not wait 10 minutes inside a request")
    shop.fail_next = [(429, {"Retry-After": "600"})]
    with pytest.raises(RetriableError) as caught:
        client.fetch_order("17")
    assert caught.value.retry_after == 600


def test_writes_are_not_retried_blindly(config, shop):
    client = connector(config, shop.url)
    client.sleep = lambda seconds: None
    _refund_shop(shop)
    before = len(shop.requests)
    shop.fail_next_write = [(503, {})]  # the look-up succeeds, then the POST hits a 503
    with pytest.raises(RetriableError, match="HTTP 503"):
        client.refund("17", Decimal("1.00"), "key-1", "cashback")
    posts = [r for r in shop.requests[before:] if r[0] == "POST"]
    assert len(posts) == 1 and not shop.refunds
    client.refund("17", Decimal("1.00"), "key-1", "cashback")  # the next run looks up first, then refunds once
    client.refund("17", Decimal("1.00"), "key-1", "cashback")
    assert len(shop.refunds) == 1


@pytest.fixture(scope="module")
def tls():
    ca = trustme.CA()
    return ca, ca.issue_cert("127.0.0.1")


@pytest.fixture
def https_shop(tls, tmp_path, monkeypatch):
    ca, cert = tls
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))  # trust the test CA, as a real shop's CA is trusted
    with FakeWooCommerce("ck_test_key", "cs_test_secret_value", tls_cert=cert) as fake:
        fake.put_order(rest_json("19-order-get-after-refund.response.json"))
        yield fake


@pytest.mark.parametrize("auth", ["basic", "query_string"])
def test_https_shops_use_basic_auth_or_keys_in_the_query(config, https_shop, auth):
    assert https_shop.url.startswith("https://")
    assert connector(config, https_shop.url, auth=auth).fetch_order("17").id == "17"
    assert set(https_shop.auth_used) == {auth}  # the order and its refunds' details, both so
    query = https_shop.requests[-1][2]
    assert ("consumer_key" in query) == (auth == "query_string") and "oauth_signature" not in query


def test_wrong_keys_over_https_are_fatal(config, https_shop):
    with pytest.raises(FatalError, match="Consumer secret is invalid"):
        connector(config, https_shop.url, auth="basic", consumer_secret="cs_wrong").fetch_order("17")


def test_plain_http_refuses_basic_auth_like_the_live_shop(config, shop):
    import requests
    answer = requests.get(f"{shop.url}/wp-json/wc/v3/orders/17", auth=("ck_test_key", "cs_test_secret_value"), timeout=5)
    assert answer.status_code == 401  # only OAuth 1.0a over http://: why the config refuses basic on http URLs
