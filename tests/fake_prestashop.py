"""A fake PrestaShop Webservice on loopback, fed by the shared fixtures, behaving as PLATFORMS.md section B says.

XML output by default and JSON only for `output_format=JSON` (case-sensitive); the key as the
basic-auth user (32 characters) or `ws_key`; filters `[v]`, `[a|b]`, `[a,b]` (inclusive BETWEEN,
which silently becomes an equality when a value has a `T`), `>[v]`, `<[v]`; date fields only with
`date=1`; `sort=[field_ASC]`; `limit=offset,N`; lists without `display` give ids only; an empty
JSON list may be a bare `[]`; multilingual fields are a list or, with one language, a string;
writes are XML only, and a POST sets every field it does not name to NULL.
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "prestashop"
# What PrestaShop 8.1's JSON output writes as numbers (its int-typed ObjectModel fields), read off a real shop.
INTEGER_FIELDS = frozenset({"id", "id_address_delivery", "id_address_invoice", "id_cart", "id_currency", "id_lang",
                            "id_customer", "id_carrier", "current_state", "invoice_number", "delivery_number",
                            "id_shop_group", "id_shop", "round_mode", "round_type", "id_order", "partial",
                            "order_slip_type", "id_cart_rule", "id_order_invoice"})
RESOURCES = {"orders": "order", "order_states": "order_state", "customers": "customer", "currencies": "currency",
             "order_slip": "order_slip", "cart_rules": "cart_rule", "languages": "language", "products": "product",
             "order_cart_rules": "order_cart_rule", "bridge_order_codes": "bridge_order_code"}
MULTILINGUAL = {"order_states": {"name", "template"}, "products": {"name", "link_rewrite"}, "cart_rules": {"name"}}
DATE_FIELDS = {"date_add", "date_upd"}
# Install defaults, in insertion order (ids 1..13), with the templates of the English language pack.
TEMPLATES = ["cheque", "payment", "preparation", "shipped", "", "order_canceled", "refund", "payment_error",
             "outofstock", "bankwire", "payment", "outofstock", "cashondelivery"]


def element_to_dict(node: ET.Element) -> dict:
    """A Webservice XML entity as the JSON output shows it (strings, associations as lists of dicts)."""
    entity = {}
    for child in node:
        if child.tag == "associations":
            entity["associations"] = {a.tag: [element_to_dict(row) for row in a] for a in child}
        elif len(child) and child[0].tag == "language":
            entity[child.tag] = {lang.get("id"): (lang.text or "") for lang in child}
        else:
            entity[child.tag] = (child.text or "").strip()
    return entity


def fixture_entity(name: str) -> dict:
    root = ET.parse(FIXTURES / name).getroot()
    return element_to_dict(root[0])


class FakePrestaShop:
    """`with FakePrestaShop(key) as shop:`; `shop.url` is the shop's home (the API is under /api/)."""

    def __init__(self, key: str, languages: tuple[str, ...] = ("1", "2")):
        self.key, self.languages = key, languages
        self.data: dict[str, dict[str, dict]] = {r: {} for r in RESOURCES}
        self.requests: list[tuple[str, str, dict]] = []
        self.bare_empty_lists = True  # PrestaShop 1.7.6/1.7.7 answered an empty JSON list with `[]`
        self.forbidden: set[str] = set()  # resources the key has no permission for (as its Webservice page allows)
        self.absent = {"bridge_order_codes"}  # resources no module adds: the bridgehints module is not installed
        self.next_id = 1000
        self.lock = threading.Lock()
        self._seed()
        self.app = self._build()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # -- data ----------------------------------------------------------------------------------
    def _seed(self) -> None:
        root = ET.parse(FIXTURES / "order_state_install_defaults.xml").getroot()
        for number, (node, template) in enumerate(zip(root.iter("order_state"), TEMPLATES), start=1):
            flags = {k: v for k, v in node.attrib.items() if k != "id"}
            name = node.get("id").replace("_", " ")
            self.put("order_states", {"id": str(number), **flags, "module_name": node.findtext("module_name") or "",
                                      "deleted": "0", "name": {lang: name for lang in self.languages},
                                      "template": {lang: template for lang in self.languages}})
        self.put("customers", fixture_entity("customer_1_ps1.6.1.6.xml"))
        self.put("customers", fixture_entity("customer_2.xml"))
        self.put("currencies", {"id": "1", "iso_code": "EUR", "name": "Euro", "active": "1", "deleted": "0"})
        for lang in self.languages:
            self.put("languages", {"id": lang, "iso_code": {"1": "en", "2": "fr"}.get(lang, "xx"), "active": "1"})
        self.put("orders", fixture_entity("order_5_ps1.6.1.23.xml"))
        self.put("products", {"id": "1", "name": {lang: "Faded Short Sleeve T-shirts" for lang in self.languages},
                              "link_rewrite": {lang: "faded-short-sleeve-tshirts" for lang in self.languages},
                              "id_default_image": "1", "price": "16.510000", "active": "1"})

    def put(self, resource: str, entity: dict) -> None:
        with self.lock:
            self.data[resource][str(entity["id"])] = entity

    # -- HTTP ----------------------------------------------------------------------------------
    def _build(self) -> Flask:
        app = Flask("fake-prestashop")

        @app.before_request
        def authenticate():
            self.requests.append((request.method, request.path, request.args.to_dict()))
            auth = request.authorization
            key = auth.username if auth is not None and auth.type == "basic" else request.args.get("ws_key")
            if key is None:
                return self._error(401, 17, "Authentication key is empty",
                                   {"WWW-Authenticate": 'Basic realm="Welcome to PrestaShop Webservice"'})
            if len(key) != 32:
                return self._error(401, 18, "Invalid authentication key format")
            if key != self.key:
                return self._error(401, 20, "Authentication key does not exist")
            if request.path.split("/")[2:3] and request.path.split("/")[2] in self.forbidden:
                return self._error(401, 21, "No permission for this authentication key")
            return None

        @app.route("/api/<resource>", methods=["GET", "POST"])
        def collection(resource):
            if resource not in RESOURCES or resource in self.absent:
                return self._error(400, 27, f'Resource of type "{resource}" does not exists')
            if request.method == "POST":
                return self._create(resource)
            if request.args.get("schema") == "blank":
                return self._blank(resource)
            return self._list(resource)

        @app.get("/api/<resource>/<entity_id>")
        def single(resource, entity_id):
            entity = self.data.get(resource, {}).get(entity_id)
            if entity is None:
                return self._error(404, 87, f"Id(s) not exists: {entity_id}")
            return self._render(resource, [entity], single=True)

        return app

    def _json_wanted(self) -> bool:
        # Compared case-sensitively with JSON: `json` silently gives XML.
        return "JSON" in (request.args.get("output_format"), request.args.get("io_format"),
                          request.headers.get("Output-Format"), request.headers.get("Io-Format"))

    def _error(self, status: int, code: int, message: str, headers=None):
        if self._json_wanted():
            response = jsonify(errors=[{"code": code, "message": message}])
        else:
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">'
                    f"<errors><error><code><![CDATA[{code}]]></code><message><![CDATA[{message}]]></message></error>"
                    f"</errors></prestashop>")
            response = Response(body, mimetype="text/xml")
        response.status_code = status
        response.headers.update(headers or {})
        return response

    def _list(self, resource: str):
        args = request.args
        rows = list(self.data[resource].values())
        uses_dates = any(k.startswith("filter[") and k[7:-1] in DATE_FIELDS for k in args) or any(
            f in (args.get("sort") or "") for f in DATE_FIELDS)
        if uses_dates and args.get("date") != "1":
            return self._error(400, 32, "This filter does not exist. Did you mean: date_add, date_upd ... (date=1)")
        if args.get("id_shop"):
            rows = [r for r in rows if r.get("id_shop", "1") == args["id_shop"]]
        for key, value in args.items():
            match = re.fullmatch(r"filter\[(\w+)\]", key)
            if match:
                rows = [r for r in rows if _matches(r.get(match.group(1)), value)]
        sort = args.get("sort", "[id_ASC]").strip("[]")
        for part in reversed([p for p in sort.split(",") if p]):
            field, _, direction = part.rpartition("_")
            rows.sort(key=lambda r: (_sortable(r.get(field))), reverse=direction == "DESC")
        limit = args.get("limit")
        if limit:
            offset, _, count = limit.rpartition(",")
            rows = rows[int(offset or 0): int(offset or 0) + int(count)]
        display = args.get("display")
        if display is None:
            rows = [{"id": int(r["id"])} for r in rows]
        elif display != "full":
            fields = display.strip("[]").split(",")
            rows = [{f: r.get(f) for f in fields if f in r} for r in rows]
        return self._render(resource, rows, single=False)

    def _render(self, resource: str, rows: list[dict], single: bool):
        name = RESOURCES[resource]
        if self._json_wanted():
            shaped = [self._shape(resource, r) for r in rows]
            if single:
                return jsonify({name: shaped[0]})
            if not shaped and self.bare_empty_lists:
                return jsonify([])
            return jsonify({resource: shaped})
        root = ET.Element("prestashop")
        parent = root if single else ET.SubElement(root, resource)
        for row in rows:
            parent.append(self._xml(name, row))
        return Response(b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8"),
                        mimetype="text/xml")

    def _shape(self, resource: str, row: dict) -> dict:
        """Multilingual fields: a list of {id, value}, or a plain string with one language; integer fields as
        JSON numbers, as PrestaShop 8's JSON output writes ids and states (seen on a real 8.1.2 shop)."""
        shaped = {k: (int(v) if k in INTEGER_FIELDS and isinstance(v, str) and v.isdigit() else v) for k, v in row.items()}
        for field in MULTILINGUAL.get(resource, ()):
            if isinstance(row.get(field), dict):
                values = row[field]
                shaped[field] = (next(iter(values.values()), "") if len(self.languages) == 1
                                 else [{"id": k, "value": v} for k, v in values.items()])
        return shaped

    def _xml(self, name: str, row: dict) -> ET.Element:
        node = ET.Element(name)
        for key, value in row.items():
            child = ET.SubElement(node, key)
            if isinstance(value, dict) and key != "associations":
                for lang, text in value.items():
                    ET.SubElement(child, "language", id=lang).text = text
            elif key == "associations":
                for association, items in value.items():
                    holder = ET.SubElement(child, association)
                    for item in items:
                        holder.append(self._xml(association.rstrip("s"), item))
            else:
                child.text = "" if value is None else str(value)
        return node

    def _blank(self, resource: str):
        if resource != "cart_rules":
            return self._error(400, 0, "schema=blank is only faked for cart_rules")
        text = (FIXTURES / "cart_rule_blank_schema.xml").read_text()
        return Response(text.replace('<language id="2"><![CDATA[]]></language>', "")
                        if len(self.languages) == 1 else text, mimetype="text/xml")

    def _create(self, resource: str):
        """XML only; every field of the blank schema that the body does not give becomes NULL."""
        if resource != "cart_rules":
            return self._error(405, 0, "only cart_rules can be created in this fake")
        try:
            root = ET.fromstring(request.get_data())
        except ET.ParseError:
            return self._error(500, 127, "XML error : String could not be parsed as XML")
        node = root.find("cart_rule")
        if node is None:
            return self._error(400, 0, "the body has no <cart_rule>")
        if node.find("id") is not None:
            return self._error(400, 90, "id is forbidden when adding a new resource")
        given = element_to_dict(node)
        blank = element_to_dict(ET.parse(FIXTURES / "cart_rule_blank_schema.xml").getroot()[0])
        if not any((given.get("name") or {}).get(lang) for lang in self.languages[:1]):
            return self._error(400, 41, "name is required in the default language")
        with self.lock:
            self.next_id += 1
            entity = {field: given.get(field) for field in blank if field != "id"}  # the rest: NULL
            entity["id"] = str(self.next_id)
            entity["date_add"] = entity["date_upd"] = "2026-11-23 10:00:00"
            self.data["cart_rules"][entity["id"]] = entity
        response = self._render("cart_rules", [entity], single=True)
        response.status_code = 201
        return response


def _sortable(value):
    text = "" if value is None else str(value)
    return (0, float(text)) if re.fullmatch(r"-?\d+(\.\d+)?", text) else (1, text)


def _matches(value, spec: str) -> bool:
    """The Webservice's filter syntax (brackets are part of the value)."""
    value = "" if value is None else str(value)
    if spec.startswith(">[") and spec.endswith("]"):
        return _sortable(value) > _sortable(spec[2:-1])
    if spec.startswith("<[") and spec.endswith("]"):
        return _sortable(value) < _sortable(spec[2:-1])
    if spec.startswith("[") and spec.endswith("]"):
        inner = spec[1:-1]
        if "|" in inner:
            return value in inner.split("|")
        if "," in inner:
            low, high = inner.split(",", 1)
            if not re.fullmatch(r"[\d.:\- ]+", low) or not re.fullmatch(r"[\d.:\- ]+", high):
                return value == inner  # the silent fallback: an equality that matches nothing
            low, high = sorted([low, high], key=_sortable)
            return _sortable(low) <= _sortable(value) <= _sortable(high)
        return value == inner
    return value == spec
