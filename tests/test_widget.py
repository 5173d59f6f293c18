"""The widget in a real headless Chromium (the system's), against bridge and a fake WooCommerce storefront on loopback.

Screenshots at phone and desktop sizes are saved under artifacts/widget/.
"""

from __future__ import annotations

import gzip
import re
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from bridge.schedule.runtime import Runtime
from bridge.storage.db import db
from bridge.storage.memos import clear_all as clear_memos
from bridge.storage.models import ClaimFact, Click, LinkEvent, MembershipRow, OrderFact
from bridge.web import create_app
from bridge.web.ratelimit import reset
from tests.conftest import migrated_config
from tests.fake_woocommerce import FakeWooCommerce, config_for
from tests.wc_fixtures import rest_json

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "widget"
TEMPLATE = rest_json("19-order-get-after-refund.response.json")
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}


def paid_order(order_id: int, email: str, key: str, product_id: int = 10) -> dict:
    """A processing order paid just now, for product `product_id`, with its order key."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    line = {**TEMPLATE["line_items"][0], "product_id": product_id, "total": "50.00", "total_tax": "0.00", "quantity": 1}
    return {**TEMPLATE, "id": order_id, "number": str(order_id), "status": "processing", "order_key": key, "currency": "EUR",
            "total": "50.00", "refunds": [], "line_items": [line], "payment_method": "stripe", "customer_id": 0,
            "customer_ip_address": f"10.9.0.{order_id % 250}", "billing": {**TEMPLATE["billing"], "email": email, "address_1": f"{order_id} rue des Amis",
                                                        "first_name": f"Buyer{order_id}"},
            "date_created_gmt": stamp, "date_paid_gmt": stamp, "date_modified_gmt": stamp, "date_modified": stamp}


@pytest.fixture
def site(config_text, tmp_path):
    """The fake shop (with storefront pages) and bridge on loopback, the shop's pages carrying the snippet."""
    reset()
    clear_memos()
    with FakeWooCommerce("ck_test_key", "cs_test_secret_value") as shop:
        for name in ("05-product-create-simple-1", "06-product-create-simple-2"):
            shop.put_product(rest_json(f"{name}.response.json"))
        shop.products[10]["images"] = [{"src": f"{shop.url}/tshirt.jpg"}]
        server = make_server("127.0.0.1", 0, None, threaded=True)
        bridge = f"http://127.0.0.1:{server.server_port}"
        text = config_for(config_text, shop.url).replace("public_url: http://127.0.0.1:8000", f"public_url: {bridge}")
        config = migrated_config(text, tmp_path)
        server.app = create_app(config)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        shop.snippet = f'<script src="{bridge}/widget.js" data-shop="shop1" async></script>'
        shop.put_order(paid_order(501, "founder@example.test", "wc_order_founder501"))
        yield shop, bridge, server.app
        server.shutdown()
        server.server_close()


MOBILE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
             "Mobile Safari/537.36")


def new_page(browser, size=DESKTOP, errors=None):
    phone = size == PHONE
    context = browser.new_context(viewport=size, locale="fr-FR", is_mobile=phone, has_touch=phone,
                                  **({"user_agent": MOBILE_UA} if phone else {}))
    page = context.new_page()
    if errors is not None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return context, page


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def widget(page):
    try:
        page.wait_for_selector("bridge-widget h2", timeout=10_000)
    except Exception:
        print("page without widget:", page.url, page.content()[:2000])
        raise
    return page.locator("bridge-widget .b").first


def test_thank_you_page_shows_the_share_link_progress_and_countdown(site, browser):
    shop, bridge, app = site
    errors = []
    context, page = new_page(browser, errors=errors)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{shop.url}/checkout/order-received/501/?key=wc_order_founder501")
    box = widget(page)
    text = box.inner_text()
    assert "Achetez ensemble, soyez remboursés" in text
    assert "1 acheteur pour l'instant · Dès 2 acheteurs, chacun récupère 5%" in text
    assert "Encore 1 acheteur et tout le monde récupère 5%" in text  # singular and plural, never "(s)"
    link = page.locator("bridge-widget input").input_value()
    assert re.fullmatch(rf"{re.escape(bridge)}/r/[0-9A-Z]{{14}}/[0-9A-Z]{{14}}", link)
    first = page.locator("bridge-widget .t").inner_text()
    assert re.fullmatch(r"1 j 23:5\d:\d\d", first), first  # a 48-hour window that just opened
    page.wait_for_timeout(2100)
    assert page.locator("bridge-widget .t").inner_text() < first  # it counts down
    page.locator("bridge-widget button", has_text="Copier").click()
    expect(page.locator("bridge-widget button", has_text="Copié !")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    whatsapp = page.locator("bridge-widget a", has_text="WhatsApp").get_attribute("href")
    assert whatsapp.startswith("https://wa.me/?text=") and "via%3Dwhatsapp" in whatsapp and link.split("/r/")[1].replace("/", "%2F") in whatsapp
    assert page.locator("bridge-widget a", has_text="Facebook").get_attribute("rel") == "noopener noreferrer"
    assert page.locator("bridge-widget [role=progressbar]").get_attribute("aria-valuemax") == "2"
    # the owner's statistics: the link shown, then copied, told by beacons (no answer awaited)
    code, tag = link.split("/r/")[1].split("/")
    with db.connection_context():
        for _ in range(50):
            events = [(e.kind, e.code, e.tag, e.channel) for e in LinkEvent.select().order_by(LinkEvent.id)]
            if len(events) >= 2:
                break
            time.sleep(0.1)
    assert events == [("view", code, tag, None), ("share", code, tag, "copy")]
    shot(page, "thank-you-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "thank-you-phone")
    assert errors == []
    context.close()


def test_a_friend_follows_the_link_keeps_the_code_buys_and_the_group_grows(site, browser):
    shop, bridge, app = site
    founder_context, founder = new_page(browser)
    founder.goto(f"{shop.url}/checkout/order-received/501/?key=wc_order_founder501")
    widget(founder)
    link = founder.locator("bridge-widget input").input_value()

    friend_context, friend = new_page(browser, size=PHONE)  # a private window: nothing shared with the founder
    friend.goto(link + "?via=whatsapp")
    assert friend.url.startswith(f"{shop.url}/product/loopback-t-shirt/?bridge=")
    expect(friend.locator("bridge-widget .b")).to_contain_text("achète avant la fermeture et vous récupérez tous jusqu'à 10%")
    code = link.split("/r/")[1].replace("/", ".")
    stored = friend.evaluate("localStorage.getItem('bridge:shop1')")
    assert stored.split("|")[0] == code and int(stored.split("|")[1]) > time.time() * 1000 + 29 * 86400_000
    assert any(c["name"] == "bridge_shop1" for c in friend_context.cookies())
    shot(friend, "landing-phone")

    friend.goto(f"{shop.url}/")  # browsing around keeps the code
    shop.put_order(paid_order(502, "friend@example.test", "wc_order_friend502"))
    friend.goto(f"{shop.url}/checkout/order-received/502/?key=wc_order_friend502")
    assert "2 acheteurs pour l'instant · 5% remboursés pour chacun" in widget(friend).inner_text()

    founder.reload()
    assert "2 acheteurs pour l'instant" in widget(founder).inner_text()
    with db.connection_context():
        clicks = list(Click.select())
        assert [(c.channel, c.tag is not None, c.ua_family) for c in clicks] == [("whatsapp", True, "chrome-mobile")]
        assert len(clicks[0].ip_hash) == 32 and "127.0.0.1" not in clicks[0].ip_hash
        claim = ClaimFact.get(ClaimFact.order_id == "502")
        assert (claim.founder_id, claim.sponsor_id, claim.source) == ("501", "501", "widget")
        assert MembershipRow.get(MembershipRow.order_id == "502").role == "member"
        landed = LinkEvent.get(LinkEvent.kind == "landing")
        assert (landed.code, landed.tag) == tuple(link.split("/r/")[1].split("/"))
    founder_context.close()
    friend_context.close()


@pytest.mark.parametrize("kind", ["prestashop", "prestashop-classic", "hand-coded"])
def test_other_confirmation_pages_are_recognised(site, browser, kind):
    shop, bridge, app = site
    shop.put_order(paid_order(503, "other@example.test", "c0ffee503key"))
    if kind.startswith("prestashop"):
        # The classic theme gives <body> the id order-confirmation; its confirmation block is a section.
        shop.pages["index.php"] = (
            "<html><body><main id='order-confirmation'><h1>Commande confirmée</h1></main>{snippet}</body></html>"
            if kind == "prestashop" else
            "<html><body id='order-confirmation'><main><section id='content-hook_order_confirmation' class='card'>"
            "<div class='card-block'><h3>Votre commande est confirmée</h3></div></section>"
            "<section id='content'>Articles</section></main><footer>Pied de page</footer>{snippet}</body></html>", {})
        url = f"{shop.url}/pages/index.php?controller=order-confirmation&id_cart=7&id_module=3&id_order=503&key=c0ffee503key"
    else:
        shop.pages["merci"] = ("<html><body><div data-order-id='503' data-order-key='c0ffee503key'>Merci !</div>"
                               "<div data-bridge-widget></div>{snippet}</body></html>", {})
        url = f"{shop.url}/pages/merci"
    context, page = new_page(browser)
    page.goto(url)
    assert "1 acheteur pour" in widget(page).inner_text()
    if kind == "prestashop-classic":  # without the module's placeholder: in the confirmation block, not the footer
        assert page.locator("#content-hook_order_confirmation .card-block bridge-widget").count() == 1
    shot(page, f"{kind}-desktop")
    context.close()


def test_an_unpaid_order_says_the_link_is_coming_then_shows_it_once_paid(site, browser):
    """Issue 17: a bank transfer's thank-you page (plain permalinks here) says the link is coming, and the
    widget asks again with backoff until the shop says paid."""
    shop, bridge, app = site
    shop.put_order({**paid_order(504, "wire@example.test", "wc_order_wire504"), "status": "on-hold", "date_paid_gmt": None})
    shop.pages["plain"] = ("<html><body><div class='woocommerce-order'><p>Merci</p></div>{snippet}</body></html>", {})
    context, page = new_page(browser, size=PHONE)
    page.goto(f"{shop.url}/pages/plain?page_id=7&order-received=504&key=wc_order_wire504")
    status = page.locator("bridge-widget [role=status]")
    status.wait_for(timeout=10_000)
    assert "Ton lien de partage arrive dès que ton paiement est confirmé" in status.inner_text()
    shot(page, "awaiting-payment-phone")
    shop.put_order(paid_order(504, "wire@example.test", "wc_order_wire504"))  # the merchant saw the transfer arrive
    page.wait_for_selector("bridge-widget input", timeout=20_000)  # asked again 5 s after the first answer
    assert "1 acheteur pour" in widget(page).inner_text()
    assert page.locator("bridge-widget").count() == 1 and status.count() == 0  # the notice gave way to the link
    reads = [p for m, p, a in shop.requests if p.endswith("/orders/504")]
    assert 2 <= len(reads) <= 3, reads  # the first report, then one or two polls: no hammering
    context.close()


def test_a_hostile_page_neither_breaks_nor_restyles_the_widget(site, browser):
    shop, bridge, app = site
    hostile = """<html><head><style>
      * { font-family: "Comic Sans MS" !important; color: #ff00ff !important; background: yellow !important; }
      bridge-widget, div { display: none !important; opacity: 0 !important; }
      button, input, a { visibility: hidden !important; }
    </style><script>
      Array.prototype.push = Array.prototype.map = Array.prototype.forEach = Array.prototype.join = function () { throw new Error("hostile"); };
      Array.prototype.indexOf = Array.prototype.slice = Array.prototype.filter = function () { throw new Error("hostile"); };
      JSON.parse = JSON.stringify = function () { throw new Error("hostile"); };
    </script></head><body><p data-order-id="501" data-order-key="wc_order_founder501">Merci</p>{snippet}</body></html>"""
    shop.pages["hostile"] = (hostile, {})
    errors = []
    context, page = new_page(browser, errors=errors)
    page.goto(f"{shop.url}/pages/hostile")
    box = widget(page)
    assert box.is_visible() and "1 acheteur pour" in box.inner_text()
    expect(page.locator("bridge-widget button", has_text="Copier")).to_be_visible()  # despite visibility: hidden
    expect(page.locator("bridge-widget a", has_text="WhatsApp")).to_be_visible()
    shot(page, "hostile-desktop")
    assert not [e for e in errors if "hostile" in e]
    context.close()


def test_a_strict_content_security_policy_allowing_only_bridge(site, browser):
    shop, bridge, app = site
    policy = f"default-src 'none'; script-src {bridge}; connect-src {bridge}; style-src 'none'; img-src 'none'"
    shop.pages["strict"] = ("<html><body><div data-order-id='501' data-order-key='wc_order_founder501'></div>"
                            "<main data-bridge-widget></main>{snippet}</body></html>", {"Content-Security-Policy": policy})
    errors = []
    context, page = new_page(browser, errors=errors)
    page.goto(f"{shop.url}/pages/strict")
    box = widget(page)
    assert "1 acheteur pour" in box.inner_text()
    radius = page.locator("bridge-widget .b").evaluate("node => getComputedStyle(node).borderTopWidth")
    assert radius == "4px"  # the widget's styles apply under style-src 'none' (constructed stylesheets)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    shot(page, "strict-csp-desktop")
    context.close()


# -- the server side, without a browser --------------------------------------------------------

def founder_code(app, shop):
    client = app.test_client()
    view = client.post("/api/v1/shops/shop1/conversions", data={"order_id": "501", "key": "wc_order_founder501"}).get_json()
    return client, view["share_url"].split("/r/")[1].split("/")


def test_links_never_redirect_off_the_shop_and_unknown_codes_are_friendly(site):
    shop, bridge, app = site
    client, (code, tag) = founder_code(app, shop)
    for query in ("", "?next=https://evil.example/", "?url=//evil.example", "?via=<script>"):
        response = client.get(f"/r/{code}/{tag}{query}")
        assert response.status_code == 302 and response.headers["Location"].startswith(f"{shop.url}/product/")
    shop.products[10]["permalink"] = "https://evil.example/product/x/"  # a permalink off the shop's site
    with db.connection_context():
        from bridge.storage.models import Product
        Product.delete().execute()
    clear_memos()
    assert client.get(f"/r/{code}").headers["Location"] == f"{shop.url}/?p=10&bridge={code}"
    unknown = client.get("/r/NOTACODE9999")
    assert unknown.status_code == 302 and unknown.headers["Location"] == f"{shop.url}/?bridge_notice=unknown"
    for bad in ("/r/%00", "/r/" + "A" * 300, "/r/abc/../../etc", "/r/ZZZZZZZZZZZZZZ/<b>"):
        assert client.get(bad).status_code in (302, 404)


def test_link_previews_get_open_graph_tags_and_are_not_counted(site):
    shop, bridge, app = site
    client, (code, tag) = founder_code(app, shop)
    preview = client.get(f"/r/{code}", headers={"User-Agent": "WhatsApp/2.23.20.0 A"})
    assert preview.status_code == 200
    assert '<meta property="og:title" content="Loopback T-Shirt">' in preview.text
    assert "Jusqu&#39;à 10% remboursés chez Shop One" in preview.text
    assert f'<meta property="og:image" content="{shop.url}/tshirt.jpg">' in preview.text
    client.get(f"/r/{code}", headers={"User-Agent": "facebookexternalhit/1.1"})
    client.get(f"/r/{code}", headers={"User-Agent": "Mozilla/5.0 Chrome/120.0 Safari/537.36"})
    with db.connection_context():
        assert Click.select().count() == 1


def test_the_api_answers_only_with_the_orders_key_and_cors_only_for_the_shop(site):
    shop, bridge, app = site
    client = app.test_client()
    wrong = client.post("/api/v1/shops/shop1/conversions", data={"order_id": "501", "key": "wc_order_guess"})
    assert wrong.status_code == 404 and wrong.get_json()["error"]["code"] == "unknown_order"
    with db.connection_context():
        assert OrderFact.select().count() == 0  # nothing stored for a wrong key
    assert client.get("/api/v1/shops/shop1/orders/501").status_code == 403
    for body in ({}, {"order_id": "501"}, {"order_id": "x" * 5000, "key": "k"}):
        assert client.post("/api/v1/shops/shop1/conversions", data=body).status_code in (400, 404)
    assert client.post("/api/v1/shops/shop1/conversions", data=b"\xff\xfe", content_type="application/json").status_code == 400
    assert client.post("/api/v1/shops/nope/conversions", data={"order_id": "1", "key": "k"}).status_code == 404
    ok = client.get("/api/v1/shops/shop1/orders/501?key=wc_order_founder501", headers={"Origin": shop.url})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == shop.url
    assert ok.get_json()["you"]["role"] == "founder"
    other = client.get("/api/v1/shops/shop1/orders/501?key=wc_order_founder501", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    code = ok.get_json()["code"]
    state = client.get(f"/api/v1/links/{code}").get_json()
    assert (state["members"], state["state"], state["next"]["missing"]) == (1, "open", 1)
    assert 0 < state["seconds_left"] <= 48 * 3600 and state["product"]["name"] == "Loopback T-Shirt"
    assert client.get("/api/v1/links/<script>").status_code == 404


def test_public_endpoints_are_rate_limited(site):
    shop, bridge, app = site
    client = app.test_client()
    for _ in range(3):  # the limit counts per minute: a run that straddles two minutes is run again
        reset()
        minute = int(time.time() // 60)
        answers = [client.get("/api/v1/links/AAAAAAAAAAAA").status_code for _ in range(125)]
        if int(time.time() // 60) == minute:
            break
    assert answers[:120] == [404] * 120 and answers[-1] == 429
    limited = client.get("/api/v1/links/AAAAAAAAAAAA")
    assert limited.get_json()["error"]["code"] == "too_many_requests" and int(limited.headers["Retry-After"]) <= 60


def test_widget_js_is_small_cached_and_gzipped(site):
    shop, bridge, app = site
    client = app.test_client()
    plain = client.get("/widget.js")
    zipped = client.get("/widget.js", headers={"Accept-Encoding": "gzip, br"})
    assert plain.status_code == 200 and plain.mimetype == "application/javascript"
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) <= 5 * 1024, len(zipped.data)  # issue 20: at most 5 KB on the wire
    source = (ROOT / "js-widget" / "widget.js").read_bytes()
    assert len(plain.data) < 0.85 * len(source) and b"/*" not in plain.data  # served minified
    assert plain.headers["ETag"] and "max-age" in plain.headers["Cache-Control"]
    again = client.get("/widget.js", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_the_widget_speaks_from_the_texts_sent_with_the_shop(site):
    """The script holds no words: every answer it reads carries the shop's texts for what it shows."""
    shop, bridge, app = site
    client = app.test_client()
    answer = client.get("/api/v1/shops/shop1").get_json()["shop"]
    config = app.extensions["bridge"].config.shop("shop1")
    assert answer["locale"] == config.locale and answer["texts"]["shut"] and "title" not in answer["texts"]
    assert ("fr" in answer["texts"]) == (config.locale == "fr")
    source = (ROOT / "js-widget" / "widget.js").read_text(encoding="utf-8")
    for words in ("Share your link", "Partage ton lien", "Partagez votre lien"):
        assert words not in source


def test_widget_texts_cover_every_key_in_every_language_and_tone():
    from bridge.sharing.widget_texts import ENGLISH, TU, USES, VOUS, texts_for

    assert set(TU) == set(ENGLISH) and set(VOUS) <= set(ENGLISH)
    assert set().union(*USES.values()) == set(ENGLISH)  # every text is sent for some use
    for locale, tone in (("en", "tu"), ("fr", "tu"), ("fr", "vous"), ("de", "vous")):
        for use, keys in USES.items():
            texts = texts_for(locale, tone, use)
            assert set(texts) - {"fr"} == set(keys)
            assert all(isinstance(v, str) and v for k, v in texts.items() if k != "fr")
    assert texts_for("fr", "vous", "group")["share"] == "Partagez votre lien"
    assert texts_for("fr", "tu", "group")["share"] == "Partage ton lien"
    assert texts_for("de", "vous", "group")["share"] == "Share your link"
    # the placeholders each text fills in are the same in every language
    for key, english in ENGLISH.items():
        for other in (TU, VOUS):
            if key in other:
                assert sorted(re.findall(r"{\w}", other[key])) == sorted(re.findall(r"{\w}", english)), key


def test_snippet_command_prints_the_one_line_to_paste(site, tmp_path):
    from click.testing import CliRunner

    from bridge.cli import main

    shop, bridge, app = site
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "config.yaml"), "snippet", "shop1"])
    assert result.exit_code == 0
    assert result.output.strip().splitlines()[-1] == f'<script src="{bridge}/widget.js" data-shop="shop1" async></script>'


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(site, tmp_path):
    from dataclasses import replace

    shop, bridge, app = site
    config = app.extensions["bridge"].config
    behind = replace(config, server=replace(config.server, proxies=1))
    proxied = create_app(behind, Runtime(behind))
    client, (code, tag) = founder_code(proxied, shop)
    for ip in ("203.0.113.7", "203.0.113.8"):
        client.get(f"/r/{code}", headers={"X-Forwarded-For": ip})
    with db.connection_context():
        assert Click.select(Click.ip_hash).distinct().count() == 2  # two people, not one proxy


def test_a_referred_friend_gets_the_welcome_coupon_once(site, tmp_path):
    from bridge.config import load_config_text
    from bridge.ledger.referrals import issue_advocate

    shop, bridge, app = site
    text = (tmp_path / "config.yaml").read_text() + """
  - id: ref1
    type: referral
    shop: shop1
    hold: 14d
    friend_reward: {type: coupon, value: "10%", valid_for: 30d}
    referrer_reward: {type: cashback, value: "5.00"}
"""
    config = load_config_text(text)
    referral_app = create_app(config, Runtime(config))
    with db.connection_context():
        code = issue_advocate(config.campaigns[1], "ada@example.test", None, datetime.now(timezone.utc))
    client = referral_app.test_client()
    state = client.get(f"/api/v1/links/{code}").get_json()
    assert state["kind"] == "advocate" and state["campaign"]["welcome"] == "10%"
    first = client.post("/api/v1/shops/shop1/welcome", data={"code": code, "email": "friend@example.test"})
    again = client.post("/api/v1/shops/shop1/welcome", data={"code": code, "email": "Friend@Example.test"})
    assert first.status_code == 200 and first.get_json()["coupon"] == again.get_json()["coupon"]
    # shown only once the shop has it: created while the friend waited (issue 14)
    assert first.get_json()["state"] == "created"
    assert first.get_json()["coupon"].lower() in {c["code"] for c in shop.coupons.values()}
    own = client.post("/api/v1/shops/shop1/welcome", data={"code": code, "email": "ada@example.test"})
    assert own.status_code == 422 and "not for the person who shared the code" in own.get_json()["error"]["message"]
    assert own.get_json()["error"]["reason"] == "own_code"
    shop.fail_next = [(503, {})] * 3  # the shop is down: no code yet, the job creates it and e-mails it
    later = client.post("/api/v1/shops/shop1/welcome", data={"code": code, "email": "cousin@example.test"})
    assert later.status_code == 200 and later.get_json() | {"value": None} == {"coupon": None, "state": "pending",
                                                                               "value": None}
    assert client.post("/api/v1/shops/shop1/welcome", data={"code": "NOPE", "email": "x@example.test"}).status_code == 404
    redirect = client.get(f"/r/{code}")
    assert redirect.status_code == 302 and redirect.headers["Location"] == f"{shop.url}/?bridge={code}"


def test_the_widget_shows_the_welcome_code_once_the_shop_has_it_and_says_why_not(site, browser, tmp_path):
    from bridge.config import load_config_text
    from bridge.ledger.referrals import issue_advocate

    shop, bridge, app = site
    (tmp_path / "config.yaml").write_text((tmp_path / "config.yaml").read_text() + """
  - id: ref1
    type: referral
    shop: shop1
    hold: 14d
    friend_reward: {type: coupon, value: "10%", valid_for: 30d}
    referrer_reward: {type: cashback, value: "5.00"}
""")
    config = load_config_text((tmp_path / "config.yaml").read_text())
    app.extensions["bridge"].config = config  # the running bridge now knows the referral campaign
    with db.connection_context():
        code = issue_advocate(config.campaigns[1], "ada@example.test", None, datetime.now(timezone.utc))
    context, page = new_page(browser, size=PHONE)
    page.goto(f"{shop.url}/?bridge={code}")
    box = page.locator("bridge-widget .b")
    expect(box).to_contain_text("t'offre 10%")
    page.locator("bridge-widget input[type=email]").fill("ada@example.test")
    page.locator("bridge-widget button", has_text="Recevoir mon bon").click()
    expect(box).to_contain_text("Cette offre est pour tes proches, pas pour toi")  # refused, and said so
    page.locator("bridge-widget input[type=email]").fill("friend@example.test")
    page.locator("bridge-widget button", has_text="Recevoir mon bon").click()
    expect(box).to_contain_text("Ton code : ")
    expect(box).not_to_contain_text("pas pour toi")  # the earlier refusal is gone
    shown = box.inner_text().split("Ton code : ")[1].split()[0]
    assert shown.lower() in {c["code"] for c in shop.coupons.values()}  # the shop accepts what is shown
    shot(page, "welcome-phone")
    context.close()


REFERRAL_CAMPAIGN = """
  - id: ref1
    type: referral
    shop: shop1
    hold: 14d
    friend_reward: {type: coupon, value: "10%", valid_for: 30d}
    referrer_reward: {type: coupon, value: "5.00"}
"""


def with_referral(app, tmp_path, social: bool):
    """The running bridge with a referral campaign, with or without the social-buying one (issue 17)."""
    from bridge.config import load_config_text

    text = (tmp_path / "config.yaml").read_text()
    if not social:
        text = text.split("campaigns:")[0] + "campaigns:"
    config = load_config_text(text + REFERRAL_CAMPAIGN)
    app.extensions["bridge"].config = config
    return config


def test_a_referral_shop_shows_the_buyer_their_own_link_on_the_thank_you_page(site, browser, tmp_path):
    """A shop that runs referral only: the thank-you page gives the buyer their link, what a friend gets and what
    they earn per friend, with the channels; never a group."""
    shop, bridge, app = site
    with_referral(app, tmp_path, social=False)
    for size, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        errors = []
        context, page = new_page(browser, size=size, errors=errors)
        page.goto(f"{shop.url}/checkout/order-received/501/?key=wc_order_founder501")
        box = widget(page)
        text = box.inner_text()
        assert "Parraine tes proches" in text and "Achetez ensemble" not in text, text
        assert "Tes proches ont 10% de réduction sur leur première commande, et tu reçois 5,00\xa0€ pour chacun d'eux" in text
        with db.connection_context():
            from bridge.storage.models import Advocate
            code = Advocate.get(Advocate.email_norm == "founder@example.test").code
        assert page.locator("bridge-widget input").input_value() == f"{bridge}/r/{code}"
        assert page.locator("bridge-widget a.ch", has_text="WhatsApp").count() == 1
        shot(page, f"referral-thank-you-{name}")
        assert errors == []
        context.close()


def test_a_shop_running_both_kinds_shows_the_group_then_a_short_referral_block(site, browser, tmp_path):
    shop, bridge, app = site
    with_referral(app, tmp_path, social=True)
    context, page = new_page(browser, size=PHONE)
    page.goto(f"{shop.url}/checkout/order-received/501/?key=wc_order_founder501")
    widget(page)
    page.wait_for_selector("bridge-widget >> nth=1")
    group, referral = page.locator("bridge-widget .b").nth(0), page.locator("bridge-widget .b").nth(1)
    assert "Achetez ensemble" in group.inner_text() and "/r/" in group.locator("input").input_value()
    assert "Parraine tes proches" in referral.inner_text()
    assert referral.locator("a.ch").count() == 0 and referral.locator("input").count() == 1  # no clutter
    assert referral.locator("input").input_value() != group.locator("input").input_value()
    shot(page, "both-offers-thank-you-phone")
    context.close()


def test_the_get_my_link_form_e_mails_the_link_and_never_shows_it(site, browser, tmp_path):
    """Any page with `data-bridge-referral`: an e-mail in, the same answer for anybody, the link only by e-mail
    to a customer's address; a mistyped address is said so; the form is rate-limited."""
    from bridge.storage.models import EmailMessage

    shop, bridge, app = site
    config = with_referral(app, tmp_path, social=False)
    from bridge.connectors import connector_for
    from bridge.facts.ingest import ingest
    with db.connection_context():
        ingest(config, orders=[connector_for(config.shop("shop1")).fetch_order("501")])  # founder@ is a customer
    shop.pages["parrainage"] = ("<html><body><h1>Parrainage</h1><div data-bridge-referral></div>{snippet}</body></html>", {})
    for size, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        context, page = new_page(browser, size=size)
        page.goto(f"{shop.url}/pages/parrainage")
        box = widget(page)
        assert "Parraine tes proches" in box.inner_text() and "10%" in box.inner_text()
        shot(page, f"get-my-link-{name}")
        page.locator("bridge-widget input[type=email]").fill("pas-une-adresse")
        page.locator("bridge-widget button", has_text="Recevoir mon lien").click()
        expect(box).to_contain_text("Vérifie l'adresse e-mail")
        page.locator("bridge-widget input[type=email]").fill("Founder@Example.test" if name == "phone" else "nobody@example.test")
        page.locator("bridge-widget button", has_text="Recevoir mon lien").click()
        expect(box).to_contain_text("Si cette adresse a déjà commandé chez nous, ton lien arrive par e-mail")
        assert "/r/" not in page.content() and page.locator("bridge-widget input").count() == 0
        shot(page, f"get-my-link-sent-{name}")
        context.close()
    with db.connection_context():
        asked = [(m.kind, m.to_email) for m in EmailMessage.select() if ":asked:" in m.key]
    assert asked == [("referral_link", "founder@example.test")]  # the stranger got nothing, and was told the same
    client = app.test_client()
    assert client.post("/api/v1/shops/nope/referral-links", data={"email": "a@b.c"}).status_code == 404
    answers = [client.post("/api/v1/shops/shop1/referral-links", data={"email": "founder@example.test"}).status_code
               for _ in range(12)]
    assert 202 in answers and answers[-1] == 429
    with db.connection_context():
        assert len([m for m in EmailMessage.select() if ":asked:" in m.key]) == 1  # once a day at most


def test_the_banner_names_the_referrer_only_where_the_campaign_allows_it(site, browser, tmp_path):
    """Issue 17: `show_referrer_name` (off by default: a first name is personal data)."""
    from bridge.connectors import connector_for
    from bridge.facts.ingest import ingest
    from bridge.storage.models import Advocate

    shop, bridge, app = site
    config = with_referral(app, tmp_path, social=False)
    with db.connection_context():
        ingest(config, orders=[connector_for(config.shop("shop1")).fetch_order("501")])
        advocate = Advocate.get(Advocate.email_norm == "founder@example.test")
    assert advocate.first_name == "Buyer501"  # the billing first name of the order that made them a referrer
    client = app.test_client()
    assert "referrer" not in client.get(f"/api/v1/links/{advocate.code}").get_json()
    clear_memos()
    from bridge.config import load_config_text
    app.extensions["bridge"].config = load_config_text(
        (tmp_path / "config.yaml").read_text().split("campaigns:")[0] + "campaigns:"
        + REFERRAL_CAMPAIGN + "    show_referrer_name: true\n")
    assert client.get(f"/api/v1/links/{advocate.code}").get_json()["referrer"] == "Buyer501"
    context, page = new_page(browser, size=PHONE)
    page.goto(f"{shop.url}/?bridge={advocate.code}")
    expect(page.locator("bridge-widget .b")).to_contain_text("Buyer501 t'offre 10% sur ta première commande")
    shot(page, "welcome-named-phone")
    context.close()
