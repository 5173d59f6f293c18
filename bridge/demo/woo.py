"""A WooCommerce double on loopback: the wc/v3 behaviour bridge relies on, over real HTTP.

It is the demo shop of `make demo` and the shop the tests drive bridge's real WooCommerce connector
against (through the official client).

It checks OAuth 1.0a the way WooCommerce's `check_oauth_signature` does (plain-HTTP shops accept only
OAuth: see shared/fixtures/woocommerce-live/SOURCES.md), and lists orders with WooCommerce's paging
headers and filters (`per_page` 1..100, `modified_after` + `dates_are_gmt`, `orderby`, `order`).
Orders are JSON objects as the shop returns them, seeded from the shared fixtures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import threading
import time
from datetime import datetime
from urllib.parse import quote

import requests
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from bridge.demo.storefront import catalogue, page, product_body

PREFIX = "/wp-json/wc/v3"


def _raw(text: str) -> str:
    """PHP's rawurlencode (RFC 3986: only letters, digits and -_.~ stay as they are)."""
    return quote(text, safe="-_.~")


class DemoWooCommerce:
    """Start with `with DemoWooCommerce(key, secret) as shop:`; `shop.url` is its home URL."""
    def __init__(self, consumer_key: str = "ck_fake", consumer_secret: str = "cs_fake", tls_cert=None, port: int = 0) -> None:
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.webhooks: dict[int, dict] = {}
        self.site_timezone = "Europe/Paris"  # WordPress's timezone_string: site-local dates are read in it
        self.auth_used: list[str] = []  # oauth | basic | query_string, per authenticated request
        self.fail_next: list[tuple[int, dict]] = []  # canned (status, headers) answers for the next requests
        self.fail_next_write: list[tuple[int, dict]] = []  # the same, for the next POST/PUT/DELETE only
        self.products: dict[int, dict] = {}
        self.pages: dict[str, tuple[str, dict]] = {}  # storefront pages a test serves at /pages/<name>
        self.snippet = ""  # the widget's <script> tag, pasted into every storefront page
        self.on_request = None  # a test's hook, called as each request arrives
        self.after_refund = None  # a test's hook, called once a refund is recorded, before the answer
        self.orders: dict[int, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.nonces: set[str] = set()
        self.before_list = None  # a test's hook, called before each list request is answered
        self.coupons: dict[int, dict] = {}
        self.refunds: dict[int, dict] = {}
        self.gateway_refunds = {"stripe"}  # payment methods whose gateway can refund (bacs cannot)
        self.lookup_misses = 0  # make this many coupon look-ups miss (another worker racing us)
        self.next_id = 1000
        self.lock = threading.Lock()
        self.app = self._build()
        context = None
        if tls_cert is not None:  # a trustme certificate: the shop is then reached over HTTPS
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls_cert.configure_cert(context)
        self.server = make_server("127.0.0.1", port, self.app, threaded=True, ssl_context=context)
        self.url = f"{'https' if context else 'http'}://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "DemoWooCommerce":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def put_order(self, order: dict) -> None:
        """Store (or replace) an order as the shop would return it."""
        with self.lock:
            self.orders[order["id"]] = order

    # -- the HTTP side -----------------------------------------------------------------------
    def _build(self) -> Flask:
        app = Flask("fake-woocommerce")

        @app.before_request
        def authenticate():
            if not request.path.startswith(PREFIX):
                return None  # the storefront: public pages
            self.requests.append((request.method, request.path, request.args.to_dict()))
            if self.on_request is not None:
                self.on_request(request)
            queue = self.fail_next or (self.fail_next_write if request.method != "GET" else [])
            if queue:
                status, headers = queue.pop(0)
                response = _error(status, "fake_failure", "Injected failure.")
                response.headers.update(headers)
                return response
            problem = self._auth_problem()
            if problem:
                return _error(401, "woocommerce_rest_authentication_error", problem)
            return None

        @app.get(f"{PREFIX}/products/<int:product_id>")
        def get_product(product_id):
            product = self.products.get(product_id)
            if product is None:
                return _error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            return jsonify(product)

        @app.get("/favicon.ico")
        def favicon():
            return "", 204

        @app.get("/")
        def home():
            return self._page("Home", catalogue(self))

        @app.get("/product/<slug>/")
        def product_page(slug):
            product = next((p for p in self.products.values() if p["slug"] == slug), None)
            if product is None:
                return self._page("Not found", "<h1>Not found</h1>"), 404
            return self._page(product["name"], product_body(self, product))

        @app.get("/checkout/order-received/<int:order_id>/")
        def order_received(order_id):
            return self._page("Order received", f'<div class="woocommerce-order"><p>Thank you. Your order '
                                                f'#{order_id} has been received.</p></div>')

        @app.get("/pages/<name>")
        def custom_page(name):
            if name not in self.pages:
                return "not found", 404
            html, headers = self.pages[name]
            return html.replace("{snippet}", self.snippet), 200, {"Content-Type": "text/html; charset=utf-8", **headers}

        @app.get(f"{PREFIX}/webhooks")
        def list_webhooks():
            with self.lock:
                return jsonify([_public(w) for w in self.webhooks.values()])

        @app.post(f"{PREFIX}/webhooks")
        def create_webhook():
            return self._save_webhook(None, request.get_json(silent=True) or {})

        @app.put(f"{PREFIX}/webhooks/<int:webhook_id>")
        def update_webhook(webhook_id):
            if webhook_id not in self.webhooks:
                return _error(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
            return self._save_webhook(webhook_id, request.get_json(silent=True) or {})

        @app.get(f"{PREFIX}/orders")
        def list_orders():
            return self._list_orders()

        @app.get(f"{PREFIX}/orders/<int:order_id>")
        def get_order(order_id):
            with self.lock:
                order = self.orders.get(order_id)
            if order is None:
                return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            return jsonify(order)

        @app.get(f"{PREFIX}/orders/<int:order_id>/refunds")
        def list_refunds(order_id):
            if order_id not in self.orders:
                return _error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
            return jsonify([r for r in self.refunds.values() if r["order_id"] == order_id])

        @app.post(f"{PREFIX}/orders/<int:order_id>/refunds")
        def create_refund(order_id):
            return self._create_refund(order_id, request.get_json(silent=True) or {})

        @app.get(f"{PREFIX}/coupons")
        def list_coupons():
            code = (request.args.get("code") or "").lower()
            with self.lock:
                if self.lookup_misses:
                    self.lookup_misses -= 1
                    return jsonify([])
                found = [c for c in self.coupons.values() if not code or c["code"] == code]
            return jsonify(found)

        @app.post(f"{PREFIX}/coupons")
        def create_coupon():
            return self._create_coupon(request.get_json(silent=True) or {})

        return app

    def _page(self, title: str, body: str) -> str:
        """A storefront page with the widget's snippet pasted in, as a shop owner would."""
        return page(self, title, body)

    def put_product(self, product: dict) -> None:
        """Store a product (from the live captures), its permalink moved onto this shop."""
        slug = product["slug"]
        self.products[product["id"]] = {**product, "permalink": f"{self.url}/product/{slug}/"}

    def _save_webhook(self, webhook_id: int | None, body: dict):
        """Create (then ping, as WooCommerce does on a REST create) or update a webhook; the secret is write-only."""
        topic = body.get("topic")
        if webhook_id is None and (topic not in {"order.created", "order.updated", "order.deleted", "order.restored",
                                                  "coupon.created"} or not body.get("delivery_url")):
            return _error(400, "rest_invalid_param", "Invalid parameter(s): topic, delivery_url")
        with self.lock:
            if webhook_id is None:
                self.next_id += 1
                webhook_id = self.next_id
                self.webhooks[webhook_id] = {"id": webhook_id, "status": "active", "failures": 0, "secret": "",
                                             "name": "", "api_version": "wp_api_v3"}
            hook = self.webhooks[webhook_id]
            hook.update({k: v for k, v in body.items() if k in {"name", "topic", "delivery_url", "secret", "status"}})
            if body.get("status") == "active":
                hook["failures"] = 0
            created = "date_created_gmt" not in hook
            hook.setdefault("date_created_gmt", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()))
        if created:
            # The ping: form-encoded, unsigned, no X-WC headers; only an exact 200 clears pending_delivery.
            answer = requests.post(hook["delivery_url"], data=f"webhook_id={webhook_id}", timeout=10,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False)
            hook["pending_delivery"] = answer.status_code != 200
        response = jsonify(_public(hook))
        response.status_code = 201 if created else 200
        return response

    def deliver_later(self, topic: str, order_id: int) -> None:
        """Deliver in the background, as WooCommerce's Action Scheduler does (only if a webhook listens)."""
        if any(h["topic"] == topic and h["status"] == "active" for h in self.webhooks.values()):
            threading.Thread(target=self.deliver, args=(topic, order_id), daemon=True).start()

    def deliver(self, topic: str, order_id: int) -> list[int]:
        """Deliver the order's current JSON to every active webhook of `topic`, signed as WooCommerce signs."""
        statuses = []
        for hook in [h for h in self.webhooks.values() if h["topic"] == topic and h["status"] == "active"]:
            body = json.dumps(self.orders[order_id] if topic != "order.deleted" else {"id": order_id}).encode()
            signature = base64.b64encode(hmac.new(hook["secret"].encode(), body, hashlib.sha256).digest()).decode()
            headers = {"Content-Type": "application/json", "X-WC-Webhook-Topic": topic,
                       "X-WC-Webhook-Resource": "order", "X-WC-Webhook-Event": topic.split(".")[1],
                       "X-WC-Webhook-Signature": signature, "X-WC-Webhook-ID": str(hook["id"]),
                       "X-WC-Webhook-Source": f"{self.url}/", "User-Agent": "WooCommerce/11.0.1 Hookshot (WordPress/7.1.4)"}
            try:
                status = requests.post(hook["delivery_url"], data=body, headers=headers, timeout=60,
                                       allow_redirects=False).status_code
            except requests.RequestException:
                status = 0
            # 200-302 is a success; otherwise, past 5 failures in a row, the webhook is disabled.
            if 200 <= status <= 302:
                hook["failures"] = 0
            elif hook["failures"] > 5:
                hook["status"] = "disabled"
            else:
                hook["failures"] += 1
            statuses.append(status)
        return statuses

    def _create_coupon(self, body: dict):
        """Lower-case the code (WooCommerce's filters do) and refuse duplicates with a 400."""
        code = str(body.get("code") or "").strip().lower()
        if not code:
            return _error(400, "woocommerce_rest_empty_coupon_code", "The coupon code cannot be empty.")
        with self.lock:
            if any(c["code"] == code for c in self.coupons.values()):
                return _error(400, "woocommerce_rest_coupon_code_already_exists",
                              f"The coupon code {code} already exists")
            self.next_id += 1
            # As WooCommerce 11 does (seen on a real shop): date_expires_gmt is ignored on write, date_expires
            # is read in the site's time zone and both are answered.
            body = {k: v for k, v in body.items() if k != "date_expires_gmt"}
            expires = _site_to_gmt(body.get("date_expires"), self.site_timezone)
            coupon = {"discount_type": "fixed_cart", "usage_limit": None, "usage_limit_per_user": None,
                      "email_restrictions": [], "minimum_amount": "0.00", "date_expires": None,
                      "individual_use": False, "description": "", **body, "date_expires_gmt": expires,
                      "id": self.next_id, "code": code, "usage_count": 0}
            self.coupons[coupon["id"]] = coupon
        response = jsonify(coupon)
        response.status_code = 201
        response.headers["Location"] = f"{self.url}{PREFIX}/coupons/{coupon['id']}"
        return response

    def _create_refund(self, order_id: int, body: dict):
        """Record a refund as WooCommerce does: checks, the gateway's answer, and the order's new state."""
        from decimal import Decimal, InvalidOperation

        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return _error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
            try:
                amount = Decimal(str(body.get("amount")))
            except InvalidOperation:
                return _error(400, "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.")
            if amount <= 0:
                return _error(400, "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.")
            left = Decimal(order["total"]) + sum(Decimal(r["total"]) for r in order.get("refunds", []))
            if amount > left:
                return _error(500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
            api_refund = body.get("api_refund", True)  # WooCommerce's default: through the gateway
            if api_refund and order.get("payment_method") not in self.gateway_refunds:
                return _error(500, "woocommerce_rest_cannot_create_order_refund",
                              "The payment gateway for this order does not support automatic refunds.")
            self.next_id += 1
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            refund = {"id": self.next_id, "order_id": order_id, "amount": f"{amount:.2f}", "reason": body.get("reason", ""),
                      "refunded_payment": bool(api_refund), "meta_data": body.get("meta_data", []),
                      "date_created_gmt": stamp, "line_items": _refunded_items(order, body.get("line_items")),
                      "shipping_lines": [], "tax_lines": [], "fee_lines": []}
            self.refunds[refund["id"]] = refund
            refunds = order.get("refunds", []) + [{"id": refund["id"], "reason": refund["reason"], "total": f"-{amount:.2f}"}]
            self.orders[order_id] = {**order, "refunds": refunds, "date_modified_gmt": stamp, "date_modified": stamp,
                                     "status": "refunded" if amount == left else order["status"]}
        if self.after_refund is not None:
            self.after_refund(refund)
        self.deliver_later("order.updated", order_id)  # WooCommerce's order.updated fires on refunds
        response = jsonify({k: v for k, v in refund.items() if k != "order_id"})
        response.status_code = 201
        return response

    def _auth_problem(self) -> str | None:
        """Over HTTPS: basic auth or keys in the query; over plain HTTP only OAuth 1.0a (as the live shop did)."""
        if request.scheme == "https":
            auth = request.authorization
            if auth is not None and auth.type == "basic":
                used, key, secret = "basic", auth.username, auth.password
            else:
                used, key, secret = "query_string", request.args.get("consumer_key"), request.args.get("consumer_secret")
            if key != self.consumer_key or not hmac.compare_digest(str(secret), self.consumer_secret):
                return "Consumer secret is invalid." if key == self.consumer_key else "Consumer key is invalid."
            self.auth_used.append(used)
            return None
        problem = self._oauth_problem()
        if problem is None:
            self.auth_used.append("oauth")
        return problem

    def _oauth_problem(self) -> str | None:
        """Recompute the signature from the query (PHP's $_GET: the last duplicate wins)."""
        params = request.args.to_dict(flat=True)
        for key in list(request.args):
            params[key] = request.args.getlist(key)[-1]
        if params.get("oauth_consumer_key") != self.consumer_key:
            return "Consumer key is invalid."
        signature = params.pop("oauth_signature", None)
        if signature is None or params.get("oauth_signature_method") != "HMAC-SHA256":
            return "Invalid signature - signature method is invalid."
        timestamp = int(params.get("oauth_timestamp", "0"))
        if abs(time.time() - timestamp) > 15 * 60:
            return "Invalid timestamp."
        nonce = f"{params.get('oauth_nonce')}:{timestamp}"
        if nonce in self.nonces:
            return "Invalid nonce - nonce has already been used."
        # WooCommerce encodes key and value, then encodes "key=value" again (join_with_equals_sign).
        pairs = sorted((_raw(k), _raw(v)) for k, v in params.items())
        base = "&".join([request.method, _raw(f"{self.url}{request.path}"), "%26".join(_raw(f"{k}={v}") for k, v in pairs)])
        expected = base64.b64encode(hmac.new(f"{self.consumer_secret}&".encode(), base.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected.decode(), signature.replace(" ", "+")):
            return "Invalid signature - provided signature does not match."
        self.nonces.add(nonce)
        return None

    def _list_orders(self):
        args = request.args
        try:
            page = int(args.get("page", "1"))
            per_page = int(args.get("per_page", "10"))
        except ValueError:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): page, per_page")
        if not 1 <= per_page <= 100 or page < 1:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        if self.before_list is not None:
            self.before_list(self)
        with self.lock:
            orders = list(self.orders.values())
        # dates_are_gmt=false compares with the shop's local columns; this fake shop runs in UTC.
        column = "date_modified_gmt" if args.get("dates_are_gmt") == "true" else "date_modified"
        # WordPress's date_query without `inclusive`: both boundaries are exclusive (seen on a real shop:
        # modified_after=15:00:00 leaves out an order modified at 15:00:00).
        if "modified_after" in args:
            after = datetime.fromisoformat(args["modified_after"].replace("Z", ""))
            orders = [o for o in orders if datetime.fromisoformat(o[column]) > after]
        if "modified_before" in args:
            before = datetime.fromisoformat(args["modified_before"].replace("Z", ""))
            orders = [o for o in orders if datetime.fromisoformat(o[column]) < before]
        key = {"modified": "date_modified_gmt", "date": "date_created_gmt", "id": "id"}.get(args.get("orderby", "date"))
        if key is None:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): orderby")
        orders.sort(key=lambda o: (o[key], o["id"]), reverse=args.get("order", "desc") == "desc")
        total = len(orders)
        pages = max(1, -(-total // per_page))
        chunk = orders[(page - 1) * per_page: page * per_page]
        response = jsonify(chunk)
        response.headers["X-WP-Total"] = str(total)
        response.headers["X-WP-TotalPages"] = str(pages)
        links = []
        base = f"{self.url}{request.path}"
        if page > 1:
            links.append(f'<{base}?page={page - 1}&per_page={per_page}>; rel="prev"')
        if page < pages:
            links.append(f'<{base}?page={page + 1}&per_page={per_page}>; rel="next"')
        if links:
            response.headers["Link"] = ", ".join(links)
        return response


def _public(hook: dict) -> dict:
    """A webhook as the API shows it (never its secret)."""
    return {k: v for k, v in hook.items() if k not in {"secret", "failures"}}


def _refunded_items(order: dict, asked) -> list[dict]:
    """A refund's lines as WooCommerce answers them: the order's product, negative quantity and amounts."""
    from decimal import Decimal

    items = {line.get("id"): line for line in order.get("line_items") or []}
    out = []
    for item in asked if isinstance(asked, list) else []:
        line = items.get(item.get("id")) if isinstance(item, dict) else None
        if line is None:
            continue
        tax = sum((Decimal(str(t.get("refund_total") or 0)) for t in item.get("refund_tax") or []), Decimal(0))
        out.append({"id": line["id"], "product_id": line.get("product_id"), "quantity": -int(item.get("quantity") or 0),
                    "total": f"-{Decimal(str(item.get('refund_total') or 0)):.2f}", "total_tax": f"-{tax:.2f}"})
    return out


def _site_to_gmt(local: str | None, zone: str) -> str | None:
    """A site-local WooCommerce date as its *_gmt twin (None stays None)."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    if not local:
        return None
    instant = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
    return instant.strftime("%Y-%m-%dT%H:%M:%S")


def _error(status: int, code: str, message: str):
    response = jsonify(code=code, message=message, data={"status": status})
    response.status_code = status
    return response
