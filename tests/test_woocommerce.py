"""WooCommerce: webhook verification and order normalisation, on the live captures and doc fixtures."""

import json
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from bridge.connectors import connector_for
from bridge.connectors.errors import (
    BadSignature,
    FatalError,
    MalformedPayload,
    NotFound,
    RetriableError,
    error_for_status,
)
from bridge.connectors.woocommerce import normalise_order, parse_webhook
from tests.wc_fixtures import LIVE_SECRET, deliveries, docs_json, rest_json

DELIVERIES = list(deliveries())


def test_the_captures_are_there():
    assert len(DELIVERIES) == 11


@pytest.mark.parametrize("name,headers,body", DELIVERIES, ids=[d[0] for d in DELIVERIES])
def test_every_live_delivery_verifies_and_means_what_it_says(name, headers, body):
    event = parse_webhook(LIVE_SECRET, headers, body)
    if "no-topic" in name:
        assert event.kind == "ping"
    elif "coupon" in name:
        assert (event.kind, event.topic) == ("ignored", "coupon.created")
    else:
        assert event.kind == "order" and event.order_id == str(json.loads(body)["id"])
        order = normalise_order("shop1", json.loads(body))
        assert order.currency == "USD" and order.total > 0 and order.email


def test_header_names_are_case_insensitive():
    name, headers, body = next(d for d in DELIVERIES if "order.created" in d[0])
    lowered = {k.lower(): v for k, v in headers.items()}
    assert parse_webhook(LIVE_SECRET, lowered, body).kind == "order"
    mixed = {k.replace("WC-Webhook", "Wc-Webhook"): v for k, v in headers.items()}
    assert parse_webhook(LIVE_SECRET, mixed, body).kind == "order"


def test_bad_signatures_are_refused():
    name, headers, body = next(d for d in DELIVERIES if "order.created" in d[0])
    with pytest.raises(BadSignature) as caught:
        parse_webhook("another-secret", headers, body)
    assert caught.value.status_code == 401
    with pytest.raises(BadSignature):
        parse_webhook(LIVE_SECRET, headers, body.replace(b'"total":"84.31"', b'"total":"0.01"'))
    unsigned = {k: v for k, v in headers.items() if k != "X-WC-Webhook-Signature"}
    with pytest.raises(BadSignature, match="unsigned"):
        parse_webhook(LIVE_SECRET, unsigned, body)


def test_only_a_real_ping_passes_unsigned():
    ping_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert parse_webhook(LIVE_SECRET, ping_headers, b"webhook_id=12").kind == "ping"
    for body in (b"webhook_id=12&x=1", b"webhook_id=", b'{"webhook_id": 12}'):
        with pytest.raises(BadSignature):
            parse_webhook(LIVE_SECRET, ping_headers, body)
    with pytest.raises(BadSignature):
        parse_webhook(LIVE_SECRET, {"Content-Type": "application/json"}, b"webhook_id=12")


def _signed(body: bytes, topic="order.updated"):
    import base64
    import hashlib
    import hmac

    signature = base64.b64encode(hmac.new(LIVE_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return {"X-WC-Webhook-Signature": signature, "X-WC-Webhook-Topic": topic}


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"id": "17"}', b'{"id": 0}', b'{"id": true}', b"\xff\xfe"])
def test_signed_but_malformed_bodies_are_400(body):
    with pytest.raises(MalformedPayload) as caught:
        parse_webhook(LIVE_SECRET, _signed(body), body)
    assert caught.value.status_code == 400


def test_deleted_order_hint_is_just_an_id():
    assert parse_webhook(LIVE_SECRET, _signed(b'{"id": 42}', "order.deleted"), b'{"id": 42}').order_id == "42"


def test_order_after_partial_refund_nets_the_refund():
    order = normalise_order("shop1", rest_json("19-order-get-after-refund.response.json"))
    assert (order.id, order.paid, order.cancelled) == ("17", True, False)
    assert order.total == Decimal("84.31") and order.refunded == Decimal("10.00")
    assert order.total - order.refunded == Decimal("74.31")
    assert order.paid_at == datetime(2026, 11, 22, 11, 1, 35, tzinfo=timezone.utc)
    assert order.modified_at == datetime(2026, 11, 22, 11, 1, 37, tzinfo=timezone.utc)
    assert order.email == "ada@example.test" and order.customer_id is None  # a guest (customer_id 0)
    assert order.billing_address == "12 Analytical St, EC1A 1BB, London, GB"
    assert [(line.product_id, line.quantity, line.total) for line in order.lines] == [
        ("10", 2, Decimal("35.99")), ("11", 1, Decimal("6.53")), ("13", 1, Decimal("36.89"))]  # lines after the coupon
    assert order.counts


def test_documentation_orders_normalise():
    orders = {o["id"]: normalise_order("shop1", o) for o in docs_json("orders_list_727_723_partially_refunded.json")}
    assert orders[723].refunded == Decimal("19.00") and orders[723].paid
    # completed with no date_paid: the shop gives no payment instant; ingest dates it when first seen paid
    assert orders[723].paid_at is None and orders[723].paid_at_source == "first_seen"
    assert orders[727].paid_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=timezone.utc)
    assert orders[727].ip is None and orders[727].user_agent is None  # "" in the docs example


def test_statuses():
    base = rest_json("19-order-get-after-refund.response.json")
    for status, paid, cancelled in [("on-hold", False, False), ("pending", False, False), ("cancelled", False, True),
                                    ("failed", False, True), ("shipped", True, False)]:
        order = normalise_order("shop1", {**base, "status": status}, frozenset({"processing", "completed", "shipped"}))
        assert (order.paid, order.cancelled) == (paid, cancelled), status
    refunded = normalise_order("shop1", {**base, "status": "refunded", "refunds": []})
    assert refunded.fully_refunded and not refunded.counts


@pytest.mark.parametrize("change,field", [({"total": 84.31}, "total"), ({"date_created_gmt": None}, "date_created_gmt"),
                                          ({"id": "17"}, "id"), ({"currency": None}, "currency")])
def test_malformed_orders_name_the_field(change, field):
    with pytest.raises(MalformedPayload, match=f"field '{field}'"):
        normalise_order("shop1", {**rest_json("19-order-get-after-refund.response.json"), **change})


def test_connector_registry(config):
    assert connector_for(config.shop("shop1")).name == "woocommerce"
    assert connector_for(replace(config.shop("shop1"), platform="prestashop")).name == "prestashop"
    with pytest.raises(LookupError, match="no connector for platform 'shopify' yet; available: custom, prestashop, woocommerce"):
        connector_for(replace(config.shop("shop1"), platform="shopify"))


def test_status_codes_map_to_the_error_tree():
    assert isinstance(error_for_status(404, "x"), NotFound)
    assert isinstance(error_for_status(429, "x"), RetriableError)
    assert isinstance(error_for_status(503, "x"), RetriableError)
    assert isinstance(error_for_status(401, "x"), FatalError)
    assert str(error_for_status(500, "refund refused", shop="shop1", order="17")) == "refund refused (shop shop1, HTTP 500, order 17)"
