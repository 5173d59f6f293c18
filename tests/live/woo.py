"""What a shopper and a merchant do on the real WooCommerce shop: Store API checkouts, REST refunds, webhooks."""

from __future__ import annotations

import requests

ADDRESS = dict(first_name="Ada", last_name="Lovelace", address_1="3 rue de la Paix", city="Paris", postcode="75002",
               country="FR", phone="0600000000")


def checkout(shop: dict, items: list[tuple[int, int]], email: str, payment: str = "cod", coupon: str | None = None,
             user_agent: str = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36",
             address: dict | None = None) -> dict:
    """A guest checkout through the Store API, as the block checkout does it; returns the Store API's answer."""
    api, session = shop["store_api_url"], requests.Session()
    session.headers["User-Agent"] = user_agent
    answer = session.get(api + "/cart", timeout=30)
    session.headers["Cart-Token"] = answer.headers["Cart-Token"]
    for product_id, quantity in items:
        added = session.post(api + "/cart/add-item", json={"id": product_id, "quantity": quantity}, timeout=30)
        assert added.status_code == 201, added.text
    billing = {**ADDRESS, **(address or {}), "email": email}
    shipping = {k: v for k, v in billing.items() if k != "email"}
    if coupon:
        # The block checkout sends the address as it is typed; an e-mail-restricted coupon needs it first.
        updated = session.post(api + "/cart/update-customer", json={"billing_address": billing,
                                                                    "shipping_address": shipping}, timeout=30)
        assert updated.status_code == 200, updated.text
        applied = session.post(api + "/cart/apply-coupon", json={"code": coupon}, timeout=30)
        if applied.status_code != 200:
            raise CouponRefused(applied.status_code, applied.json())
    done = session.post(api + "/checkout", json={"billing_address": billing, "shipping_address": shipping,
                                                 "payment_method": payment}, timeout=60)
    assert done.status_code == 200, done.text
    return done.json()


class CouponRefused(Exception):
    """The Store API refused a coupon: (status, body)."""


def received_url(shop: dict, placed: dict) -> str:
    return shop["order_received_url"].format(order_id=placed["order_id"], order_key=placed["order_key"])


def rest(shop: dict):
    """The official client on the shop's REST API (OAuth 1.0a over http, as bridge uses it)."""
    from woocommerce import API

    return API(url=shop["url"], consumer_key=shop["consumer_key"], consumer_secret=shop["consumer_secret"],
               version="wc/v3", timeout=60)


def refund(shop: dict, order_id: int, amount: str, lines: list[dict] | None = None) -> dict:
    """The merchant's manual refund (no gateway), optionally of given lines."""
    body = {"amount": amount, "api_refund": False, "reason": "customer returned it"}
    if lines:
        body["line_items"] = lines
    answer = rest(shop).post(f"orders/{order_id}/refunds", body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def set_status(shop: dict, order_id: int, status: str) -> None:
    answer = rest(shop).put(f"orders/{order_id}", {"status": status})
    assert answer.status_code == 200, answer.text


def order(shop: dict, order_id: int) -> dict:
    answer = rest(shop).get(f"orders/{order_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def deliver_webhooks(live) -> None:
    """Run WooCommerce's queued webhook deliveries now (they wait for WP-Cron otherwise)."""
    live.run(*live.info["deliver_webhooks"].split())
