"""A shopper on the real Storefront theme in Chromium: add to cart, the block checkout, the thank-you page."""

from __future__ import annotations

import re


def block_checkout(page, shop_url: str, email: str, payment: str = "bacs", first: str = "Grace",
                   last: str = "Hopper") -> dict:
    """From the product page the browser is on: add it to the cart, fill WooCommerce's block checkout as a
    guest and place the order; returns the order's id and key from the order-received URL."""
    page.click("button[name=add-to-cart]")
    page.wait_for_load_state()
    page.goto(shop_url + "/checkout/")
    page.wait_for_selector("#email", timeout=30_000)
    page.fill("#email", email)
    page.select_option("#shipping-country", "FR")
    page.fill("#shipping-first_name", first)
    page.fill("#shipping-last_name", last)
    page.fill("#shipping-address_1", "8 avenue Foch")
    page.fill("#shipping-postcode", "75016")
    page.fill("#shipping-city", "Paris")
    page.check(f"#radio-control-wc-payment-method-options-{payment}")
    page.get_by_role("button", name="Place Order").click()
    page.wait_for_url(re.compile(r".*/order-received/\d+/.*"), timeout=60_000)
    found = re.search(r"/order-received/(\d+)/\?key=(wc_order_\w+)", page.url)
    return {"order_id": int(found.group(1)), "order_key": found.group(2), "url": page.url}
