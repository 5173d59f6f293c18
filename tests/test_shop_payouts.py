"""Payouts a hand-coded shop's system makes itself: bridge asks with a signed payout.requested event, the shop
answers with a signed call, and each payout moves once (done or failed), whatever is sent twice or wrong."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from bridge.cli import main as cli
from bridge.connectors.custom import sign
from bridge.delivery.events import deliver_events
from bridge.delivery.payouts import deliver_payouts
from bridge.ledger.grants import ledger_balances, settle_due_groups
from bridge.ledger.health import shop_health
from bridge.storage.db import db
from bridge.storage.models import CouponCode, EmailMessage, Event, Payout
from bridge.web import create_app
from tests.conftest import migrated_config
from tests.event_receiver import Receiver
from tests.test_custom_shop import CAMPAIGN, SECRET
from tests.test_events import SETTLE, a_group, with_endpoint


@pytest.fixture(params=["refund", "coupon"])
def world(request, config_text, tmp_path):
    with Receiver() as receiver:
        text = with_endpoint(config_text, receiver.url).replace(CAMPAIGN, CAMPAIGN.replace(
            "payout: sepa", f"payout: {request.param}"))
        config = migrated_config(text, tmp_path)
        client = create_app(config).test_client()
        db.connect(reuse_if_open=True)
        a_group(client)
        settle_due_groups(config, SETTLE)
        yield config, client, receiver, request.param
        db.close()


def answer(client, key, payload, secret=SECRET, raw=None, shop="hand", signed=True):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Bridge-Signature": sign(secret, body, datetime.now(timezone.utc))} if signed else {}
    return client.post(f"/api/v1/shops/{shop}/payouts/{key}", data=body, content_type="application/json", headers=headers)


def states():
    return {p.key: (p.state, p.external_ref) for p in Payout.select().order_by(Payout.key)}


def test_the_shop_is_asked_then_its_answers_move_each_payout_once(world):
    config, client, receiver, method = world
    assert "2 asked of the shop" in deliver_payouts(config, SETTLE)
    assert {s for s, _ in states().values()} == {"at_shop"}
    assert "0 asked of the shop" in deliver_payouts(config, SETTLE + timedelta(hours=1)), "asked once"
    deliver_events(config, SETTLE + timedelta(hours=1))
    asks = [e for e in receiver.received if e["type"] == "payout.requested" and e["data"]["execute"]]
    assert [a["data"]["order_id"] for a in asks] == ["1001", "1002"] and all(a["signed"] for a in asks)
    first = asks[0]["data"]
    assert (first["method"], first["amount"], first["currency"], first["email"]) == (method, "4.80", "EUR",
                                                                                       "buyer1001@example.test")
    assert (first["coupon_code"] is not None) == (method == "coupon")
    assert len([e for e in receiver.received if e["type"] == "payout.requested" and not e["data"]["execute"]]) == 2

    done, failed = asks[0]["data"]["payout"], asks[1]["data"]["payout"]
    ok = answer(client, done, dict(status="done", reference="re_3Q7x"))
    assert ok.status_code == 200 and ok.json == dict(payout=done, state="paid", changed=True)
    again = answer(client, done, dict(status="done", reference="re_3Q7x"))
    assert again.status_code == 200 and again.json["changed"] is False
    other = answer(client, done, dict(status="done", reference="re_other"))
    assert other.status_code == 409 and "paid with reference 're_3Q7x'" in other.json["error"]["message"]
    no = answer(client, failed, dict(status="failed", error="card expired"))
    assert no.status_code == 200 and no.json["state"] == "failed"
    assert answer(client, failed, dict(status="failed")).json["changed"] is False
    late = answer(client, failed, dict(status="done", reference="re_late"))
    assert late.status_code == 409 and late.json["error"]["code"] == "not_asked"
    assert states() == {done: ("paid", "re_3Q7x"), failed: ("failed", None)}
    assert Payout.get(Payout.key == failed).last_error == "the shop's system: card expired"

    deliver_events(config, SETTLE + timedelta(hours=2))
    tail = [(e["type"], e["data"]["payout"]) for e in receiver.received[-2:]]
    assert tail == [("payout.paid", done), ("payout.failed", failed)]
    assert receiver.received[-2]["data"]["reference"] == "re_3Q7x"
    assert EmailMessage.select().where(EmailMessage.kind == "payout_sent").count() == 1
    assert Event.select().where(Event.type.in_(("payout.paid", "payout.failed"))).count() == 2, "each change once"
    balances, problems = ledger_balances()
    assert problems == [] and all(b.reconciles for b in balances.values())


def test_wrong_answers_get_a_clear_4xx_and_change_nothing(world):
    config, client, receiver, method = world
    deliver_payouts(config, SETTLE)
    key = Payout.select().order_by(Payout.key).first().key
    before = (states(), Event.select().count())
    for args, status, code in (
            ((key, dict(status="done")), 400, "bad_answer"),
            ((key, dict(status="paid", reference="x")), 400, "bad_answer"),
            ((key, dict(status="done", reference="x", extra=1)), 400, "bad_answer"),
            ((key, dict(status="done", reference="x" * 201)), 400, "bad_answer"),
            ((key, None), 400, "bad_answer"),
            ((key, [1]), 400, "bad_answer"),
            ((key, dict(status="done", reference="re_1")), 401, "bad_signature"),
            (("payout:nope", dict(status="done", reference="re_1")), 404, "unknown_payout")):
        secret = "another-secret-0123456789abcdef0123" if code == "bad_signature" else SECRET
        got = answer(client, *args, secret=secret)
        assert got.status_code == status and got.json["error"]["code"] == code, (args, got.json)
    assert answer(client, key, None, raw=b"{not json").json["error"]["code"] == "bad_json"
    assert answer(client, key, dict(status="done", reference="re_1"), signed=False).status_code == 401
    assert answer(client, key, dict(status="done", reference="re_1"), shop="shop1").json["error"]["code"] == "not_a_custom_shop"
    assert answer(client, key, dict(status="done", reference="re_1"), shop="nowhere").status_code == 404
    message = answer(client, key, dict(status="done")).json["error"]["message"]
    assert message.startswith("reference: is required when status is done"), message
    assert (states(), Event.select().count()) == before


@pytest.fixture
def coupons(config_text, tmp_path):
    with Receiver() as receiver:
        text = with_endpoint(config_text, receiver.url).replace(CAMPAIGN, CAMPAIGN.replace("payout: sepa", "payout: coupon"))
        config = migrated_config(text, tmp_path)
        client = create_app(config).test_client()
        db.connect(reuse_if_open=True)
        a_group(client)
        settle_due_groups(config, SETTLE)
        yield config, client, receiver, tmp_path
        db.close()


def upload(tmp_path, text, shop="hand"):
    (tmp_path / "codes.csv").write_text(text)
    return CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"), "coupons", "upload", shop,
                                    str(tmp_path / "codes.csv")])


def test_codes_the_owner_uploaded_are_handed_out_once_each_with_a_warning_before_they_run_out(coupons):
    config, client, receiver, tmp_path = coupons
    wrong = upload(tmp_path, "code,amount\nHAND-0001,4.80\nHAND 2,4.80\nHAND-0003,4.805\nHAND-0001,4.80\nHAND-0004\n")
    assert wrong.exit_code == 1 and "5 problem(s)" not in wrong.output
    for words in ("line 3: 'HAND 2' is not a code", "line 4: amount '4.805'", "line 5: code HAND-0001 is already on line 2",
                  "line 6: expected CODE,AMOUNT", "4 problem(s) in", "nothing uploaded"):
        assert words in wrong.output, (words, wrong.output)
    assert CouponCode.select().count() == 0
    assert "is a woocommerce shop" in upload(tmp_path, "A-0001,4.80\n", shop="shop1").output

    done = upload(tmp_path, "HAND-0001,4.80\n")
    assert done.exit_code == 0 and "1 codes added" in done.output and "4.80 EUR: 1 left  (running low)" in done.output
    assert "1 asked of the shop, 1 waiting for an uploaded code" in deliver_payouts(config, SETTLE)
    waiting = Payout.get(Payout.state == "approved")
    assert waiting.last_error == "no uploaded code of 4.80 EUR left: upload more with `bridge coupons upload hand FILE`"
    [health] = [c for c in shop_health(config, "hand", SETTLE) if c.name == "coupon_codes"]
    assert (health.state, health.count, health.detail) == ("problem", 0, "4.80 EUR: 0")

    again = upload(tmp_path, "HAND-0001,4.80\n" + "".join(f"HAND-{n:04d},4.80\n" for n in range(2, 8)) + "BIG-0001,10.00\n")
    assert "7 codes added, 1 already uploaded" in again.output
    assert "1 asked of the shop, 0 waiting" in deliver_payouts(config, SETTLE + timedelta(minutes=1))
    deliver_events(config, SETTLE + timedelta(minutes=2))
    asks = [e["data"] for e in receiver.received if e["type"] == "payout.requested" and e["data"]["execute"]]
    assert sorted(a["coupon_code"] for a in asks) == ["HAND-0001", "HAND-0002"]
    taken = {c.code: c.payout_key for c in CouponCode.select().where(CouponCode.payout_key.is_null(False))}
    assert sorted(taken) == ["HAND-0001", "HAND-0002"] and len(set(taken.values())) == 2
    [health] = [c for c in shop_health(config, "hand", SETTLE) if c.name == "coupon_codes"]
    assert (health.state, health.detail) == ("warning", "4.80 EUR: 5, 10.00 EUR: 1"), "10.00: fewer than 5 left"
    low = [m for m in EmailMessage.select().where(EmailMessage.kind == "codes_low")]
    assert [(m.to_email, json.loads(m.ref)["left"]) for m in low] == [("owner@shop.test", 0)]
