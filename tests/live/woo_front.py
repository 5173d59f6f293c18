"""A shopper on the real Storefront theme in Chromium: add to cart, the block checkout, the thank-you page."""

from __future__ import annotations

import re

from playwright.sync_api import expect


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
    # The block checkout sends each field as it is typed and ignores "Place Order" while it recalculates.
    page.wait_for_load_state("networkidle")
    button = page.get_by_role("button", name="Place Order")
    try:
        for attempt in range(3):
            expect(button).to_be_enabled(timeout=20_000)
            button.click()
            try:
                page.wait_for_url(re.compile(r".*/order-received/\d+/.*"), timeout=20_000)
                break
            except Exception:
                if attempt == 2:
                    raise
    except Exception:
        notices = page.locator(".wc-block-components-notice-banner, .wc-block-components-validation-error")
        page.screenshot(path="/tmp/bridge-block-checkout-failed.png", full_page=True)
        raise AssertionError(f"the block checkout did not place the order: {notices.all_inner_texts()}") from None
    found = re.search(r"/order-received/(\d+)/\?key=(wc_order_\w+)", page.url)
    return {"order_id": int(found.group(1)), "order_key": found.group(2), "url": page.url}
