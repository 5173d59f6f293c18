"""The fakes against the real shops: the same requests to both, the same shapes and behaviours back.

Only what bridge's connectors rely on is compared: field names and types of orders and refunds,
errors, coupon codes and expiry, date boundaries, empty lists and authentication. Where they differ
the fake is fixed (see the notes in bridge/demo/woo.py and tests/fake_prestashop.py).
"""

from __future__ import annotations

from decimal import Decimal

import requests
from woocommerce import API

from tests.fake_prestashop import FakePrestaShop
from tests.fake_woocommerce import FakeWooCommerce
from tests.live import woo
from tests.live.test_prestashop_story import checkout as ps_checkout
from tests.live.test_prestashop_story import merchant


def shape(value):
    """A JSON value's shape: types, and for objects the shapes of the keys bridge reads."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


ORDER_FIELDS = ("id", "status", "currency", "total", "date_created_gmt", "date_modified_gmt", "customer_id",
                "customer_ip_address", "customer_user_agent", "order_key", "payment_method")
LINE_FIELDS = ("id", "product_id", "quantity", "total", "total_tax")


def read_shape(order: dict) -> dict:
    return {**{k: shape(order.get(k)) for k in ORDER_FIELDS},
            "billing.email": shape(order["billing"].get("email")),
            "line_items": [{k: shape(line.get(k)) for k in LINE_FIELDS} for line in order["line_items"][:1]],
            "refunds": [{k: shape(r.get(k)) for k in ("id", "reason", "total")} for r in order["refunds"][:1]]}


def test_the_fake_woocommerce_answers_as_the_real_one(woocommerce):
    woocommerce.fresh()
    real_shop = woocommerce.info
    real = woo.rest(real_shop)
    placed = woo.checkout(real_shop, [(101, 2)], "ada@example.test")
    line = woo.order(real_shop, placed["order_id"])["line_items"][0]
    refund_body = {"amount": "24.00", "api_refund": False, "reason": "returned",
                   "line_items": [{"id": line["id"], "quantity": 1, "refund_total": "20.00",
                                   "refund_tax": [{"id": 1, "refund_total": "4.00"}]}]}
    assert real.post(f"orders/{placed['order_id']}/refunds", refund_body).status_code == 201
    real_order = woo.order(real_shop, placed["order_id"])
    real_refunds = real.get(f"orders/{placed['order_id']}/refunds").json()

    with FakeWooCommerce("ck_faithful", "cs_faithful") as fake_shop:
        fake = API(url=fake_shop.url, consumer_key="ck_faithful", consumer_secret="cs_faithful", version="wc/v3")
        fake_shop.put_order({**real_order, "refunds": [], "id": 4242})  # the real order's own JSON, unrefunded
        fake_line = fake_shop.orders[4242]["line_items"][0]
        refund_body["line_items"][0]["id"] = fake_line["id"]
        assert fake.post("orders/4242/refunds", refund_body).status_code == 201
        fake_order = fake.get("orders/4242").json()
        fake_refunds = fake.get("orders/4242/refunds").json()
        assert read_shape(fake_order) == read_shape(real_order)
        assert [(r["total"] if "total" in r else r["amount"]) for r in fake_order["refunds"]] == \
            [r["total"] for r in real_order["refunds"]]
        keys = ("product_id", "quantity", "total", "total_tax")
        assert [{k: item[k] for k in keys} for item in fake_refunds[0]["line_items"]] == \
            [{k: item[k] for k in keys} for item in real_refunds[0]["line_items"]]

        # Errors, coupons and expiry, date boundaries: the same answers.
        for api in (real, fake):
            missing = api.get("orders/999999")
            assert (missing.status_code, missing.json()["code"]) == (404, "woocommerce_rest_shop_order_invalid_id")
        answers = []
        for api in (real, fake):
            first = api.post("coupons", {"code": "Faithful-1", "amount": "5.00", "discount_type": "fixed_cart",
                                         "date_expires": "2027-01-31T23:59:00",
                                         "date_expires_gmt": "2030-01-01T00:00:00"}).json()
            again = api.post("coupons", {"code": "faithful-1", "amount": "5.00"})
            answers.append((first["code"], first["date_expires_gmt"], again.status_code, again.json()["code"]))
        assert answers[0] == answers[1] == ("faithful-1", "2027-01-31T22:59:00", 400,
                                            "woocommerce_rest_coupon_code_already_exists")
        stamp = real_order["date_modified_gmt"]
        fake_shop.put_order({**fake_order, "id": 4343, "date_modified_gmt": stamp, "date_modified": stamp})
        for api, order_id in ((real, placed["order_id"]), (fake, 4343)):
            listed = api.get("orders", params={"modified_after": stamp, "dates_are_gmt": "true"}).json()
            assert order_id not in [o["id"] for o in listed]  # exclusive, as WordPress's date_query is


def test_the_fake_prestashop_answers_as_the_real_one(prestashop):
    prestashop.fresh()
    info = prestashop.info
    placed = ps_checkout(prestashop, "1x2", "ada@example.test", "ps_wirepayment")
    merchant(prestashop, "status", str(placed["id_order"]), "PS_OS_PAYMENT")
    merchant(prestashop, "refund", str(placed["id_order"]), "#1=1")
    real = info["webservice"]["url"].rstrip("/")
    key = info["webservice_key"]
    with FakePrestaShop(key) as fake_shop:
        fake = fake_shop.url.rstrip("/") + "/api"
        for base in (real, fake):
            bad = requests.get(f"{base}/orders", auth=("Z" * 32, ""), params={"output_format": "JSON"}, timeout=30)
            assert bad.status_code == 401, (base, bad.status_code)
            empty = requests.get(f"{base}/orders", auth=(key, ""), timeout=30,
                                 params={"output_format": "JSON", "filter[id]": "[999999]"})
            assert empty.status_code == 200 and empty.json() == [], (base, empty.text[:200])
        slips = requests.get(f"{real}/order_slip", auth=(key, ""), timeout=30, params={
            "output_format": "JSON", "display": "full", "filter[id_order]": f"[{placed['id_order']}]"}).json()
        assert list(slips) == ["order_slips"] and Decimal(slips["order_slips"][0]["amount"]) > 0
        fake_slips = requests.get(f"{fake}/order_slip", auth=(key, ""), timeout=30, params={
            "output_format": "JSON", "display": "full"}).json()
        assert fake_slips == [] or list(fake_slips) == ["order_slips"]
        real_order = requests.get(f"{real}/orders/{placed['id_order']}", auth=(key, ""), timeout=30,
                                  params={"output_format": "JSON"}).json()["order"]
        fake_ids = requests.get(f"{fake}/orders", auth=(key, ""), timeout=30, params={"output_format": "JSON"}).json()
        some = fake_ids["orders"][0]["id"]
        fake_order = requests.get(f"{fake}/orders/{some}", auth=(key, ""), timeout=30,
                                  params={"output_format": "JSON"}).json()["order"]
        wanted = ("id", "current_state", "valid", "date_add", "date_upd", "total_paid", "total_paid_tax_incl",
                  "total_shipping_tax_incl", "id_customer", "id_currency", "secure_key", "reference", "id_cart")
        assert {k: shape(real_order.get(k)) for k in wanted} == {k: shape(fake_order.get(k)) for k in wanted}
