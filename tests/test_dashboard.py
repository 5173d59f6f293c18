"""The owner's dashboard: logins per user and shop, the figures in the shop's language, charts, CSV, in Chromium.

Screenshots at desktop and phone sizes go to artifacts/admin/ (the README's come from there).
"""

from __future__ import annotations

import csv
import html
import io
import re
import textwrap
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from bridge.config import load_config_text
from bridge.delivery.payouts import deliver_payouts
from bridge.delivery.sepa import save_account
from bridge.ledger.grants import ledger_balances
from bridge.storage.db import db
from bridge.storage.models import AdminAction, EndpointState, EventAttempt, OverrideFact, Payout, Reward, SepaBatch
from bridge.web import create_app
from bridge.web.dashboard import back_office_order_url
from bridge.web.logins import SESSION_HOURS, hash_password
from bridge.web.ratelimit import reset
from tests.conftest import BASE_CONFIG, migrated_config
from tests.engine_data import T0
from tests.event_receiver import endpoint_yaml
from tests.test_stats import history_text, seed_history

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "admin"
CHROMIUM = "/usr/bin/chromium"
OWNER, ADMIN = "owner-pass-0123", "admin-pass-0123"
EVIL = "https://evil<img src=x onerror=alert(1)>.test/page"
JULY = "?since=2026-07-01&until=2026-07-31"


def users_text() -> str:
    return (f"users:\n  - {{name: marie, password_hash: '{hash_password(OWNER)}', shops: [shop1]}}\n"
            f"  - {{name: root, password_hash: '{hash_password(ADMIN)}', role: admin}}\n")


@pytest.fixture
def app(config_text, tmp_path):
    reset()
    text = history_text(config_text).replace("      consumer_secret: cs_test_secret_value", "      consumer_secret: "
                                             "cs_test_secret_value\n" + endpoint_yaml("http://127.0.0.1:9/bridge-events"), 1)
    config = migrated_config(text + users_text(), tmp_path)
    seed_history(config, referrer=EVIL)
    yield create_app(config)
    reset()


def csrf_of(page: bytes) -> str:
    return re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()


def login(app, name, password):
    client = app.test_client()
    token = csrf_of(client.get("/admin/login").data)
    return client, client.post("/admin/login", data={"csrf": token, "name": name, "password": password})


def test_an_owner_sees_their_shop_in_french_and_nothing_of_another_shop(app):
    client, answer = login(app, "marie", OWNER)
    assert answer.status_code == 303 and client.get("/admin").headers["Location"] == "/admin/shops/shop1"
    page = client.get("/admin/shops/shop1" + JULY).get_data(as_text=True)
    assert "Tableau de bord · Shop One" in page and "Du 1 juil. 2026 au 31 juil. 2026, jours de Europe/Paris" in page
    assert "100,00\u00a0€" in page and "20,00\u00a0€" in page  # brought net of refunds; rewards granted
    assert "alice@example.test" in page and "Amis par acheteur (K)" in page and "0,40" in page
    assert "<svg" in page and "http://" not in page.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org", "")  # the charts load nothing from elsewhere
    assert "<img src=x" not in page and "evil&lt;img" in page  # a referring site is shown escaped
    for path in ("/admin/shops/shop2", "/admin/shops/shop2/stats.csv", "/admin/activity"):
        assert client.get(path).status_code == 403, path
    english = client.get("/admin/shops/shop1" + JULY + "&lang=en").get_data(as_text=True)
    assert "Dashboard · Shop One" in english and "€100.00" in english and "Friends per buyer (K)" in english


def test_an_administrator_sees_every_shop_and_the_lists(app):
    client, answer = login(app, "root", ADMIN)
    assert answer.status_code == 303
    usd = client.get("/admin/shops/shop2" + JULY).get_data(as_text=True)
    assert "Dashboard · Shop Two" in usd and "$30.00" in usd and "America/New_York" in usd
    assert client.get("/admin/activity").status_code == 200


def test_wrong_names_passwords_and_old_sessions_are_sent_back_to_the_login(app):
    for name, password in (("marie", "nope"), ("nobody", OWNER), ("", OWNER)):
        client, answer = login(app, name, password)
        assert answer.status_code == 401 and "Wrong user or password." in answer.get_data(as_text=True)
        assert client.get("/admin/shops/shop1").status_code == 303
    client, _ = login(app, "marie", OWNER)
    with client.session_transaction("/admin") as session:
        session["since"] = int(time.time()) - SESSION_HOURS * 3600 - 1
    assert client.get("/admin/shops/shop1").headers["Location"] == "/admin/login"


def test_the_csv_and_bad_periods(app):
    client, _ = login(app, "marie", OWNER)
    answer = client.get("/admin/shops/shop1/stats.csv" + JULY)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="bridge-shop1-2026-07-01-2026-07-31.csv"' in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert len(rows) == 31 and rows[0] == dict(day="2026-07-01", views="2", shares="1", clicks="3", landings="1",
                                               orders="2", joins="1", revenue_net_EUR="50.00")
    for query in ("?since=July", "?since=2026-08-01&until=2026-07-01", "?since=2020-01-01&until=2026-07-01",
                  "?campaign=group2"):
        bad = client.get("/admin/shops/shop1" + query)
        assert bad.status_code == 400 and bad.json["error"]["message"], query
    assert client.get("/admin/shops/nope").status_code == 404


@contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served(app):
    with serving(app) as url:
        yield url


SIZES = (({"width": 1280, "height": 900}, "desktop"), ({"width": 390, "height": 844}, "phone"))


def logged_in_page(browser, url, size, name):
    phone = name == "phone"
    context = browser.new_context(viewport=size, locale="fr-FR", is_mobile=phone, has_touch=phone)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{url}/admin")
    page.get_by_label("User").fill("marie")
    page.get_by_label("Password").fill(OWNER)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("Tableau de bord · Shop One")
    return context, page, errors


@pytest.mark.slow
def test_the_dashboard_in_chromium_on_a_desktop_and_a_phone(served):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for size, name in SIZES:
            context, page, errors = logged_in_page(browser, served, size, name)
            page.get_by_label("Du").fill("2026-07-01")
            page.get_by_label("Au").fill("2026-07-31")
            page.get_by_role("button", name="Afficher").click()
            expect(page.locator(".kpi").first).to_contain_text("2")
            expect(page.locator("section", has_text="Ambassadeurs")).to_contain_text("bob@example.test")
            # nothing wider than the screen: the page scrolls down, never sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], name
            box = page.locator(".chart svg >> visible=true").first.bounding_box()
            assert box["width"] <= size["width"] and box["height"] > 100
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
            with page.expect_download() as download:
                page.get_by_role("link", name="Exporter en CSV").click()
            assert download.value.suggested_filename == "bridge-shop1-2026-07-01-2026-07-31.csv"
            page.get_by_role("link", name="alice@example.test").click()
            expect(page.locator("h1")).to_have_text("alice@example.test · Shop One")
            expect(page.locator("ul.tree ul.tree")).to_contain_text("carol@example.test")
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], name
            page.screenshot(path=str(ARTIFACTS / f"person-{name}.png"), full_page=True)
            page.go_back()
            page.get_by_role("link", name="English").click()
            expect(page.locator("h1")).to_have_text("Dashboard · Shop One")
            expect(page.locator("main")).to_contain_text("€100.00")
            with db.connection_context():  # an events endpoint that has failed for a day
                EndpointState.delete().where(EndpointState.shop == "shop1").execute()
                EndpointState.create(shop="shop1", endpoint="crm", state="paused", failing_since=T0,
                                     paused_at=T0 + timedelta(days=1))
                EventAttempt.create(shop="shop1", endpoint="crm", event=1, at=T0 + timedelta(days=1), status=None,
                                    error="no answer: ConnectionError: connection refused", ms=3)
            page.get_by_role("link", name="Setup").click()
            expect(page.locator("h1")).to_have_text("Setup · Shop One")
            events = page.locator("tr", has_text="Events to")
            expect(events).to_contain_text("Paused after a day of failures")
            expect(events).to_contain_text("bridge events resume shop1 crm")
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served)
            page.get_by_role("button", name="Copy").click()
            expect(page.get_by_role("button", name="Copied")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], name
            page.screenshot(path=str(ARTIFACTS / f"setup-{name}.png"), full_page=True)
            assert errors == []
            context.close()
        browser.close()


@pytest.fixture
def manual(config_text, tmp_path):
    """The same history, group1's payouts waiting for an owner's approval."""
    reset()
    text = history_text(config_text).replace("  - id: group1\n    type: social_buying\n",
                                             "  - id: group1\n    type: social_buying\n    approval: manual\n")
    config = migrated_config(text + users_text(), tmp_path)
    seed_history(config)
    yield create_app(config)
    reset()


def payout_of(order_id: str) -> Payout:
    return Payout.select(Payout, Reward).join(Reward).where(Reward.order_id == order_id).get()


def act(client, action, target, note="", shop="shop1", csrf=None):
    token = csrf or csrf_of(client.get(f"/admin/shops/{shop}/review").data if shop == "shop1" else
                            client.get("/admin/shops/shop1/review").data)
    return client.post(f"/admin/shops/{shop}/review", data=dict(csrf=token, action=action, target=target, note=note))


def test_the_review_queue_lists_what_waits_and_its_actions_are_kept(manual):
    client, _ = login(manual, "marie", OWNER)
    page = client.get("/admin/shops/shop1/review").get_data(as_text=True)
    for order_id in ("1", "2", "3"):
        assert payout_of(order_id).state == "pending" and payout_of(order_id).key in page
    # order 4's refused join, with its reason, in the shop's language (and as the engine wrote it, in English)
    assert "même e-mail que la personne qui a partagé le lien" in page
    assert "same e-mail as the person who shared the link" in client.get("/admin/shops/shop1/review?lang=en").get_data(
        as_text=True)
    client.get("/admin/shops/shop1/review?lang=fr")
    assert "https://shop1.example/wp-admin/post.php?post=4&amp;action=edit" in page
    assert act(client, "approve", payout_of("1").key).status_code == 303
    assert payout_of("1").state == "approved"
    assert act(client, "reject", "group1:2").status_code == 303  # no note: refused, nothing done
    assert payout_of("2").state == "pending"
    assert act(client, "reject", "group1:2", note="a test order").status_code == 303
    assert payout_of("2").state == "cancelled" and payout_of("2").reward.state == "cancelled"
    assert act(client, "allow", "group1:4", note="a different person, same family").status_code == 303
    assert OverrideFact.get(OverrideFact.order_id == "4").note == "a different person, same family"
    page = client.get("/admin/shops/shop1/review").get_data(as_text=True)
    assert "a different person, same family" in page
    done = [(a.user, a.action, a.target, a.note) for a in AdminAction.select().order_by(AdminAction.id)]
    assert done == [("marie", "approve", payout_of("1").key, ""), ("marie", "reject", "group1:2", ""),
                    ("marie", "reject", "group1:2", "a test order"),
                    ("marie", "allow", "group1:4", "a different person, same family")]
    assert AdminAction.get(AdminAction.note == "").result.startswith("1 ")
    assert "Non fait" in AdminAction.select().where(AdminAction.action == "reject").first().result
    searched = client.get("/admin/shops/shop1/review?q=carol@example.test").get_data(as_text=True)
    assert '/admin/shops/shop1/person?email=carol%40example.test' in searched
    assert payout_of("3").key in client.get("/admin/shops/shop1/review?campaign=group1").get_data(as_text=True)
    for other in ("group2", "nope"):  # another shop's campaign, or none
        assert client.get(f"/admin/shops/shop1/review?campaign={other}").status_code == 400
    lists = searched.split("Ce qui a été fait")[0]  # (the record of actions names payout 1 still)
    assert payout_of("3").key in lists and payout_of("1").key not in lists


def test_nobody_acts_on_another_shop_or_without_a_fresh_form(manual):
    client, _ = login(manual, "marie", OWNER)
    theirs = Payout.select(Payout, Reward).join(Reward).where(Reward.shop == "shop2").get()
    assert act(client, "approve", theirs.key).status_code == 403
    assert act(client, "approve", theirs.key, shop="shop2").status_code == 403
    assert act(client, "allow", "group2:22", note="x").status_code == 403
    assert client.get("/admin/shops/shop2/review").status_code == 403
    assert act(client, "approve", payout_of("1").key, csrf="forged").status_code == 400
    assert act(client, "format_disk", "x").status_code == 400
    assert payout_of("1").state == "pending" and Payout.get_by_id(theirs.id).state == theirs.state
    assert AdminAction.select().count() == 0


def test_the_setup_page_gives_the_snippet_and_says_what_works(app):
    client, _ = login(app, "marie", OWNER)
    refused = client.post("/webhooks/shop1", data=b'{"id": 1}', headers={"X-WC-Webhook-Signature": "forged",
                                                                          "X-WC-Webhook-Topic": "order.updated"})
    assert refused.status_code in (400, 401)  # refused, and not counted as a delivery
    page = client.get("/admin/shops/shop1/setup?lang=en").get_data(as_text=True)
    assert ('&lt;script src=&#34;http://127.0.0.1:8000/widget.js&#34; data-shop=&#34;shop1&#34; async&gt;&lt;/script&gt;'
            in page)
    rows = {html.unescape(m.group(1)): m.group(2) for m in re.finditer(r"<tr><td>([^<]+)</td>\s*<td><span class=\"st (\w+)\"", page)}
    assert rows == {"Widget on thank-you pages": "warning", "Widget on the shop's pages": "warning",
                    "Webhooks": "unknown", "Last sync with the shop": "unknown",
                    "Background jobs (last 24 h)": "ok", "E-mails waiting": "warning"}
    assert "run `bridge webhooks install shop1`, or rely on the poll" in page
    assert client.get("/admin/shops/shop2/setup").status_code == 403
    script = client.get("/admin/assets/copy.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"


@pytest.mark.slow
def test_the_review_queue_in_chromium_on_a_desktop_and_a_phone(manual):
    with serving(manual) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for (size, name), order_id in zip(SIZES, ("1", "2")):
            context, page, errors = logged_in_page(browser, url, size, name)
            page.get_by_role("link", name="À vérifier").click()
            waiting = page.locator("section", has_text="En attente de votre accord")
            row = waiting.locator("tr", has_text=f"#{order_id}")
            if name == "desktop":
                row.get_by_role("button", name="Accepter").click()
                expect(page.get_by_role("status")).to_contain_text(f"1 accepté(s): {payout_of(order_id).key}")
            else:
                row.get_by_role("button", name="Refuser").click()  # no note: the browser asks for one first
                assert payout_of(order_id).state == "pending"
                row.get_by_placeholder("pourquoi (gardé)").fill("commande de test")
                row.get_by_role("button", name="Refuser").click()
                expect(page.get_by_role("status")).to_contain_text(f"commande {order_id} : refusée (commande de test)")
            expect(page.locator("section", has_text="Ce qui a été fait")).to_contain_text("marie")
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], name
            page.screenshot(path=str(ARTIFACTS / f"review-{name}.png"), full_page=True)
            assert errors == []
            context.close()
        browser.close()
    assert payout_of("1").state == "approved" and payout_of("2").state == "cancelled"


def test_a_person_page_shows_the_tree_across_groups_and_their_money(app):
    client, _ = login(app, "marie", OWNER)
    dashboard = client.get("/admin/shops/shop1" + JULY).get_data(as_text=True)
    assert '/admin/shops/shop1/person?email=alice%40example.test' in dashboard  # the leaderboard links each person
    page = client.get("/admin/shops/shop1/person?email=Alice@Example.test&lang=en").get_data(as_text=True)
    tree = page.split("Who they brought")[1].split("</section>")[0]
    # alice brought bob (plain link), bob brought carol (his tag): a chain of two under alice
    assert tree.index("bob@example.test") < tree.index("carol@example.test") and tree.count("<ul") == 2
    assert "group1: opened a group" in page and "#1" in page and "#4" in page  # both of her orders
    assert "€10.00" in page and "payout:group1:group:1:1" in page  # her cashback (10% of 100.00) and its payout
    bob = client.get("/admin/shops/shop1/person?email=bob@example.test&lang=en").get_data(as_text=True)
    assert "joined group #1" in bob and "carol@example.test" in bob.split("Who they brought")[1].split("</section>")[0]
    assert client.get("/admin/shops/shop1/person?email=nobody@example.test").status_code == 404
    assert client.get("/admin/shops/shop2/person?email=buyer21@example.com").status_code == 403


def test_order_numbers_link_to_the_shops_back_office():
    from bridge.config.model import PrestaShopSettings

    base = load_config_text(textwrap.dedent(BASE_CONFIG).format(database_url="sqlite:///unused.db")).shop("shop1")
    assert back_office_order_url(base, "42") == "https://shop1.example/wp-admin/post.php?post=42&action=edit"
    ps = replace(base, platform="prestashop", woocommerce=None, prestashop=PrestaShopSettings("K" * 32, None))
    assert back_office_order_url(ps, "42") == "https://shop1.example/"  # its back office's folder is unknown
    known = replace(ps, prestashop=replace(ps.prestashop, back_office_url="https://shop1.example/admin4f2x/"))
    assert back_office_order_url(known, "4 2") == (
        "https://shop1.example/admin4f2x/index.php?controller=AdminOrders&id_order=4%202&vieworder")


@pytest.fixture
def by_bank(config_text, tmp_path):
    """The same history, group1 paying by bank transfer from the shop's own account, payouts approved by hand."""
    reset()
    text = history_text(config_text).replace(
        "  - id: group1\n    type: social_buying\n", "  - id: group1\n    type: social_buying\n    approval: manual\n    payout: sepa\n")
    text = text.replace("    tone: tu\n", "    tone: tu\n    sepa: {name: Shop One SARL, iban: FR76 3000 6000 0112 3456 7890 189, "
                                         "bic: AGRIFRPPXXX}\n", 1)
    config = migrated_config(text + users_text(), tmp_path)
    seed_history(config)
    yield create_app(config)
    reset()


def test_a_sepa_batch_a_retry_and_a_cancel_from_the_review_queue(by_bank):
    config = by_bank.extensions["bridge"].config
    client, _ = login(by_bank, "marie", OWNER)
    for order_id in ("1", "2"):
        assert act(client, "approve", payout_of(order_id).key).status_code == 303
    deliver_payouts(config, T0 + timedelta(days=18))  # asks for the IBANs (awaiting_iban)
    for order_id, holder in (("1", "Alice Martin"), ("2", "Bob Durand")):
        save_account(payout_of(order_id), holder, "FR7630006000011234567890189", None, T0 + timedelta(days=18))
    page = client.get("/admin/shops/shop1/review").get_data(as_text=True)
    assert "2 virement(s) prêt(s), 15,00\u00a0€" in page  # 10.00 + 5.00
    assert act(client, "export_sepa", "shop1").status_code == 303
    batch = SepaBatch.get()
    assert (batch.count, batch.state) == (2, "exported") and payout_of("1").state == "in_batch"
    xml = client.get(f"/admin/shops/shop1/sepa/{batch.id}.xml")
    assert xml.status_code == 200 and b"Alice Martin" in xml.data and batch.message_id.encode() in xml.data
    assert act(client, "sepa_sent", str(batch.id)).status_code == 303
    assert payout_of("1").state == payout_of("2").state == "paid"
    assert act(client, "export_sepa", "shop1").status_code == 303 and SepaBatch.select().count() == 1  # nothing ready
    # a failed payout (as the delivery job leaves one): tried again, then cancelled with a note
    Payout.update(state="failed", last_error="the bank refused the account").where(
        Payout.key == payout_of("3").key).execute()
    assert "the bank refused the account" in client.get("/admin/shops/shop1/review").get_data(as_text=True)
    assert act(client, "retry", payout_of("3").key).status_code == 303 and payout_of("3").state == "approved"
    Payout.update(state="failed").where(Payout.key == payout_of("3").key).execute()
    assert act(client, "cancel", payout_of("3").key, note="customer asked for a coupon instead").status_code == 303
    assert payout_of("3").state == "cancelled"
    results = [a.result for a in AdminAction.select().order_by(AdminAction.id)]
    assert results[2].startswith(f"lot {batch.id} créé avec 2 virement(s)") and "marqué(s) payé(s)" in results[3]
    assert results[4].startswith("Non fait: aucun virement n'est prêt")
    assert ledger_balances()[1] == []


ENGINE_REASONS = [  # every failing check, flag, reward reason and action line the engine writes, with sample figures
    "never paid", "paid at 2026-07-01T10:00:00+00:00", "no payment date from the shop: first seen paid at 2026-07-01T10:00:00+00:00",
    "in USD, but the campaign pays in EUR", "order total 20.00 EUR is below the minimum of 30.00 EUR",
    "outside the campaign's dates (2026-01-01 to …)", "has no eligible product", "came through group 1's link (widget)",
    "the link's group (7) is not one of this campaign's: never opened in it, or opened after this order",
    "paid after the group closed at 2026-07-03T10:00:00+00:00", "in USD, the group is in EUR",
    "has none of the group's products", "has none of the campaign's products (10, 11)",
    "the same person already belongs to this group (order 3)", "admin refused: commande test", "admin allowed: une amie",
    "the e-mail is from a disposable-mail provider", "3 or more joins from one IP within an hour",
    "5 or more joins through one link within an hour", "same e-mail as the person who shared the link",
    "same customer account as the person who shared the link", "same billing address as the person who shared the link",
    "same IP address and browser as the person who shared the link, within 24 hours", "same e-mail as the referrer",
    "same customer account as the referrer", "same billing address as the referrer",
    "same IP address and browser as the referrer, within 24 hours",
    "the link was posted on dealabs.com, a coupon site: its buyers are strangers, not friends",
    "this e-mail had already ordered from the shop", "the order was cancelled or refunded before the hold ended",
    "3.00 EUR left of the campaign's budget, less than the reward of 5.00 EUR", "2 earlier reward(s), cap 2",
    "4 reward(s) in the period before, cap 4", "waiting for the hold to end at 2026-07-20T10:00:00+00:00",
    "10% of 48.00", "10% of 48.00, capped at 5.00 EUR", "fixed 5.00 EUR", "left the group: order cancelled",
    "left the group: order fully refunded", "the group has 1 buyer(s), below the first tier (2)",
    "order 2: refused (test)", "order 2: allowed (une amie); the next tick decides it again",
    "payout payout:c:group:1:2 cancelled", "order refused: test", "cancelled by an admin: duplicate",
    "the shop's system: card expired", "no uploaded code of 4.80 EUR left: upload more with `bridge coupons upload hand FILE`",
]


@pytest.mark.parametrize("text", ENGINE_REASONS)
def test_the_engines_reasons_read_in_french_on_french_pages(text):
    from bridge.web.reason_texts import reason_in

    french = reason_in(text, "fr")
    assert french != text and reason_in(text, "en") == text
    english = {"the", "group", "order", "paid", "same", "link", "reward", "cancelled", "refused", "left", "below"}
    words = " ".join(w for w in french.split("`")[0].split() if ":" not in w.rstrip(":"))  # (keys and codes aside)
    assert not english & set(re.findall(r"[a-z]+", words)), french
