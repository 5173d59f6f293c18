"""A hand-coded shop's server sends its orders to bridge, signed: the signature, every field, idempotency,
attribution through the share code it stored, refunds, and the widget's report checked against the key."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bridge.config import ConfigError, load_config_text
from bridge.connectors import connector_for
from bridge.connectors.custom import sign
from bridge.connectors.errors import NotFound
from bridge.storage.db import db
from bridge.storage.models import ClaimFact, CustomOrderKey, GroupRow, MembershipRow, OrderFact, Product
from bridge.web import create_app
from tests.conftest import migrated_config

SECRET = "hand-shop-signing-secret-0123456789abcdef"
HAND = f"""
  - id: hand
    name: Hand Made
    platform: custom
    url: https://hand.example
    currency: EUR
    timezone: Europe/Paris
    locale: fr
    custom: {{signing_secret: {SECRET}}}
    sepa: {{name: Hand Made SARL, iban: FR7630006000011234567890189, bic: AGRIFRPP}}
"""
CAMPAIGN = """
  - id: handgroup
    type: social_buying
    shop: hand
    window: 48h
    hold: 14d
    payout: sepa
    eligible_products: any
    tiers: [{buyers: 2, cashback: 10%}]
"""


def hand_text(config_text: str, campaign: str = CAMPAIGN) -> str:
    return config_text.replace("campaigns:", HAND.rstrip() + "\ncampaigns:") + campaign


@pytest.fixture
def hand(config_text, tmp_path):
    config = migrated_config(hand_text(config_text), tmp_path)
    client = create_app(config).test_client()
    db.connect(reuse_if_open=True)
    yield config, client
    db.close()


NOW = datetime.now(timezone.utc).replace(microsecond=0)


def order(oid, minutes=0, **changes) -> dict:
    at = (NOW - timedelta(hours=2) + timedelta(minutes=minutes)).isoformat()
    body = dict(id=oid, key=f"key-{oid}-7f3a9c", status="paid", created_at=at, modified_at=at, paid_at=at, currency="EUR",
                total="59.90", lines=[dict(product_id="sku-1", quantity=2, total="40.00", tax="8.00",
                                           name="Tote bag", url="https://hand.example/p/tote", image_url=None)],
                shipping=dict(total="10.00", tax="1.90"), customer=dict(id=f"c{oid}", email=f"buyer{oid}@example.test",
                                                                         first_name="Ana"),
                billing_address=dict(line1=f"{oid} rue de la Paix", postcode="75002", city="Paris", country="FR"),
                ip=f"203.0.{int(oid) % 250}.7", user_agent="Mozilla/5.0", coupons=[], referral_code=None, refunds=[])
    body.update(changes)
    return body


def send(client, payload, secret=SECRET, at=None, shop="hand", header=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    signature = header if header is not None else sign(secret, body, at or datetime.now(timezone.utc))
    return client.post(f"/api/v1/shops/{shop}/orders", data=body, content_type="application/json",
                       headers={"Bridge-Signature": signature} if signature else {})


def counts() -> tuple:
    return tuple(m.select().count() for m in (OrderFact, ClaimFact, MembershipRow, CustomOrderKey, GroupRow, Product))


def test_orders_sent_by_the_shops_server_run_the_social_buying_loop(hand):
    config, client = hand
    first = send(client, order("1001"))
    assert first.status_code == 200, first.json
    assert first.json == dict(received=1, stored=["1001"], unchanged=[])
    code = GroupRow.get(GroupRow.founder_id == "1001").code
    # the friend came through the link: the shop's checkout stored the share code from the widget's cookie
    friend = send(client, order("1002", minutes=30, referral_code=code.lower(), total="30.00",
                                lines=[dict(product_id="sku-2", quantity=1, total="25.00", tax="5.00")]))
    assert friend.status_code == 200 and friend.json["stored"] == ["1002"]
    member = MembershipRow.get((MembershipRow.campaign == "handgroup") & (MembershipRow.order_id == "1002"))
    assert (member.role, member.founder_id) == ("member", "1001")
    stored = OrderFact.get(OrderFact.order_id == "1001")
    assert (stored.total, stored.email_norm, stored.billing_address) == (
        Decimal("59.90"), "buyer1001@example.test", "1001 rue de la Paix, 75002, Paris, FR")
    assert Product.get(Product.product_id == "sku-1").url == "https://hand.example/p/tote"
    assert connector_for(config.shop("hand")).fetch_product("sku-1").name == "Tote bag"

    # the same request again, and an older version arriving late: nothing changes
    before = counts()
    assert send(client, order("1001")).json == dict(received=1, stored=[], unchanged=["1001"])
    late = order("1001", status="pending", modified_at=(NOW - timedelta(hours=3)).isoformat(),
                 created_at=(NOW - timedelta(hours=3)).isoformat())
    assert send(client, late).json["unchanged"] == ["1001"]
    assert counts() == before and OrderFact.get(OrderFact.order_id == "1001").paid

    # a refund: a newer version of the friend's order
    refunded = order("1002", minutes=90, referral_code=code, total="30.00",
                     lines=[dict(product_id="sku-2", quantity=1, total="25.00", tax="5.00")],
                     refunds=[dict(id="r1", amount="12.00", lines=[dict(product_id="sku-2", quantity=0, total="10.00",
                                                                        tax="2.00")])])
    refunded["created_at"] = order("1002", minutes=30)["created_at"]
    assert send(client, refunded).json["stored"] == ["1002"]
    assert OrderFact.get(OrderFact.order_id == "1002").refunded == Decimal("12.00")


def test_a_batch_is_stored_whole_and_the_widget_is_checked_against_each_orders_key(hand):
    config, client = hand
    batch = dict(orders=[order(str(2000 + i), minutes=i) for i in range(50)] + [order("2000", minutes=60, total="70.00")])
    answer = send(client, batch)
    assert answer.status_code == 200 and answer.json["received"] == 50 and len(answer.json["stored"]) == 50
    assert OrderFact.get(OrderFact.order_id == "2000").total == Decimal("70.00")  # the newest of the two versions
    connector = connector_for(config.shop("hand"))
    assert connector.fetch_order_with_key("2003", "key-2003-7f3a9c").id == "2003"
    for order_id, key in (("2003", "key-2004-7f3a9c"), ("2003", ""), ("9999", "key-9999-7f3a9c")):
        with pytest.raises(NotFound):
            connector.fetch_order_with_key(order_id, key)
    # the thank-you page's report: the key the shop printed on it, as for WooCommerce and PrestaShop
    shown = client.post("/api/v1/shops/hand/conversions", data=dict(order_id="2003", key="key-2003-7f3a9c"),
                        headers={"Origin": "https://hand.example"})
    assert shown.status_code == 200 and shown.json["state"] == "open" and shown.json["code"]
    wrong = client.post("/api/v1/shops/hand/conversions", data=dict(order_id="2003", key="not-the-key"))
    assert wrong.status_code == 404 and wrong.json["error"]["code"] == "unknown_order"


def test_signatures_are_checked_over_the_raw_body_and_refusals_store_nothing(hand):
    _, client = hand
    send(client, order("3000"))
    before = counts()
    body = json.dumps(order("3001")).encode()
    now = datetime.now(timezone.utc)
    cases = [
        (None, "missing_signature"),
        ("sha256=abc", "malformed_signature"),
        (f"t={int(now.timestamp())}", "malformed_signature"),
        ("t=soon,v1=00", "malformed_signature"),
        (sign(SECRET, body, now - timedelta(minutes=6)), "stale_signature"),
        (sign(SECRET, body, now + timedelta(minutes=6)), "stale_signature"),
        ("t=99999999999999999999,v1=00", "stale_signature"),
        (sign("another-secret-of-forty-characters-xxxxxx", body, now), "bad_signature"),
        (sign(SECRET, body + b" ", now), "bad_signature"),  # signed something else
        (sign(SECRET, body, now).replace("v1=", "v1=0"), "bad_signature"),
    ]
    for header, code in cases:
        answer = client.post("/api/v1/shops/hand/orders", data=body, content_type="application/json",
                             headers={"Bridge-Signature": header} if header else {})
        assert answer.status_code == 401 and answer.json["error"]["code"] == code, (header, answer.json)
    # a rotated secret: the old and the new signature side by side, the new one matching
    rotated = sign("an-old-secret-of-forty-characters-xxxxxxx", body, now) + "," + sign(SECRET, body, now).split(",")[1]
    assert send(client, None, raw=body, header=rotated).status_code == 200
    assert counts()[0] == before[0] + 1
    other = send(client, order("3002"), shop="shop1")
    assert other.status_code == 404 and other.json["error"]["code"] == "not_a_custom_shop"
    assert send(client, order("3002"), shop="nope").status_code == 404


BAD = [
    ({"totl": "59.90"}, "totl: unknown key", "did you mean 'total'"),
    ({"total": 59.9}, "total: expected an amount written as a string", None),
    ({"total": "-1.00"}, "total: must not be negative", None),
    ({"total": "1.0000001"}, "total: expected at most 6 decimals", None),
    ({"key": "short"}, "key: expected the order's key", None),
    ({"key": None}, "key:", None),
    ({"status": "shipped"}, "status:", "pending, paid, cancelled"),
    ({"currency": "USD"}, "currency: shop 'hand' sells in EUR", None),
    ({"created_at": "2026-12-01T10:00:00"}, "created_at: needs its offset", None),
    ({"modified_at": "yesterday"}, "modified_at: expected an ISO 8601 instant", None),
    ({"lines": []}, "lines: an order has at least one line", None),
    ({"lines": [{"product_id": "a b", "quantity": 1, "total": "1.00"}]}, "lines[0].product_id: expected an id", None),
    ({"lines": [{"product_id": "p", "quantity": 0, "total": "1.00"}]}, "lines[0].quantity: must be at least 1", None),
    ({"lines": [{"product_id": "p", "quantity": 1, "total": "1.00", "url": "https://evil.example/x", "name": "x"}]},
     "lines[0].url: expected an address on the shop's site", None),
    ({"customer": {"email": "nobody"}}, "customer.email: expected an e-mail address", None),
    ({"ip": "300.1.1.1"}, "ip: expected an IPv4 or IPv6 address", None),
    ({"referral_code": "<script>"}, "referral_code: expected a share code", None),
    ({"refunds": [{"amount": "100.00"}]}, "refunds: the refunds add up to 100.00", None),
    ({"user_agent": "x\x00y"}, "user_agent: expected text of at most 1000 characters", None),
    ({"id": ""}, "id: expected an id", None),
]


@pytest.mark.parametrize("change, message, hint", BAD)
def test_a_wrong_field_gets_a_400_that_names_it_and_nothing_is_stored(hand, change, message, hint):
    _, client = hand
    before = counts()
    answer = send(client, order("4000", **change))
    assert answer.status_code == 400 and answer.json["error"]["code"] == "bad_order", answer.json
    assert answer.json["error"]["message"].startswith(message), answer.json
    assert hint is None or hint in answer.json["error"]["message"]
    assert counts() == before


def test_a_wrong_body_or_batch_gets_a_400_and_a_batch_is_all_or_nothing(hand):
    _, client = hand
    before = counts()
    for raw, code, message in ((b"not json", "bad_json", "the body is not JSON"), (b"\xff\xfe", "bad_json", None),
                               (b"[]", "bad_order", None), (b'"x"', "bad_order", None),
                               (json.dumps(dict(orders=[])).encode(), "bad_order", "orders: send 1 to 500"),
                               (json.dumps(dict(orders=[order(str(i)) for i in range(501)])).encode(), "bad_order",
                                "orders: send 1 to 500 orders at once, got 501"),
                               (json.dumps(dict(orders=[order("5000"), order("5001", total="x")])).encode(), "bad_order",
                                "orders[1].total: expected an amount")):
        answer = send(client, None, raw=raw)
        assert answer.status_code == 400 and answer.json["error"]["code"] == code, (raw[:40], answer.json)
        assert message is None or answer.json["error"]["message"].startswith(message), answer.json
    assert counts() == before  # not even the batch's first, valid order


def test_a_custom_shops_configuration_says_what_it_needs(config_text):
    assert load_config_text(hand_text(config_text)).shop("hand").custom.signing_secret == SECRET
    for text, expected in (
            (hand_text(config_text).replace(f"    custom: {{signing_secret: {SECRET}}}\n", ""),
             "custom: is required for a custom shop (the secret its server signs orders with)"),
            (hand_text(config_text).replace(SECRET, "too-short"), "signing_secret: must be at least 32 characters"),
            (hand_text(config_text, CAMPAIGN.replace("payout: sepa", "payout: coupon")),
             "a custom shop's system makes the coupons itself, asked by a payout.requested event: shop 'hand' needs an "
             "events endpoint (shops[].events), or pay by sepa"),
            (hand_text(config_text, CAMPAIGN.replace("payout: sepa", "payout: refund")),
             "a custom shop's system makes the refunds itself"),
            (hand_text(config_text, CAMPAIGN.replace("social_buying", "referral")), "referral campaigns on a custom shop")):
        with pytest.raises(ConfigError) as error:
            load_config_text(text)
        assert expected in str(error.value), str(error.value)
    assert SECRET not in repr(load_config_text(hand_text(config_text)))
