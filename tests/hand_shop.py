"""An example hand-coded shop on loopback, as a site "developed by hand" would integrate bridge: static HTML pages
with the pasted widget line, and a small server of its own that signs and sends its orders to bridge, reads
the share code from the widget's first-party cookie at checkout, receives bridge's events, and executes the
refunds bridge asks for (then says so, signed). It keeps its own books, so a test can compare."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

SIGNING_SECRET = "hand-made-shop-signing-secret-0123456789"
EVENTS_SECRET = "hand-made-shop-events-secret-0123456789ab"
PRICE = "59.90"

PRODUCT = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Tote bag – Fait Main</title></head><body style="font-family:sans-serif;max-width:40em;margin:auto;padding:1em">
<h1>Tote bag en lin</h1><p>{price} €</p>
<form method="post" action="/checkout"><label>E-mail <input name="email" type="email" required></label>
<button type="submit">Acheter</button></form>
{snippet}</body></html>"""

THANK_YOU = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Merci – Fait Main</title></head><body style="font-family:sans-serif;max-width:40em;margin:auto;padding:1em">
<h1>Merci pour votre commande</h1>
<p data-order-id="{order_id}" data-order-key="{key}">Commande n° {order_id} : {price} €, payée.</p>
<div data-bridge-widget></div>
{snippet}</body></html>"""


def sign(secret: str, body: bytes) -> str:
    """The signature header, as the README's Python example computes it."""
    t = int(time.time())
    return f"t={t},v1={hmac.new(secret.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"


def verified(secret: str, header: str, body: bytes) -> bool:
    """Check bridge's signature on an event (the same scheme, the other way)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if abs(time.time() - int(parts.get("t", "0"))) > 300:
        return False
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class HandShop:
    """The shop's server: `url`, its orders, the events it received and the refunds it made (its own books)."""

    def __init__(self, shop_id: str = "hand") -> None:
        self.shop_id = shop_id
        self.bridge = ""  # bridge's address, set once bridge runs
        self.orders: dict[str, dict] = {}
        self.events: list[dict] = []
        self.refunds: dict[str, dict] = {}  # payout key -> the refund made for it (once)
        self.answers: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._next = 1001
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = urlsplit(self.path)
                if path.path == "/":
                    return self._page(PRODUCT.format(price=PRICE, snippet=shop.snippet()))
                if path.path.startswith("/merci/"):
                    order = shop.orders.get(path.path.split("/")[2])
                    key = parse_qs(path.query).get("key", [""])[0]
                    if order is None or not hmac.compare_digest(order["key"], key):
                        return self._page("<h1>Commande inconnue</h1>", 404)
                    return self._page(THANK_YOU.format(order_id=order["id"], key=key, price=PRICE, snippet=shop.snippet()))
                self._page("<h1>Page introuvable</h1>", 404)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/checkout":
                    email = parse_qs(body.decode()).get("email", [""])[0]
                    order = shop.checkout(email, self._share_code())
                    self.send_response(303)
                    self.send_header("Location", f"/merci/{order['id']}?key={order['key']}")
                    self.end_headers()
                    return
                if self.path == "/bridge-events":
                    if not verified(EVENTS_SECRET, self.headers.get("Bridge-Signature", ""), body):
                        return self._page("bad signature", 401)
                    shop.receive(json.loads(body))
                    return self._page("ok")
                self._page("not found", 404)

            def _share_code(self) -> str | None:
                """The code the widget kept in its first-party cookie ("CODE.TAG|expiry")."""
                for part in (self.headers.get("Cookie") or "").split(";"):
                    name, _, value = part.strip().partition("=")
                    if name == f"bridge_{shop.shop_id}":
                        code, _, until = unquote(value).partition("|")
                        return code if until.isdigit() and int(until) > time.time() * 1000 else None
                return None

            def _page(self, html: str, status: int = 200):
                data = html.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "HandShop":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def snippet(self) -> str:
        return f'<script src="{self.bridge}/widget.js" data-shop="{self.shop_id}" async></script>'

    def checkout(self, email: str, code: str | None) -> dict:
        """A paid order (card payment accepted), sent to bridge before the thank-you page is shown."""
        with self._lock:
            order_id, self._next = str(self._next), self._next + 1
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        order = dict(id=order_id, key=secrets.token_urlsafe(16), status="paid", created_at=now, modified_at=now,
                     paid_at=now, currency="EUR", total=PRICE,
                     lines=[dict(product_id="tote", quantity=1, total="49.92", tax="9.98", name="Tote bag en lin",
                                 url=f"{self.url}/")],
                     customer=dict(email=email, first_name=email.split("@")[0].capitalize()),
                     ip="203.0.113." + str(int(order_id) % 250), user_agent="Mozilla/5.0", coupons=[],
                     referral_code=code, refunds=[])
        self.orders[order_id] = order
        self.send_order(order)
        return order

    def refund_customer(self, order_id: str, amount: str) -> None:
        """The customer sends something back: a refund the shop makes, and tells bridge of."""
        order = self.orders[order_id]
        order["refunds"].append(dict(id=f"r{len(order['refunds']) + 1}", amount=amount))
        self.send_order(order)

    def send_order(self, order: dict) -> None:
        order["modified_at"] = max(order["modified_at"], datetime.now(timezone.utc).replace(microsecond=0).isoformat())
        time.sleep(1.0)  # (modified_at is to the second: the next change is a newer version)
        self.call(f"/api/v1/shops/{self.shop_id}/orders", order)

    def call(self, path: str, payload: dict) -> dict:
        body = json.dumps(payload).encode()
        request = urllib.request.Request(self.bridge + path, data=body, method="POST", headers={
            "Content-Type": "application/json", "Bridge-Signature": sign(SIGNING_SECRET, body)})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                result = answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            result = error.code, json.loads(error.read())
        self.answers.append((path, result[0]))
        assert result[0] == 200, (path, result)
        return result[1]

    def receive(self, event: dict) -> None:
        """An event from bridge: kept (once by id); a payout to make is made in the background, then answered."""
        with self._lock:
            if any(e["id"] == event["id"] for e in self.events):
                return  # already handled: bridge delivers at least once
            self.events.append(event)
        if event["type"] == "payout.requested" and event["data"]["execute"]:
            threading.Thread(target=self.execute, args=(event["data"],), daemon=True).start()

    def execute(self, payout: dict) -> None:
        """Refund the cashback on the order's payment, once per payout key, and tell bridge."""
        with self._lock:
            done = self.refunds.get(payout["payout"])
            if done is None:
                done = self.refunds[payout["payout"]] = dict(order_id=payout["order_id"], amount=payout["amount"],
                                                             reference=f"re_{len(self.refunds) + 1:04d}")
        order = self.orders[payout["order_id"]]
        if not any(r.get("payout_key") == payout["payout"] for r in order["refunds"]):
            order["refunds"].append(dict(id=done["reference"], amount=payout["amount"], payout_key=payout["payout"]))
            self.send_order(order)  # the order's own refunds now include bridge's cashback, marked as such
        self.call(f"/api/v1/shops/{self.shop_id}/payouts/{payout['payout']}",
                  dict(status="done", reference=done["reference"]))
