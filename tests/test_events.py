"""Outbound events: a group's life reaches the shop's endpoint signed and in order; outages are retried with
backoff, a day of them pauses the endpoint and tells its owner; replays; and a worker killed at random points
of its deliveries loses no event and writes none twice."""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from bridge.cli import main as cli
from bridge.config import ConfigError, load_config_text
from bridge.delivery.events import PAUSE_AFTER, RETRY_FOR, backoff, deliver_events, replay
from bridge.delivery.mail.sender import send_queued
from bridge.ledger.actions import override_order
from bridge.ledger.grants import revoke_reward, settle_due_groups
from bridge.ledger.health import shop_health
from bridge.storage.db import db
from bridge.storage.models import EmailMessage, EndpointState, Event, EventAttempt, EventDelivery, GroupRow, Reward
from bridge.web import create_app
from tests.conftest import migrated_config
from tests.event_receiver import Receiver, endpoint_yaml
from tests.killed_ticks import KilledTicks
from tests.smtp_server import SmtpServer
from tests.test_custom_shop import NOW, hand_text, order, send


def utcnow():
    return datetime.now(timezone.utc)


SETTLE = NOW + timedelta(hours=49, days=14)
LIFE = ["group.opened", "member.joined", "group.closed", "reward.granted", "payout.requested", "reward.granted",
        "payout.requested"]


def with_endpoint(config_text: str, url: str, extra: str = "") -> str:
    return hand_text(config_text).replace("    custom: {signing_secret", endpoint_yaml(url) + "    custom: {signing_secret",
                                          1).replace("  database_url:", extra + "  database_url:", 1)


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def shop(config_text, tmp_path, receiver):
    config = migrated_config(with_endpoint(config_text, receiver.url), tmp_path)
    client = create_app(config).test_client()
    db.connect(reuse_if_open=True)
    yield config, client
    db.close()


def a_group(client, founder: str = "1001", friend: str = "1002", minutes: int = 0) -> None:
    assert send(client, order(founder, minutes=minutes)).status_code == 200
    code = GroupRow.get(GroupRow.founder_id == founder).code
    assert send(client, order(friend, minutes=minutes + 30, referral_code=code)).status_code == 200


def test_a_groups_life_reaches_the_endpoint_signed_and_in_order(shop, receiver):
    config, client = shop
    a_group(client)
    settle_due_groups(config, SETTLE)
    assert deliver_events(config, SETTLE) == "events: 7 delivered, 0 failed attempts, 0 waiting"
    got = receiver.received
    assert [e["type"] for e in got] == LIFE
    assert all(e["signed"] for e in got) and [e["id"] for e in got] == sorted(e["id"] for e in got)
    assert [e["event_id_header"] for e in got] == [str(e["id"]) for e in got]
    assert {e["group"] for e in got} == {"handgroup:1001"} and {e["shop"] for e in got} == {"hand"}
    opened, joined, closed = got[0]["data"], got[1]["data"], got[2]["data"]
    assert (opened["order_id"], opened["email"], opened["currency"], opened["code"]) == (
        "1001", "buyer1001@example.test", "EUR", GroupRow.get(GroupRow.founder_id == "1001").code)
    assert (joined["order_id"], joined["founder_order_id"], joined["brought_by_order_id"], joined["code"]) == (
        "1002", "1001", "1001", opened["code"])
    assert (closed["size"], closed["rate"], closed["fixed"], closed["granted"]) == (2, "0.1", None, "9.60")
    rewards = [e["data"] for e in got if e["type"] == "reward.granted"]
    assert [(r["order_id"], r["amount"]) for r in rewards] == [("1001", "4.80"), ("1002", "4.80")]
    assert rewards[0]["reason"] == "10% of 48.00" and rewards[0]["reward"] == "handgroup:group:1001:1001"
    payouts = [e["data"] for e in got if e["type"] == "payout.requested"]
    assert {p["method"] for p in payouts} == {"sepa"} and [p["reward"] for p in payouts] == [r["reward"] for r in rewards]

    # nothing twice: the same facts again, another settlement, another delivery run
    assert send(client, order("1001")).json["unchanged"] == ["1001"]
    settle_due_groups(config, SETTLE + timedelta(days=1))
    assert deliver_events(config, SETTLE + timedelta(days=1)) == "events: 0 delivered, 0 failed attempts, 0 waiting"
    assert Event.select().count() == 7 and len(receiver.received) == 7

    # an admin takes a reward back before it is paid: payout.cancelled
    reward = Reward.get(Reward.order_id == "1002")
    with db.atomic():
        revoke_reward(config.campaigns[-1], reward, "duplicate account", SETTLE)
    deliver_events(config, SETTLE + timedelta(days=1))
    assert receiver.received[-1]["type"] == "payout.cancelled"
    assert receiver.received[-1]["data"]["note"] == "duplicate account"


def test_a_friend_an_admin_refuses_leaves_the_group_and_the_endpoint_is_told(shop, receiver):
    config, client = shop
    a_group(client)
    override_order(config, "handgroup", "1002", "refuse", "same person as the founder", utcnow())
    deliver_events(config, utcnow())
    # refused as a member, the friend's order opens a group of its own
    assert [e["type"] for e in receiver.received] == ["group.opened", "member.joined", "member.left", "group.opened"]
    left, opened = receiver.received[2], receiver.received[3]
    assert (left["data"]["order_id"], left["data"]["founder_order_id"], left["data"]["now_role"]) == ("1002", "1001", "founder")
    assert (left["group"], opened["group"], opened["data"]["order_id"]) == ("handgroup:1001", "handgroup:1002", "1002")


@pytest.fixture
def smtp():
    with SmtpServer() as running:
        yield running


def test_an_outage_is_retried_with_backoff_then_paused_after_a_day_and_the_owner_told(config_text, receiver, smtp,
                                                                                        tmp_path):
    smtp_section = f"  smtp:\n    host: 127.0.0.1\n    port: {smtp.port}\n    tls: none\n    sender: bridge@hand.example\n"
    config = migrated_config(with_endpoint(config_text, receiver.url, smtp_section), tmp_path)
    db.connect(reuse_if_open=True)
    a_group(create_app(config).test_client())
    outage = iter([503, None] * 100)  # an error page, then no answer at all, in turn
    receiver.answer = lambda event: next(outage)
    start = at = utcnow()
    attempts = []
    while at < start + RETRY_FOR + timedelta(days=1):
        summary = deliver_events(config, at)
        if summary.startswith("events: 0 delivered, 1 failed"):
            attempts.append(at)
        head = EventDelivery.select().where(EventDelivery.state == "pending").order_by(EventDelivery.event).first()
        at = max(head.next_at, at + timedelta(minutes=1))
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    assert gaps[:4] == [backoff(n) for n in (1, 2, 3, 4)] and max(gaps) == timedelta(hours=6)
    assert attempts[-1] - attempts[0] >= RETRY_FOR - timedelta(hours=6), "tried for three days"
    assert all(at < attempts[0] + RETRY_FOR + timedelta(hours=6) for at in attempts), "then no more until resumed"
    state = EndpointState.get()
    assert state.state == "paused" and attempts[0] + PAUSE_AFTER <= state.paused_at < attempts[0] + PAUSE_AFTER + timedelta(hours=7)
    assert EmailMessage.select().where(EmailMessage.kind == "endpoint_paused").count() == 1, "told once"
    assert send_queued(config, at) == "e-mails: 4 sent, 0 failed, 0 dropped"  # the buyers' share links and this
    [alert] = smtp.inbox.to("owner@shop.test")
    text = alert.get_body(("plain",)).get_content()
    assert alert["Subject"] == "Événements vers crm en pause", alert["Subject"]  # the shop's locale is French
    assert "bridge events resume hand crm" in text and receiver.url in text and "HTTP 503" in text
    [health] = [c for c in shop_health(config, "hand", at) if c.name == "events"]
    assert (health.state, health.label, health.count, health.at) == ("problem", "crm", 2, attempts[0])
    assert receiver.received == [] and EventAttempt.select().count() == len(attempts)
    errors = Counter(a.error.split(":")[0] for a in EventAttempt.select())
    assert set(errors) == {"HTTP 503", "no answer"}

    receiver.answer = lambda event: 200
    done = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"), "events", "resume", "hand", "crm"])
    assert done.exit_code == 0, done.output
    assert "2 events waiting" in done.output and "2 delivered" in done.output
    assert [e["type"] for e in receiver.received] == ["group.opened", "member.joined"]
    assert EndpointState.get().state == "active"
    [health] = [c for c in shop_health(config, "hand", utcnow()) if c.name == "events"]
    assert (health.state, health.count) == ("ok", 0)
    log = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"), "events", "log", "hand", "--limit", "3"])
    assert log.exit_code == 0 and log.output.count("HTTP 200") == 2, log.output
    assert ("no answer" in log.output) != ("HTTP 503" in log.output), "the third line: the last failure"


def test_replay_sends_one_event_or_all_since_an_instant_again_in_order(shop, receiver, tmp_path):
    config, client = shop
    a_group(client)
    a_group(client, "2001", "2002", minutes=5)
    deliver_events(config, utcnow())
    first = [e["id"] for e in receiver.received]
    assert len(first) == 4
    assert replay(config, utcnow(), event_id=first[1]) == 1
    deliver_events(config, utcnow())
    assert receiver.ids()[4:] == [first[1]]
    runner, path = CliRunner(), str(tmp_path / "config.yaml")
    since = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    done = runner.invoke(cli, ["--config", path, "events", "replay", "--since", since])
    assert done.exit_code == 0 and "4 deliveries queued" in done.output, done.output
    deliver_events(config, utcnow())
    assert receiver.ids()[5:] == first
    for bad, words in ((["events", "replay"], "name an event ID or --since"), (["events", "replay", "999999"], "no event 999999"),
                       (["events", "replay", "1", "--since", since], "not both"),
                       (["events", "resume", "hand", "nope"], "no event endpoint 'nope'"),
                       (["events", "log", "nowhere"], "no shop 'nowhere'")):
        done = runner.invoke(cli, ["--config", path] + bad)
        assert done.exit_code == 2 and words in done.output, (bad, done.output)
        assert "Traceback" not in done.output


def test_a_new_endpoint_receives_what_happens_from_then_on_and_a_replay_brings_it_the_past(config_text, tmp_path):
    with Receiver() as first, Receiver() as second:
        text = with_endpoint(config_text, first.url)
        config = migrated_config(text, tmp_path)
        db.connect(reuse_if_open=True)
        try:
            a_group(create_app(config).test_client())
            two = text.replace(endpoint_yaml(first.url), endpoint_yaml(first.url) + endpoint_yaml(second.url, "books").split("\n", 1)[1])
            config = migrated_config(two, tmp_path)
            assert [e.name for e in config.shop("hand").events] == ["crm", "books"]
            settle_due_groups(config, SETTLE)
            deliver_events(config, SETTLE)
            assert len(first.received) == 7 and [e["type"] for e in second.received] == LIFE[2:]
            replay(config, SETTLE, since=NOW - timedelta(days=1), endpoint="books")
            deliver_events(config, SETTLE)
            assert [e["type"] for e in second.received[5:]] == LIFE and len(first.received) == 7
        finally:
            db.close()


@pytest.mark.parametrize("endpoint, words", [
    ("{name: crm, url: 'https://crm.test/x', secret: short}", "events[0].secret: must be at least 32 characters"),
    ("{name: crm, url: 'http://crm.test/x', secret: event-endpoint-secret-0123456789abcdef}", "events[0].url: must be https://"),
    ("{name: crm, url: 'https://crm.test/x', secret: event-endpoint-secret-0123456789abcdef, alert_email: nope}",
     "events[0].alert_email: Not a valid email address"),
    ("{name: crm, url: 'https://crm.test/x?a=1', secret: event-endpoint-secret-0123456789abcdef}", "without query"),
    ("{url: 'https://crm.test/x', secret: event-endpoint-secret-0123456789abcdef}", "events[0].name"),
    ("{name: crm, url: 'https://crm.test/x', secret: event-endpoint-secret-0123456789abcdef, retries: 3}",
     "events[0].retries: unknown key"),
])
def test_an_endpoint_written_wrong_is_named_with_its_line(config_text, endpoint, words):
    text = hand_text(config_text).replace("    custom: {signing_secret", f"    events:\n      - {endpoint}\n    custom: {{signing_secret", 1)
    with pytest.raises(ConfigError) as caught:
        load_config_text(text)
    assert words in str(caught.value) and "config.yaml:" in str(caught.value), str(caught.value)


def test_two_endpoints_with_one_name_are_refused(config_text):
    text = hand_text(config_text).replace(
        "    custom: {signing_secret", endpoint_yaml("https://a.test/x") + endpoint_yaml("https://b.test/y").split("\n", 1)[1]
        + "    custom: {signing_secret", 1)
    with pytest.raises(ConfigError) as caught:
        load_config_text(text)
    assert "endpoint name 'crm' is used twice" in str(caught.value)


GROUPS = 12  # 84 events
KILLS = 14


def test_killing_the_worker_mid_delivery_loses_no_event_and_writes_none_twice(config_text, tmp_path):
    """A real `bridge tick` process delivers; the receiver kills it (SIGKILL) when a chosen event arrives, either
    before it keeps the event or after (the event is kept but bridge never hears the answer)."""
    with Receiver() as receiver:
        text = with_endpoint(config_text, receiver.url, "  worker:\n    lease: 1s\n").replace(
            "      consumer_secret: cs_test_secret_value", "      consumer_secret: cs_test_secret_value\n"
            "    sync: {poll_every: 'off'}", 1)  # (the other shop is not there to be polled)
        config, path = migrated_config(text, tmp_path), tmp_path / "config.yaml"
        client = create_app(config).test_client()
        db.connect(reuse_if_open=True)
        for g in range(GROUPS):
            a_group(client, str(3000 + 2 * g), str(3001 + 2 * g), minutes=g)
        settle_due_groups(config, SETTLE)
        written = [(e.id, e.group) for e in Event.select().order_by(Event.id)]
        db.close()
        assert len(written) == 7 * GROUPS

        rnd, ticks = random.Random(20261203), KilledTicks(path, SETTLE)

        def arm():
            count, mode, nth = [0], rnd.choice(["before", "after"]), rnd.randint(1, 8)

            def answer(event):
                count[0] += 1
                if count[0] != nth:
                    return 200
                if mode == "after":
                    receiver.received.append(event)  # kept, but bridge dies before it hears so
                ticks.kill("after keeping it" if mode == "after" else "on arrival")
                time.sleep(0.2)  # let it die before the answer is written
                return None
            receiver.answer = answer

        ticks.run(arm, KILLS, 60)
        receiver.answer = lambda event: 200
        ticks.finish()
        kills, runs = ticks.kills, ticks.runs

        assert kills["on arrival"] >= 4 and kills["after keeping it"] >= 4, (kills, runs)
        with db.connection_context():
            assert [(e.id, e.group) for e in Event.select().order_by(Event.id)] == written, "no event written twice"
            assert EventDelivery.select().where(EventDelivery.state != "delivered").count() == 0
        ids = receiver.ids()
        assert sorted(set(ids)) == [i for i, _ in written], "every event received"
        assert len(ids) - len(set(ids)) <= kills["after keeping it"], "again only when bridge did not hear the answer"
        first_seen = list(dict.fromkeys(ids))
        assert first_seen == sorted(first_seen), "in the order written (so in order per group)"


def test_check_and_snippet_say_what_a_custom_shop_needs(config_text, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(with_endpoint(config_text, "https://crm.hand.example/bridge-events"))
    checked = CliRunner().invoke(cli, ["--config", str(path), "check"])
    assert checked.exit_code == 0, checked.output
    assert ("shop hand: Hand Made (custom, https://hand.example, EUR, Europe/Paris, fr/vous), its server sends its "
            "orders, signed, to http://127.0.0.1:8000/api/v1/shops/hand/orders; events to crm at "
            "https://crm.hand.example/bridge-events") in checked.output
    snippet = CliRunner().invoke(cli, ["--config", str(path), "snippet", "hand"])
    assert snippet.exit_code == 0
    assert snippet.stdout.strip() == '<script src="http://127.0.0.1:8000/widget.js" data-shop="hand" async></script>'
    assert 'data-order-id="1042" data-order-key=' in snippet.stderr and "cookie bridge_hand" in snippet.stderr
