"""The demo shop's storefront: a catalogue, a fake checkout, the orders and the captured e-mails.

Every page carries the widget's snippet, as a shop owner would paste it. Checkout creates a paid
WooCommerce order (the same JSON the REST API serves) and fires order.created towards bridge.
"""

from __future__ import annotations

import hashlib
import html
import secrets
import time
from typing import Any, Callable

from flask import redirect, request

CATALOGUE = [
    {"id": 10, "name": "Organic cotton T-shirt", "slug": "organic-t-shirt", "price": "25.00", "colour": "#0f766e"},
    {"id": 11, "name": "Stoneware mug", "slug": "stoneware-mug", "price": "14.00", "colour": "#b45309"},
    {"id": 12, "name": "Wool beanie", "slug": "wool-beanie", "price": "19.00", "colour": "#7c3aed"},
]
STYLE = ("body{font-family:system-ui,Arial,sans-serif;margin:0;color:#18181b;background:#fafafa}"
         "header{background:#18181b;color:#fff;padding:10px 16px;display:flex;gap:16px;flex-wrap:wrap;align-items:center}"
         "header a{color:#fff}main{max-width:900px;margin:0 auto;padding:16px}"
         ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:16px}"
         ".card{background:#fff;border:1px solid #e4e4e7;border-radius:8px;padding:12px}"
         ".swatch{height:120px;border-radius:6px}table{border-collapse:collapse;width:100%;background:#fff}"
         "td,th{border:1px solid #e4e4e7;padding:6px;text-align:left;vertical-align:top}"
         "input{padding:8px;font:inherit}button{padding:8px 14px;font:inherit;font-weight:600;cursor:pointer}"
         "pre{white-space:pre-wrap;background:#fff;border:1px solid #e4e4e7;padding:8px}")


def seed(shop: Any) -> None:
    """Put the demo catalogue in the shop (as products of the REST API)."""
    for item in CATALOGUE:
        shop.products[item["id"]] = {"id": item["id"], "name": item["name"], "slug": item["slug"],
                                     "permalink": f"{shop.url}/product/{item['slug']}/", "price": item["price"],
                                     "regular_price": item["price"], "status": "publish", "type": "simple",
                                     "images": [], "demo_colour": item["colour"]}


def page(shop: Any, title: str, body: str) -> str:
    """A storefront page: the demo bar (when run by `make demo`), the body, the widget's snippet."""
    bar = ""
    if getattr(shop, "demo_links", None):
        links = " ".join(f'<a href="{html.escape(url)}">{html.escape(label)}</a>' for label, url in shop.demo_links)
        bar = (f"<header><strong>{html.escape(shop.name)}</strong> {links}"
               f'<form method="post" action="/demo/fast-forward" style="margin:0">'
               f'<button type="submit">Fast-forward to payout</button></form></header>')
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title><style>{STYLE}</style>"
            f"</head><body>{bar}<main>{body}</main>{shop.snippet}</body></html>")


def catalogue(shop: Any) -> str:
    cards = "".join(
        f'<div class="card"><div class="swatch" style="background:{p.get("demo_colour", "#a1a1aa")}"></div>'
        f'<h2><a href="/product/{html.escape(p["slug"])}/">{html.escape(p["name"])}</a></h2>'
        f'<p>{html.escape(p.get("price", ""))} €</p></div>' for p in shop.products.values())
    return f"<h1>{html.escape(getattr(shop, 'name', 'Shop'))}</h1><div class='grid'>{cards}</div>"


def product_body(shop: Any, product: dict) -> str:
    """The product page with a one-step checkout (no payment: the order is created paid)."""
    return (f'<h1>{html.escape(product["name"])}</h1><p>{html.escape(product.get("price", ""))} €</p>'
            f'<form method="post" action="/checkout"><input type="hidden" name="product" value="{product["id"]}">'
            f'<label>Your e-mail <input type="email" name="email" required></label> '
            f'<label>Your name <input name="name" required></label> '
            f'<button type="submit">Buy now</button></form>')


def install(shop: Any, fast_forward: Callable[[], dict]=None, bridge_url: str = "") -> None:
    """Add the demo routes to the shop's app: checkout, orders, e-mails, fast-forward."""
    app = shop.app
    shop.outbox = getattr(shop, "outbox", [])
    shop.demo_links = [("Shop", "/"), ("Orders", "/orders"), ("E-mails", "/outbox")] + (
        [("bridge admin", f"{bridge_url}/admin")] if bridge_url else [])

    @app.post("/checkout")
    def checkout():
        product = shop.products.get(int(request.form.get("product", "0") or 0))
        email = (request.form.get("email") or "").strip()[:200]
        name = (request.form.get("name") or "").strip()[:100]
        if product is None or "@" not in email or not name:
            return shop._page("Checkout", "<p>Please give a product, your e-mail and your name.</p>"), 400
        # You play every buyer from one browser: give each e-mail an address and browser of its own, or
        # bridge's identity rules (same IP and browser within 24 h) would rightly see one person.
        digest = hashlib.sha256(email.lower().encode()).digest()
        ip = f"10.{digest[0]}.{digest[1]}.{digest[2] or 1}"
        order = new_order(shop, product, email, name, ip, f"Demo browser of {email}")
        shop.deliver_later("order.created", order["id"])
        return redirect(f"/checkout/order-received/{order['id']}/?key={order['order_key']}", code=303)

    @app.get("/orders")
    def orders():
        rows = "".join(
            f"<tr><td>#{o['id']}</td><td>{html.escape(o['billing']['email'])}</td><td>{o['total']} €</td>"
            f"<td>{o['status']}</td><td>{', '.join(html.escape(r['total'] + ' € (' + r['reason'] + ')') for r in o['refunds']) or '-'}</td></tr>"
            for o in sorted(shop.orders.values(), key=lambda o: -o["id"]))
        return shop._page("Orders", "<h1>Orders</h1><table><tr><th>Order</th><th>E-mail</th><th>Total</th><th>Status</th>"
                                    f"<th>Refunds</th></tr>{rows}</table>")

    @app.get("/outbox")
    def outbox():
        items = "".join(
            f"<article class='card'><p><strong>{html.escape(str(m['Subject']))}</strong><br>to {html.escape(str(m['To']))}"
            f"</p><pre>{html.escape(_plain(m))}</pre></article>" for m in reversed(shop.outbox))
        return shop._page("E-mails", f"<h1>E-mails sent by bridge ({len(shop.outbox)})</h1>{items or '<p>None yet.</p>'}")

    @app.post("/demo/fast-forward")
    def forward():
        summary = fast_forward() if fast_forward else "nothing to do"
        return shop._page("Fast-forward", f"<h1>Time moved on</h1><pre>{html.escape(summary)}</pre>"
                                          "<p><a href='/orders'>See the orders and their refunds</a> · "
                                          "<a href='/outbox'>See the e-mails</a></p>")


def _plain(message) -> str:
    try:
        return message.get_body(("plain",)).get_content()
    except (AttributeError, KeyError):
        return str(message)


def new_order(shop: Any, product: dict, email: str, name: str, ip: str | None, agent: str) -> dict:
    """A paid order as WooCommerce's REST API shows it."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    with shop.lock:
        shop.next_id += 1
        order_id = shop.next_id
    price = product.get("price", "10.00")
    first, _, last = name.partition(" ")
    order = {
        "id": order_id, "number": str(order_id), "status": "processing", "currency": "EUR", "order_key": f"wc_order_{secrets.token_urlsafe(10)}",
        "total": price, "total_tax": "0.00", "shipping_total": "0.00", "discount_total": "0.00", "payment_method": "stripe",
        "customer_id": 0, "customer_ip_address": ip or "", "customer_user_agent": agent[:300],
        "date_created_gmt": stamp, "date_paid_gmt": stamp, "date_modified_gmt": stamp, "date_modified": stamp,
        "billing": {"first_name": first, "last_name": last, "email": email, "address_1": f"{order_id} demo street",
                    "city": "Paris", "postcode": "75001", "country": "FR"},
        "line_items": [{"id": order_id * 10, "product_id": product["id"], "name": product["name"], "quantity": 1,
                        "total": price, "total_tax": "0.00"}],
        "refunds": [], "coupon_lines": [], "meta_data": []}
    shop.put_order(order)
    return order
