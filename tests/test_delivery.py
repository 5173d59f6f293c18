"""Payouts and e-mails end to end: a real SMTP server, the fake WooCommerce shop, a SEPA file checked by its XSD."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.config import load_config_text
from bridge.delivery.mail.sender import send_queued
from bridge.delivery.payouts import deliver_payouts
from bridge.facts.ingest import ingest
from bridge.ledger.grants import ledger_balances, settle_due_groups
from bridge.storage.db import db
from bridge.storage.models import EmailMessage, Payout
from tests.conftest import migrated_config
from tests.engine_data import T0, claim, order
from tests.fake_woocommerce import FakeWooCommerce, config_for, make_order
from tests.smtp_server import SmtpServer
from tests.wc_fixtures import rest_json

HOLD_END = T0 + timedelta(hours=49, days=14)  # the founder paid at T0 + 1 min
TEMPLATE = rest_json("19-order-get-after-refund.response.json")
DEBTOR = "\n    sepa:\n      name: Shop One SARL\n      iban: FR76 3000 6000 0112 3456 7890 189\n      bic: AGRIFRPPXXX"


@pytest.fixture
def shop():
    with FakeWooCommerce("ck_test_key", "cs_test_secret_value") as fake:
        yield fake


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def world(config_text, tmp_path, shop, smtp, payout="refund", extra=""):
    """The base config on the fake shop and the SMTP server, with the campaign paying by `payout`."""
    smtp_section = f"  smtp:\n    host: 127.0.0.1\n    port: {smtp.port}\n    tls: none\n    sender: cashback@shop1.example\n"
    text = config_for(config_text, shop.url).replace("  database_url:", smtp_section + "  database_url:", 1)
    text = text.replace("    eligible_products: any", f"    eligible_products: any\n    payout: {payout}")
    text = text.replace("    tone: tu", "    tone: tu" + extra)
    config = migrated_config(text, tmp_path)
    db.connect(reuse_if_open=True)
    return config


def three_buyers(config, shop, payment_method="stripe"):
    """Founder 1 and friends 2 and 3 (10% tier), in bridge and in the shop (100.00 each)."""
    orders = [replace(order(i, minutes=i), shop="shop1") for i in (1, 2, 3)]
    for o in orders:
        shop.put_order({**make_order(int(o.id), T0, TEMPLATE), "total": "100.00", "refunds": [],
                        "payment_method": payment_method, "billing": {**TEMPLATE["billing"], "email": o.email}})
    claims = [replace(claim(i, 1, minutes=i), shop="shop1") for i in (2, 3)]
    ingest(config, orders=orders, claims=claims, now=T0 + timedelta(minutes=5))


def test_group_news_then_refunds_once_then_the_payout_emails(config_text, tmp_path, shop, smtp):
    config = world(config_text, tmp_path, shop, smtp)
    three_buyers(config, shop)
    assert send_queued(config, T0 + timedelta(minutes=6)) == "e-mails: 6 sent, 0 failed, 0 dropped"
    inbox = smtp.inbox
    # told twice, each time with the group as it was when that friend joined (issue 14: not as at send time)
    assert [m["Subject"] for m in inbox.to("buyer1@example.com") if "rejoint" in m["Subject"]] == [
        "Un ami a rejoint ton groupe : 5%", "Un ami a rejoint ton groupe : 10%"]
    joined = [m.get_body(("plain",)).get_content() for m in inbox.to("buyer1@example.com") if "rejoint" in m["Subject"]]
    assert "2 acheteurs sont maintenant dans ton groupe" in joined[0] and "soit 5,00" in joined[0], joined[0]
    assert "3 acheteurs sont maintenant dans ton groupe" in joined[1] and "soit 10,00" in joined[1], joined[1]
    share = inbox.to("buyer3@example.com")[0]
    assert share["Subject"] == "Partage ton lien et récupère jusqu'à 10%"
    assert share["From"] == "Shop One <cashback@shop1.example>"
    text = share.get_body(("plain",)).get_content()
    html = share.get_body(("html",)).get_content()
    assert "http://127.0.0.1:8000/r/" in text and "ta commande chez Shop One" in text
    assert "Partager mon lien" in html and "border-bottom:4px solid #1f6feb" in html
    assert send_queued(config, T0 + timedelta(minutes=7)) == "no e-mail to send"  # each once

    settle_due_groups(config, HOLD_END)

    summary = deliver_payouts(config, HOLD_END)
    assert summary.startswith("payouts: 3 paid, 0 to retry, 0 failed")
    refunds = sorted((r["order_id"], r["amount"], r["refunded_payment"]) for r in shop.refunds.values())
    assert refunds == [(1, "10.00", True), (2, "10.00", True), (3, "10.00", True)]
    assert deliver_payouts(config, HOLD_END + timedelta(hours=1)).startswith("payouts: 0 paid")
    assert len(shop.refunds) == 3
    send_queued(config, HOLD_END)
    closed = [m["Subject"] for m in smtp.inbox.to("buyer2@example.com")]
    assert "Ton groupe est complet : 10,00\xa0€ remboursés" in closed
    assert "10,00\xa0€ t'attendent" in closed
    paid = next(m for m in smtp.inbox.to("buyer2@example.com") if "t'attendent" in m["Subject"])
    assert "sur le moyen de paiement utilisé" in paid.get_body(("plain",)).get_content()  # through the gateway
    balances, problems = ledger_balances()
    assert problems == [] and balances["EUR"].paid == Decimal("30.00") and balances["EUR"].reconciles


def test_a_refund_without_the_gateway_says_the_shop_pays_it_by_hand(config_text, tmp_path, shop, smtp):
    config = world(config_text.replace("      consumer_secret: cs_test_secret_value",
                                       "      consumer_secret: cs_test_secret_value\n      api_refund: false"),
                   tmp_path, shop, smtp)
    three_buyers(config, shop, payment_method="cod")
    settle_due_groups(config, HOLD_END)
    assert deliver_payouts(config, HOLD_END).startswith("payouts: 3 paid")
    assert {r["refunded_payment"] for r in shop.refunds.values()} == {False}
    send_queued(config, HOLD_END)
    paid = next(m for m in smtp.inbox.to("buyer2@example.com") if "t'attendent" in m["Subject"])
    text = paid.get_body(("plain",)).get_content()
    assert "Il ne revient pas tout seul sur une carte" in text and "quelques jours" not in text, text


def test_coupon_payouts_create_one_coupon_each_and_send_its_code(config_text, tmp_path, shop, smtp):
    config = world(config_text, tmp_path, shop, smtp, payout="coupon")
    three_buyers(config, shop)
    settle_due_groups(config, HOLD_END)
    deliver_payouts(config, HOLD_END)
    deliver_payouts(config, HOLD_END + timedelta(hours=1))
    coupons = sorted((c["email_restrictions"], c["amount"], c["usage_limit"]) for c in shop.coupons.values())
    assert coupons == [(["buyer1@example.com"], "10.00", 1), (["buyer2@example.com"], "10.00", 1),
                       (["buyer3@example.com"], "10.00", 1)]
    send_queued(config, HOLD_END)
    paid = next(m for m in smtp.inbox.to("buyer1@example.com") if "t'attendent" in m["Subject"])
    code = Payout.get(Payout.key.contains(":1:1")).external_ref
    assert code.startswith("CB") and code in paid.get_body(("plain",)).get_content()
    assert code.lower() in {c["code"] for c in shop.coupons.values()}


def test_a_gateway_refusal_fails_the_payout_with_the_shops_words_until_retried(config_text, tmp_path, shop, smtp):
    config = world(config_text, tmp_path, shop, smtp)
    three_buyers(config, shop, payment_method="bacs")
    settle_due_groups(config, HOLD_END)
    assert "3 failed" in deliver_payouts(config, HOLD_END)
    failed = Payout.select().where(Payout.state == "failed")
    assert failed.count() == 3 and all("does not support automatic refunds" in p.last_error for p in failed)
    assert not shop.refunds
    listing = CliRunner().invoke(main, ["--config", str(tmp_path / "config.yaml"), "payouts", "list", "--state", "failed"])
    assert listing.output.count("last error: woocommerce_rest_cannot_create_order_refund") == 3
    for key in [p.key for p in failed]:
        shop.orders[int(key.rsplit(":", 1)[1])]["payment_method"] = "stripe"  # the shop owner fixed the gateway
    db.close()
    retry = CliRunner().invoke(main, ["--config", str(tmp_path / "config.yaml"), "payouts", "retry",
                                      *[p.key for p in failed]])
    assert retry.exit_code == 0 and "3 payout(s) queued again" in retry.output
    db.connect(reuse_if_open=True)
    assert "3 paid" in deliver_payouts(config, HOLD_END + timedelta(hours=1))
    assert len(shop.refunds) == 3


def test_a_passing_shop_failure_is_retried_with_backoff_and_pays_once(config_text, tmp_path, shop, smtp):
    config = world(config_text, tmp_path, shop, smtp)
    three_buyers(config, shop)
    settle_due_groups(config, HOLD_END)
    shop.fail_next_write = [(503, {})] * 3
    assert "3 to retry" in deliver_payouts(config, HOLD_END)
    assert Payout.select().where((Payout.state == "approved") & (Payout.attempts == 1)).count() == 3
    assert "0 paid" in deliver_payouts(config, HOLD_END + timedelta(minutes=1))  # backing off
    assert "3 paid" in deliver_payouts(config, HOLD_END + timedelta(minutes=6))
    assert len(shop.refunds) == 3


def test_smtp_failures_are_retried_and_nothing_is_sent_twice(config_text, tmp_path, shop, smtp):
    config = world(config_text, tmp_path, shop, smtp)
    three_buyers(config, shop)
    smtp.inbox.refuse_next = 2
    assert send_queued(config, T0) == "e-mails: 4 sent, 2 failed, 0 dropped"
    assert send_queued(config, T0 + timedelta(seconds=30)) == "no e-mail to send"  # backing off
    assert send_queued(config, T0 + timedelta(minutes=2)) == "e-mails: 2 sent, 0 failed, 0 dropped"
    assert len(smtp.inbox.messages) == 6 and len({m["Message-ID"] for m in smtp.inbox.messages}) == 6
    assert EmailMessage.select().where(EmailMessage.state == "sent").count() == 6


def test_an_smtp_server_that_is_down_keeps_every_message(config_text, tmp_path, shop, smtp):
    config = world(config_text, tmp_path, shop, smtp)
    three_buyers(config, shop)
    smtp.down()
    assert "SMTP server unavailable" in send_queued(config, T0)
    smtp.up()
    assert send_queued(config, T0 + timedelta(minutes=2)) == "e-mails: 6 sent, 0 failed, 0 dropped"


def test_a_backfill_of_old_orders_emails_nobody(config_text, tmp_path, shop, smtp):
    config = world(config_text, tmp_path, shop, smtp)
    orders = [replace(order(i, minutes=i), shop="shop1") for i in (1, 2)]
    ingest(config, orders=orders, claims=[replace(claim(2, 1), shop="shop1")], now=T0 + timedelta(days=30))
    assert EmailMessage.select().count() == 0


def test_vous_shops_are_addressed_with_vous(config_text, tmp_path, shop, smtp):
    config = world(config_text.replace("tone: tu", "tone: vous"), tmp_path, shop, smtp)
    three_buyers(config, shop)
    send_queued(config, T0)
    subjects = [s for _, s in smtp.inbox.subjects()]
    assert "Partagez votre lien et récupérez jusqu'à 10%" in subjects
    assert "Un ami a rejoint votre groupe : 10%" in subjects


def test_english_shops_write_in_english(config_text, tmp_path, shop, smtp):
    config = world(config_text.replace("locale: fr", "locale: en"), tmp_path, shop, smtp)
    three_buyers(config, shop)
    send_queued(config, T0)
    settle_due_groups(config, HOLD_END)
    deliver_payouts(config, HOLD_END)
    send_queued(config, HOLD_END)
    subjects = [s for to, s in smtp.inbox.subjects() if to == "buyer1@example.com"]
    assert "Share your link and get up to 10% back" in subjects
    assert "A friend joined: your cashback is now 10%" in subjects
    assert "Your group is complete: €10.00 back" in subjects and "€10.00 is on its way" in subjects


def test_plain_text_lines_starting_with_from_are_sent_as_written(config_text, tmp_path, shop, smtp):
    config = world(config_text.replace("locale: fr", "locale: en"), tmp_path, shop, smtp)
    ingest(config, orders=[replace(order(1), shop="shop1")], now=T0)
    assert send_queued(config, T0 + timedelta(minutes=1)).startswith("e-mails: 1 sent")
    text = smtp.inbox.to("buyer1@example.com")[0].get_body(("plain",)).get_content()
    assert "\nFrom 2 buyers, everyone gets 5% back." in text and ">From" not in text, text


def test_sepa_payouts_ask_for_an_iban_then_go_out_in_one_valid_pain001_file(config_text, tmp_path, shop, smtp):
    import re

    from bridge.delivery.sepa import schema
    from bridge.storage.models import BankAccount, SepaBatch
    from bridge.web import create_app

    config = world(config_text, tmp_path, shop, smtp, payout="sepa", extra=DEBTOR)
    three_buyers(config, shop)
    settle_due_groups(config, HOLD_END)
    assert "3 awaiting an IBAN" in deliver_payouts(config, HOLD_END)
    assert "0 awaiting an IBAN" in deliver_payouts(config, HOLD_END + timedelta(hours=1))  # asked once
    send_queued(config, HOLD_END)
    asks = {m["To"]: m for m in smtp.inbox.messages if "IBAN" in m.get_body(("html",)).get_content()}
    assert set(asks) == {"buyer1@example.com", "buyer2@example.com", "buyer3@example.com"}
    links = {to: re.search(r"http://127\.0\.0\.1:8000(/claim/\S+)", m.get_body(("plain",)).get_content()).group(1)
             for to, m in asks.items()}
    db.close()

    client = create_app(config).test_client()
    page = client.get(links["buyer1@example.com"])
    assert page.status_code == 200 and "10,00" in page.text and 'name="iban"' in page.text
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert client.get(links["buyer1@example.com"][:-1] + "0").status_code == 404  # a forged token
    assert client.get("/claim/1.<script>").status_code == 404
    bad = client.post(links["buyer1@example.com"], data={"holder": "Ada <b>L</b>", "iban": "FR76 3000 6000 0112 3456 7890 188"})
    assert bad.status_code == 422 and "Cet IBAN n&#39;est pas valable" in bad.text
    assert "vérifie chaque caractère" in bad.text  # the shop says tu (issue 14: not "vérifiez")
    forged = client.get(links["buyer1@example.com"][:-1] + "0")
    assert "Vérifie qu&#39;il est complet, ou contacte" in forged.text
    assert "Ada &lt;b&gt;L&lt;/b&gt;" in bad.text  # what was typed comes back escaped
    outside = client.post(links["buyer2@example.com"], data={"holder": "Bo", "iban": "BR1800360305000010009795493C1"})
    assert outside.status_code == 422 and "pas dans la zone SEPA" in outside.text
    accounts = {"buyer1@example.com": ("Ada Lovelace", "DE89 3704 0044 0532 0130 00", ""),
                "buyer2@example.com": ("Bo Li", "FR1420041010050500013M02606", "PSSTFRPPXXX"),
                "buyer3@example.com": ("Cé Dupré", "NL91ABNA0417164300", "ABNANL2A")}
    for to, (holder, iban, bic) in accounts.items():
        saved = client.post(links[to], data={"holder": holder, "iban": iban, "bic": bic})
        assert saved.status_code == 200 and "••••" in saved.text and iban.replace(" ", "")[4:-4] not in saved.text
    db.connect(reuse_if_open=True)
    assert BankAccount.select().count() == 3
    assert Payout.select().where(Payout.state == "ready").count() == 3
    db.close()

    out = tmp_path / "batch.xml"
    cli = CliRunner()
    nowhere = cli.invoke(main, ["--config", str(tmp_path / "config.yaml"), "payouts", "export-sepa", "shop1",
                                "--out", str(tmp_path / "no" / "such" / "dir" / "x.xml")])
    assert nowhere.exit_code == 1 and isinstance(nowhere.exception, SystemExit), nowhere.output  # no traceback
    assert nowhere.output.strip().splitlines() == [f"Error: cannot write {tmp_path}/no/such/dir/x.xml: "
                                                   "No such file or directory"]
    db.connect(reuse_if_open=True)
    assert SepaBatch.select().count() == 0 and Payout.select().where(Payout.state == "ready").count() == 3
    db.close()
    exported = cli.invoke(main, ["--config", str(tmp_path / "config.yaml"), "payouts", "export-sepa", "shop1",
                                 "--out", str(out), "--execution-date", "2026-07-20"])
    assert exported.exit_code == 0, exported.output
    assert "3 transfer(s), 30.00 EUR, to execute on 2026-07-20" in exported.output
    xml = out.read_bytes()
    schema().validate(xml)  # the scheme's XSD (pain.001.001.03, shipped with sepaxml)
    assert b"<NbOfTxs>3</NbOfTxs>" in xml and b"<CtrlSum>30.00</CtrlSum>" in xml
    assert b"DE89370400440532013000" in xml and b"FR7630006000011234567890189" in xml and b"Ce Dupre" in xml
    again = cli.invoke(main, ["--config", str(tmp_path / "config.yaml"), "payouts", "export-sepa", "shop1",
                              "--out", str(tmp_path / "again.xml")])
    assert "no SEPA payout is ready" in again.output  # nobody is put in two batches
    db.connect(reuse_if_open=True)
    batch = SepaBatch.get()
    db.close()
    cli.invoke(main, ["--config", str(tmp_path / "config.yaml"), "payouts", "export-sepa", "shop1",
                      "--out", str(tmp_path / "same.xml"), "--batch", str(batch.id)])
    assert (tmp_path / "same.xml").read_bytes() == xml  # the same file, the same message id
    assert client.post(links["buyer1@example.com"], data={"holder": "X", "iban": "DE89370400440532013000"}).text.count(
        "déjà en cours") == 1  # too late to change the account

    sent = cli.invoke(main, ["--config", str(tmp_path / "config.yaml"), "payouts", "sepa-sent", str(batch.id)])
    assert "3 payout(s) marked paid" in sent.output
    twice = cli.invoke(main, ["--config", str(tmp_path / "config.yaml"), "payouts", "sepa-sent", str(batch.id)])
    assert "already sent" in twice.output
    db.connect(reuse_if_open=True)
    assert Payout.select().where(Payout.state == "paid").count() == 3
    balances, problems = ledger_balances()
    assert problems == [] and balances["EUR"].paid == Decimal("30.00")


def test_a_sepa_campaign_needs_a_debtor_account_and_euros(config_text):
    from bridge.config import ConfigError

    text = config_text.replace("    eligible_products: any", "    eligible_products: any\n    payout: sepa")
    with pytest.raises(ConfigError, match="needs a sepa section"):
        load_config_text(text)
    with pytest.raises(ConfigError, match="sepa transfers are in EUR"):
        load_config_text(text.replace("currency: EUR", "currency: USD"))
    with pytest.raises(ConfigError, match=r"iban: not a valid IBAN"):
        load_config_text(text.replace("    tone: tu", "    tone: tu" + DEBTOR.replace("189", "188")))


def test_welcome_coupons_are_created_in_the_shop_once_and_sent(config_text, tmp_path, shop, smtp):
    from bridge.ledger.referrals import issue_advocate, welcome_coupon
    from bridge.storage.models import WelcomeCoupon

    referral = """
  - id: ref1
    type: referral
    shop: shop1
    hold: 14d
    friend_reward: {type: coupon, value: "10%", valid_for: 30d}
    referrer_reward: {type: cashback, value: "5.00"}
"""
    config = world(config_text + referral, tmp_path, shop, smtp)
    campaign = next(c for c in config.campaigns if c.id == "ref1")
    code = issue_advocate(campaign, "ada@example.test", None, T0)
    coupon = welcome_coupon(campaign, code, "friend@example.test", T0)
    assert "1 welcome coupons created" in deliver_payouts(config, T0)
    assert "0 welcome coupons created" in deliver_payouts(config, T0 + timedelta(minutes=10))
    [created] = shop.coupons.values()
    assert created["code"] == coupon.coupon_code.lower() and created["discount_type"] == "percent"
    assert created["amount"] == "10" and created["email_restrictions"] == ["friend@example.test"]
    assert WelcomeCoupon.get().state == "created"
    send_queued(config, T0)
    [mail] = smtp.inbox.to("friend@example.test")
    assert mail["Subject"] == "Ton cadeau de bienvenue chez Shop One"
    assert "10\xa0% de réduction" in mail.get_body(("plain",)).get_content()
    assert coupon.coupon_code in mail.get_body(("plain",)).get_content()


def test_a_referrers_reward_is_a_coupon_and_an_email(config_text, tmp_path, shop, smtp):
    from bridge.ledger.referrals import settle_referrals
    from bridge.storage.models import Advocate
    from tests.test_referral import REFERRAL_YAML

    config = world(config_text + REFERRAL_YAML, tmp_path, shop, smtp)
    marie = replace(order(1, email="marie@example.com"), shop="shop1")
    ingest(config, orders=[marie], now=T0)
    code = Advocate.get(Advocate.email_norm == "marie@example.com").code
    ingest(config, orders=[replace(order(2, minutes=2), shop="shop1")], now=T0,
           referral_claims=[("shop1", "2", code, "widget", T0)])
    assert settle_referrals(config, T0 + timedelta(days=15)) == "referrals: granted 1, refused 0"
    assert "1 paid" in deliver_payouts(config, T0 + timedelta(days=15))
    [coupon] = shop.coupons.values()
    assert coupon["email_restrictions"] == ["marie@example.com"] and coupon["amount"] == "10.00"
    send_queued(config, T0 + timedelta(days=15))
    subjects = [m["Subject"] for m in smtp.inbox.to("marie@example.com")]
    assert "La commande de ton ami te rapporte 10,00\xa0€" in subjects and "10,00\xa0€ t'attendent" in subjects


@pytest.fixture(scope="module")
def tls_certificate():
    import trustme

    ca = trustme.CA()
    return ca, ca.issue_cert("127.0.0.1")


def test_starttls_and_login_as_configured(config_text, tmp_path, shop, tls_certificate, monkeypatch):
    """The SMTP server demands STARTTLS before AUTH; bridge upgrades, checks the certificate, logs in."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.smtp_server import Inbox, free_port

    ca, cert = tls_certificate
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # trust the test CA as the system's CAs are trusted
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"mailer", b"s3cret-pass"))

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            auth_required=True, auth_require_tls=True, authenticator=authenticator)
    controller.start()
    try:
        smtp_section = (f"  smtp:\n    host: 127.0.0.1\n    port: {port}\n    tls: starttls\n    username: mailer\n"
                        "    password: s3cret-pass\n    sender: cashback@shop1.example\n")
        text = config_for(config_text, shop.url).replace("  database_url:", smtp_section + "  database_url:", 1)
        config = migrated_config(text, tmp_path)
        db.connect(reuse_if_open=True)
        three_buyers(config, shop)
        assert send_queued(config, T0) == "e-mails: 6 sent, 0 failed, 0 dropped"
        assert len(inbox.messages) == 6 and logins == [(b"mailer", b"s3cret-pass")]
    finally:
        controller.stop()


def test_a_recent_buyer_gets_their_referral_link_by_e_mail_once_and_a_backfill_e_mails_nobody(
        config_text, tmp_path, shop, smtp):
    """Issue 17: the referrer's personal link by e-mail (the shop's language and tone), once per person."""
    from bridge.delivery.mail.sender import send_queued
    from bridge.storage.models import Advocate
    from tests.test_referral import REFERRAL_YAML

    config = world(config_text + REFERRAL_YAML, tmp_path, shop, smtp, extra="")
    marie = replace(order(1, email="marie@example.com"), shop="shop1")
    old = replace(order(9, email="old@example.com"), shop="shop1")  # paid long before: a backfill
    ingest(config, orders=[marie], now=T0 + timedelta(minutes=5))
    ingest(config, orders=[replace(marie, modified_at=T0 + timedelta(hours=1))], now=T0 + timedelta(hours=1))
    ingest(config, orders=[old], now=T0 + timedelta(days=30))
    send_queued(config, T0 + timedelta(hours=1))
    links = [m for m in smtp.inbox.messages if "lien de parrainage" in m["Subject"]]
    assert [m["To"] for m in links] == ["marie@example.com"], [m["Subject"] for m in smtp.inbox.messages]
    code = Advocate.get(Advocate.email_norm == "marie@example.com").code
    body = links[0].get_body(("plain",)).get_content()
    assert f"/r/{code}" in body and "10\u00a0% de réduction sur leur première commande" in body, body
    assert "tu reçois 10,00\u00a0€ pour chacun d'eux" in body, body
    assert Advocate.get(Advocate.email_norm == "old@example.com")  # an advocate all the same, without an e-mail
