"""The PrestaShop connector against the fake Webservice: shapes, states, slips, vouchers, keys, sync."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bridge.connectors import forget_caches
from bridge.connectors.base import CouponSpec
from bridge.connectors.errors import NotFound
from bridge.connectors.prestashop import PrestaShopConnector
from tests.conftest import migrated_config
from tests.fake_prestashop import FakePrestaShop
from tests.test_contract_prestashop import KEY, paid_copy, prestashop_shop

T0 = datetime(2026, 6, 1, 10, tzinfo=timezone.utc)


@pytest.fixture
def fake():
    forget_caches()
    with FakePrestaShop(KEY) as shop:
        yield shop


def connector(config, fake, **settings):
    shop = prestashop_shop(config, fake.url)
    return PrestaShopConnector(replace(shop, prestashop=replace(shop.prestashop, **settings)) if settings else shop)


def test_reads_ask_for_upper_case_json_with_the_key_as_basic_user(config, fake):
    connector(config, fake).fetch_order("5")
    assert all(args.get("output_format") == "JSON" for method, path, args in fake.requests)
    assert "ws_key" not in fake.requests[-1][2]


@pytest.mark.parametrize("bare", [True, False])
def test_an_empty_list_in_either_shape_is_no_orders(config, fake, bare):
    fake.bare_empty_lists = bare
    assert list(connector(config, fake).fetch_changed(datetime(2030, 1, 1, tzinfo=timezone.utc))) == []


def test_the_cursor_is_sent_as_shop_local_time_with_a_space_and_date_1(config, fake):
    list(connector(config, fake).fetch_changed(datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc)))
    args = next(a for m, p, a in fake.requests if p == "/api/orders")
    assert args["filter[date_upd]"] == "[2026-07-01 12:00:00,9999-12-31 23:59:59]"  # Paris is UTC+2 in July
    assert args["date"] == "1" and args["sort"] == "[date_upd_ASC,id_ASC]" and args["limit"] == "0,100"


@pytest.mark.parametrize("state, paid, cancelled", [("2", True, False), ("9", True, False), ("12", False, False),
                                                    ("10", False, False), ("6", False, True)])
def test_paid_comes_from_the_states_flags_never_from_ids(config, fake, state, paid, cancelled):
    fake.put("orders", paid_copy(50, T0, state=state))
    order = connector(config, fake).fetch_order("50")
    assert (order.paid, order.cancelled) == (paid, cancelled)
    if paid:  # no invoice date ("0000-00-00 00:00:00"): paid when created
        assert order.paid_at == order.created_at == T0


def test_states_and_customers_are_read_once(config, fake):
    for i in (51, 52, 53):
        fake.put("orders", paid_copy(i, T0 + timedelta(minutes=i)))
    woo = connector(config, fake)
    list(woo.fetch_changed(T0 - timedelta(days=1)))
    woo.fetch_order("51")
    paths = [p for m, p, a in fake.requests]
    assert paths.count("/api/order_states") == 1 and paths.count("/api/customers/1") == 1


def test_credit_slips_are_partial_refunds_and_the_refund_state_a_full_one(config, fake):
    fake.put("orders", paid_copy(60, T0))
    fake.put("order_slip", {"id": "1", "id_order": "60", "id_customer": "1", "amount": "10.000000",
                            "shipping_cost_amount": "2.000000", "partial": "1"})
    fake.put("order_slip", {"id": "2", "id_order": "60", "id_customer": "1", "amount": "5.500000",
                            "shipping_cost_amount": "0.000000", "partial": "1"})
    woo = connector(config, fake)
    assert woo.fetch_order("60").refunded == Decimal("17.500000")
    fake.put("orders", paid_copy(61, T0, state="7"))  # Refund: not paid, fully refunded, often without a slip
    refunded = woo.fetch_order("61")
    assert refunded.refunded == refunded.total == Decimal("71.51") and not refunded.paid


def test_the_vouchers_an_order_used_are_its_coupon_codes_read_a_page_at_a_time(config, fake):
    """Issue 17's coupon key: order_cart_rules name the cart rules each order used; their codes are the coupons."""
    for i in (90, 91, 92):
        fake.put("orders", paid_copy(i, T0 + timedelta(minutes=i)))
    fake.put("cart_rules", {"id": "7", "code": "qw3rtyx9ab", "name": {"1": "welcome", "2": "bienvenue"}})
    fake.put("cart_rules", {"id": "8", "code": "SUMMER", "name": {"1": "summer", "2": "été"}})
    fake.put("cart_rules", {"id": "9", "code": "", "name": {"1": "automatic", "2": "automatique"}})  # no code to type
    fake.put("order_cart_rules", {"id": "1", "id_order": "90", "id_cart_rule": "7", "name": "welcome", "value": "7.15"})
    fake.put("order_cart_rules", {"id": "2", "id_order": "90", "id_cart_rule": "8", "name": "summer", "value": "1.00"})
    fake.put("order_cart_rules", {"id": "3", "id_order": "91", "id_cart_rule": "9", "name": "automatic", "value": "1.00"})
    ps = connector(config, fake)
    orders = {o.id: o for page in ps.fetch_changed(T0 - timedelta(hours=1)) for o in page}
    assert {i: o.coupons for i, o in orders.items()} == {"90": ("QW3RTYX9AB", "SUMMER"), "91": (), "92": ()}
    used = [a for m, p, a in fake.requests if p == "/api/order_cart_rules"]
    assert [a.get("filter[id_order]") for a in used] == [None, "[90|91|92]"]  # may it? then one look-up for the page
    assert [a["filter[id]"] for m, p, a in fake.requests if p == "/api/cart_rules"] == ["[7|8|9]"]
    assert ps.fetch_order("90").coupons == ("QW3RTYX9AB", "SUMMER")


def test_a_key_that_may_not_read_order_cart_rules_reads_orders_without_their_codes(config, fake, caplog):
    fake.put("orders", paid_copy(93, T0))
    fake.put("order_cart_rules", {"id": "4", "id_order": "93", "id_cart_rule": "7"})
    fake.forbidden.add("order_cart_rules")
    ps = connector(config, fake)
    with caplog.at_level("WARNING"):
        assert ps.fetch_order("93").coupons == () and ps.fetch_order("93").paid
    assert [r.getMessage() for r in caplog.records].count(
        "the webservice key may not read order_cart_rules: coupons used on orders are not read (Webservice: tick GET)") == 1


def test_the_share_code_the_module_stored_with_an_order_is_read_with_it(config, fake, caplog):
    """Issue 17's order-meta key: the module's resource bridge_order_codes, read a page at a time; without the
    module (no such resource) or the permission, orders are read without it and the log says so once."""
    for i in (94, 95):
        fake.put("orders", paid_copy(i, T0 + timedelta(minutes=i)))
    fake.put("bridge_order_codes", {"id": "1", "id_cart": "5", "id_order": "94", "code": "K9RTX7MNPQ4CDE.W3AF6GHJ9KMN4P"})
    fake.put("bridge_order_codes", {"id": "2", "id_cart": "6", "id_order": "95", "code": "not a code"})
    with caplog.at_level("WARNING"):
        assert connector(config, fake).fetch_order("94").stored_code is None  # the module is not installed
        assert connector(config, fake).fetch_order("94").stored_code is None
    fake.absent.clear()
    ps = connector(config, fake)
    orders = {o.id: o for page in ps.fetch_changed(T0 - timedelta(hours=1)) for o in page}
    assert {i: o.stored_code for i, o in orders.items()} == {"94": "K9RTX7MNPQ4CDE.W3AF6GHJ9KMN4P", "95": None}
    assert {o.first_name for o in orders.values()} == {fake.data["customers"]["1"]["firstname"]}  # the customer's
    assert [a.get("filter[id_order]") for m, p, a in fake.requests if p == "/api/bridge_order_codes"][-1] == "[94|95]"
    fake.forbidden.add("bridge_order_codes")
    assert connector(config, fake).fetch_order("94").stored_code is None
    said = [r.getMessage() for r in caplog.records if r.name == "bridge.connectors.prestashop"]
    assert said[0] == ("the webservice key may not read bridge_order_codes: share codes stored on orders are not read"
                       " (Webservice: tick GET)") and len(said) == 3  # once per connector that met it


def split_cart(fake, state_of_second="2"):
    """A cart split between two carriers: orders 70 and 71, one reference, one cart, one customer."""
    fake.put("orders", {**paid_copy(70, T0), "reference": "XKBKNABJK", "id_cart": "900",
                        "total_paid_tax_incl": "40.000000"})
    fake.put("orders", {**paid_copy(71, T0 + timedelta(seconds=1), state=state_of_second), "reference": "XKBKNABJK",
                        "id_cart": "900", "total_paid_tax_incl": "31.510000"})


def test_orders_split_from_one_cart_are_one_purchase_under_the_lowest_id(config, fake):
    split_cart(fake)
    fake.put("orders", {**paid_copy(72, T0), "reference": "OTHERCART", "id_cart": "901"})
    ps = connector(config, fake)
    orders = [o for page in ps.fetch_changed(T0 - timedelta(hours=1)) for o in page]
    assert [(o.id, o.total) for o in orders] == [("70", Decimal("71.51")), ("72", Decimal("71.51"))]
    purchase = orders[0]
    assert purchase.paid and purchase.refunded == 0 and len(purchase.lines) == 2 * len(orders[1].lines)
    assert purchase.modified_at == T0 + timedelta(seconds=1)  # the newest part dates the whole
    # A hint or a thank-you page may name either part: both read as the same purchase.
    assert ps.fetch_order("71") == ps.fetch_order("70") == purchase
    assert ps.fetch_order_with_key("71", "b44a6d9efd7a0076a0fbce6b15eaf3b1") == purchase
    siblings = [a for m, p, a in fake.requests if p == "/api/orders" and "filter[reference]" in a]
    assert siblings[0]["filter[reference]"] == "[OTHERCART|XKBKNABJK]"  # one look-up for the whole page


def test_a_cancelled_part_of_a_split_cart_counts_as_refunded(config, fake):
    split_cart(fake, state_of_second="6")  # Canceled
    purchase = connector(config, fake).fetch_order("70")
    assert (purchase.total, purchase.refunded, purchase.paid, purchase.cancelled) == (
        Decimal("71.51"), Decimal("31.51"), True, False)


def test_orders_with_the_same_reference_from_other_carts_stay_apart(config, fake):
    fake.put("orders", {**paid_copy(80, T0), "reference": "SAMEREFER", "id_cart": "1"})
    fake.put("orders", {**paid_copy(81, T0), "reference": "SAMEREFER", "id_cart": "2"})
    pages = connector(config, fake).fetch_changed(T0 - timedelta(hours=1))
    assert [o.id for page in pages for o in page] == ["80", "81"]


@pytest.mark.parametrize("languages", [("1",), ("1", "2")])
def test_multilingual_fields_in_both_shapes(config, languages):
    forget_caches()
    with FakePrestaShop(KEY, languages=languages) as fake:
        product = connector(config, fake).fetch_product("1")
        assert product.name == "Faded Short Sleeve T-shirts"
        assert product.url == f"{fake.url}/index.php?id_product=1&controller=product"
        assert product.image_url == f"{fake.url}/1-large_default/faded-short-sleeve-tshirts.jpg"
        state = connector(config, fake)._states()["6"]
        assert (state["template"] if len(languages) == 1 else state["template"][0]["value"]) == "order_canceled"


def test_vouchers_are_cart_rules_with_every_field_set_once_per_code(config, fake):
    woo = connector(config, fake)
    spec = CouponSpec(code="CBWELCOME42", email="pub@prestashop.com", amount=Decimal("7.50"),
                      minimum_order=Decimal("20.00"), expires_at=T0 + timedelta(days=30), description="Welcome")
    first = woo.create_coupon(spec)
    assert woo.create_coupon(spec) == first and len(fake.data["cart_rules"]) == 1
    rule = fake.data["cart_rules"][first]
    assert [k for k, v in rule.items() if v is None] == []  # nothing left NULL by the POST
    assert (rule["quantity"], rule["quantity_per_user"], rule["active"], rule["partial_use"]) == ("1", "1", "1", "0")
    assert (rule["id_customer"], rule["reduction_amount"], rule["reduction_currency"]) == ("1", "7.50", "1")
    assert rule["code"] == "CBWELCOME42" and rule["name"] == {"1": "Welcome", "2": "Welcome"}
    assert rule["date_to"] == "2026-07-01 12:00:00"  # shop-local
    percent = woo.create_coupon(CouponSpec(code="CBPCT10", email=None, percent=Decimal("0.10")))
    assert fake.data["cart_rules"][percent]["reduction_percent"] == "10"
    assert fake.data["cart_rules"][percent]["id_customer"] == "0"


def test_the_fake_nulls_what_a_naive_post_leaves_out(fake):
    import requests

    body = b"<prestashop><cart_rule><code>X</code><name><language id='1'>X</language></name></cart_rule></prestashop>"
    answer = requests.post(f"{fake.url}/api/cart_rules", data=body, auth=(KEY, ""))
    assert answer.status_code == 201
    rule = next(iter(fake.data["cart_rules"].values()))
    assert rule["quantity"] is None and rule["active"] is None  # why the connector starts from schema=blank


def test_the_confirmation_pages_key_is_the_orders_secure_key(config, fake):
    woo = connector(config, fake)
    assert woo.fetch_order_with_key("5", "b44a6d9efd7a0076a0fbce6b15eaf3b1").id == "5"
    with pytest.raises(NotFound):
        woo.fetch_order_with_key("5", "b44a6d9efd7a0076a0fbce6b15eaf3b2")
    with pytest.raises(NotFound):
        woo.fetch_order_with_key("../5", "x")


def test_multistore_passes_id_shop(config, fake):
    fake.put("orders", {**paid_copy(70, T0), "id_shop": "2"})
    store2 = connector(config, fake, id_shop=2)
    ids = {o.id for page in store2.fetch_changed(T0 - timedelta(days=1)) for o in page}
    assert ids == {"70"} and all(a.get("id_shop") == "2" for m, p, a in fake.requests)


def test_sync_and_the_widget_api_with_a_prestashop_shop(config_text, tmp_path, fake):
    from click.testing import CliRunner

    from bridge.cli import main
    from bridge.storage.db import db
    from bridge.storage.models import OrderFact
    from bridge.web import create_app

    for i in range(1, 131):
        fake.put("orders", paid_copy(100 + i, datetime.now(timezone.utc) - timedelta(minutes=200 - i)))
    text = config_text.replace("platform: woocommerce", "platform: prestashop").replace(
        "url: https://shop1.example", f"url: {fake.url}").replace(
        "    woocommerce:\n      consumer_key: ck_test_key\n      consumer_secret: cs_test_secret_value",
        f"    prestashop:\n      webservice_key: {KEY}").replace(
        "    tone: tu", "    tone: tu\n    sync:\n      backfill_from: 2026-01-01")
    config = migrated_config(text, tmp_path)
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "config.yaml"), "sync", "shop1"])
    assert result.exit_code == 0 and "shop1: read 130 order(s) in 2 page(s)" in result.output, result.output
    with db.connection_context():
        assert OrderFact.select().count() == 130
    client = create_app(config).test_client()
    view = client.post("/api/v1/shops/shop1/conversions",
                       data={"order_id": "101", "key": "b44a6d9efd7a0076a0fbce6b15eaf3b1"}).get_json()
    assert view["you"]["role"] in ("founder", "member") and view["share_url"]
    assert client.post("/api/v1/shops/shop1/conversions", data={"order_id": "101", "key": "nope"}).status_code == 404


def test_the_fake_behaves_as_the_webservice_documents(fake):
    """The pitfalls the connector avoids, shown on the fake (PLATFORMS.md pitfalls 10 and 11)."""
    import requests

    api = f"{fake.url}/api"
    lower = requests.get(f"{api}/orders/5", params={"output_format": "json"}, auth=(KEY, ""))
    assert lower.headers["Content-Type"].startswith("text/xml")  # `json` is not `JSON`: XML comes back
    no_date = requests.get(f"{api}/orders", params={"output_format": "JSON", "filter[date_upd]": ">[2019-01-01 00:00:00]"},
                           auth=(KEY, ""))
    assert no_date.status_code == 400  # date filters need date=1
    iso = requests.get(f"{api}/orders", params={"output_format": "JSON", "date": "1", "display": "full",
                                                "filter[date_upd]": "[2019-01-01T00:00:00,2020-01-01T00:00:00]"},
                       auth=(KEY, ""))
    assert iso.json() == []  # a T turns the interval into an equality that matches nothing
    ids_only = requests.get(f"{api}/orders", params={"output_format": "JSON"}, auth=(KEY, "")).json()
    assert ids_only == {"orders": [{"id": 5}]}
    assert requests.get(f"{api}/orders", params={"output_format": "JSON"}, auth=("short", "")).status_code == 401
    assert requests.post(f"{api}/cart_rules", json={"code": "X"}, auth=(KEY, "")).status_code == 500  # XML only


def test_explaining_the_second_part_of_a_split_cart_names_the_purchase(config_text, tmp_path, fake):
    from click.testing import CliRunner

    from bridge.cli import main

    split_cart(fake)
    text = config_text.replace("platform: woocommerce", "platform: prestashop").replace(
        "url: https://shop1.example", f"url: {fake.url}").replace(
        "    woocommerce:\n      consumer_key: ck_test_key\n      consumer_secret: cs_test_secret_value",
        f"    prestashop:\n      webservice_key: {KEY}").replace(
        "    tone: tu", "    tone: tu\n    sync:\n      backfill_from: 2026-01-01")
    migrated_config(text, tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(tmp_path / "config.yaml"), "sync", "shop1"]).exit_code == 0
    shown = runner.invoke(main, ["--config", str(tmp_path / "config.yaml"), "explain", "order", "shop1", "71"]).output
    assert "order 71 of shop shop1 is part of one purchase with order 70" in shown, shown
    assert "order 70 of shop shop1: 71.51 EUR, paid" in shown and "unknown to bridge" not in shown
