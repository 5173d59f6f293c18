"""POST /webhooks/<shop_id> with the live WooCommerce captures, against the fake shop on loopback."""

import json

import pytest

from bridge.config import load_config_text
from bridge.storage import bind, upgrade
from bridge.storage.db import db
from bridge.storage.models import OrderFact, ShopSecret, ShopSignal
from bridge.storage.secrets import ensure_shop_secret, shop_secret
from bridge.web import create_app
from tests.fake_woocommerce import FakeWooCommerce, config_for
from tests.test_woocommerce import _signed
from tests.wc_fixtures import LIVE_SECRET, deliveries

DELIVERIES = list(deliveries())
SENT_BY_TRANSPORT = {"Host", "Content-Length", "Connection", "Accept-Encoding"}


@pytest.fixture
def shop():
    with FakeWooCommerce("ck_test_key", "cs_test_secret_value") as fake:
        for name, headers, body in DELIVERIES:
            if "order." in name:
                fake.put_order(json.loads(body))  # the shop returns the order as the delivery showed it
        yield fake


@pytest.fixture
def client(config_text, shop):
    config = load_config_text(config_for(config_text, shop.url))
    bind(config.server.database_url)
    with db.connection_context():
        upgrade()
        ShopSecret.insert(shop="shop1", name="webhook", value=LIVE_SECRET, created_at=_now()).execute()
    app = create_app(config)
    yield app.test_client()
    db.close()


def _now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)


def post(client, headers, body, shop="shop1"):
    return client.post(f"/webhooks/{shop}", data=body,
                       headers={k: v for k, v in headers.items() if k not in SENT_BY_TRANSPORT})


def stored():
    with db.connection_context():
        return sorted((o.order_id, o.refunded) for o in OrderFact.select())


def test_every_live_delivery_is_answered_as_woocommerce_expects(client, shop):
    for name, headers, body in DELIVERIES:
        response = post(client, headers, body)
        assert response.status_code == 200, (name, response.get_data(as_text=True))
        if "no-topic" in name:
            assert response.get_data() == b""
        elif "coupon" in name:
            assert response.get_json()["status"] == "ignored"
        else:
            assert response.get_json()["status"] == "ok"
    ids = {str(json.loads(b)["id"]) for n, h, b in DELIVERIES if "order." in n}
    assert [order_id for order_id, _ in stored()] == sorted(ids)  # duplicates and reordering were harmless
    assert any(path.endswith("/orders/17") for _, path, _ in shop.requests)  # each hint was fetched from the shop
    with db.connection_context():  # the setup page's "webhooks work", from the signed deliveries only
        signal = ShopSignal.get(ShopSignal.name == "webhook_ok")
        assert signal.shop == "shop1" and signal.count == sum(1 for n, _, _ in DELIVERIES if "order." in n or "coupon" in n)


def test_pings_store_nothing_even_before_a_secret_exists(client):
    with db.connection_context():
        ShopSecret.delete().execute()
    name, headers, body = DELIVERIES[0]
    assert post(client, headers, body).status_code == 200
    assert stored() == []


def test_bad_signature_is_401_and_stores_nothing(client):
    name, headers, body = next(d for d in DELIVERIES if "order.created" in d[0])
    forged = body.replace(b'"total":"84.31"', b'"total":"0.01"')
    response = post(client, headers, forged)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "bad_signature"
    assert stored() == []


def test_malformed_signed_body_is_400_and_stores_nothing(client):
    response = post(client, {**_signed(b"{not json"), "Content-Type": "application/json"}, b"{not json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed_payload"
    assert stored() == []


def test_unknown_shop_is_404(client):
    name, headers, body = DELIVERIES[4]
    assert post(client, headers, body, shop="nope").status_code == 404


def test_an_order_the_shop_no_longer_has_is_acknowledged(client):
    response = post(client, _signed(b'{"id": 4242}', "order.deleted"), b'{"id": 4242}')
    assert response.status_code == 200 and response.get_json()["status"] == "gone"
    assert stored() == []


def test_a_shop_that_is_down_defers_to_the_poll(client, shop):
    name, headers, body = next(d for d in DELIVERIES if "order.created" in d[0])
    shop.server.shutdown()
    shop.server.server_close()
    response = post(client, headers, body)
    assert response.status_code == 202 and response.get_json()["status"] == "deferred"
    assert stored() == []


def test_secrets_are_generated_once(migrated):
    first = ensure_shop_secret("shop1")
    assert len(first) >= 43 and ensure_shop_secret("shop1") == first == shop_secret("shop1")
    assert shop_secret("other") is None


def test_deliveries_are_refused_before_bridge_has_a_secret_for_the_shop(client, shop):
    with db.connection_context():
        ShopSecret.delete().execute()
    import base64
    import hashlib
    import hmac

    body = json.dumps({"id": 727}).encode()
    empty_key = base64.b64encode(hmac.new(b"", body, hashlib.sha256).digest()).decode()  # what anyone could sign
    headers = {"X-WC-Webhook-Topic": "order.updated", "Content-Type": "application/json",
               "X-WC-Webhook-Signature": empty_key}
    response = post(client, headers, body)
    assert response.status_code == 401 and "bridge webhooks install" in response.get_json()["error"]["message"]
    assert stored() == []
