"""A shopper on PrestaShop's classic theme in Chromium: product page, guest checkout, confirmation page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


def guest_checkout(page, email: str, payment: str = "ps_wirepayment", quantity: int = 1, first: str = "Grace",
                   last: str = "Hopper") -> dict:
    """From the product page the browser is on: add to cart, fill the guest forms, pay; returns the order's ids."""
    page.fill("#quantity_wanted", str(quantity))
    page.locator("button.add-to-cart").first.click()
    page.wait_for_selector("#blockcart-modal", state="visible", timeout=20_000)
    base = f"{urlsplit(page.url).scheme}://{urlsplit(page.url).netloc}"
    page.goto(base + "/commande")
    form = page.locator("#customer-form")
    form.locator("input[name=firstname]").fill(first)
    form.locator("input[name=lastname]").fill(last)
    form.locator("input[name=email]").fill(email)
    for name in ("customer_privacy", "psgdpr"):
        box = form.locator(f"input[name={name}]")
        if box.count():
            box.check()
    form.locator("button[name=continue]").click()
    page.wait_for_selector("input[name=address1]", timeout=20_000)
    page.fill("input[name=address1]", "8 avenue Foch")
    page.fill("input[name=postcode]", "75016")
    page.fill("input[name=city]", "Paris")
    page.click("button[name=confirm-addresses]")
    page.wait_for_selector("button[name=confirmDeliveryOption]", timeout=20_000)
    page.click("button[name=confirmDeliveryOption]")
    page.wait_for_selector(f"input[data-module-name={payment}]", timeout=20_000)
    page.check(f"input[data-module-name={payment}]")
    page.check("input[name='conditions_to_approve[terms-and-conditions]']")
    page.click("#payment-confirmation button")
    page.wait_for_url("**/*confirmation*", timeout=30_000)
    query = parse_qs(urlsplit(page.url).query)
    return {"id_order": int(query["id_order"][0]), "key": query["key"][0], "confirmation_url": page.url}
