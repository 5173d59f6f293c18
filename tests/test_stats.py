"""The owner's statistics, proven against figures worked out by hand on a small seeded history.

History on shop1 (Europe/Paris; group1 tiers: 2 buyers 5%, 3 buyers 10%), T0 = 1 July 12:00 in Paris:
- order 1, alice, 100.00, founds a group at T0;
- order 2, bob, 50.00, joins through alice's plain link 1 h later (brought by alice);
- order 4, alice again, 60.00, through the link 2 h later: refused (the same person), founds its own group;
- order 3, carol, 80.00, joins through bob's tagged link 44 h later (3 July, 08:00), then 30.00 refunded;
- order 5, dave, 40.00, founds a group on 2 July, nobody follows.
shop2 (USD) has its own group of two; nothing of it may show in shop1's figures.
"""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.facts.ingest import ingest
from bridge.ledger.grants import ledger_balances, settle_due_groups
from bridge.ledger.rollup import SETTLE, roll_up
from bridge.ledger.stats import Period, shop_stats
from bridge.sharing.clicks import record_click
from bridge.sharing.events import BadEvent, record_event
from bridge.sharing.targets import resolve
from bridge.storage import bind
from bridge.storage.bulk import chunks
from bridge.storage.db import db
from bridge.storage.models import Click, GroupRow, LinkActivity, LinkEvent, MemberTag, Payout, StatCount
from bridge.web import create_app
from tests.conftest import migrated_config
from tests.engine_data import T0, order
from tests.engine_data import claim as engine_claim

SHOP2 = """
  - id: shop2
    name: Shop Two
    platform: woocommerce
    url: https://shop2.example
    currency: USD
    timezone: America/New_York
    locale: en
    tone: vous
    woocommerce: {consumer_key: ck_two, consumer_secret: cs_two}
"""
GROUP2 = """
  - id: group2
    type: social_buying
    shop: shop2
    window: 48h
    hold: 14d
    eligible_products: any
    tiers: [{buyers: 2, cashback: 5%}]
"""
HOUR = timedelta(hours=1)


def shop1(oid, minutes, total, email, **changes):
    return replace(order(oid, minutes=minutes, total=total, email=email), shop="shop1", **changes)


def claim(order_id, founder_id, sponsor_id=None, minutes=0, shop="shop1"):
    return replace(engine_claim(order_id, founder_id, sponsor_id, minutes=minutes), shop=shop)


def history_text(config_text: str) -> str:
    """The test configuration with a second shop (USD, New York) and its campaign."""
    return config_text.replace("campaigns:", SHOP2.rstrip() + "\ncampaigns:") + GROUP2


def seed_history(config, referrer: str | None = None) -> tuple[str, dict]:
    """Store the history above (orders, claims, clicks, events, settlement); return group 1's code and the tags."""
    orders = [shop1(1, 0, "100.00", "alice@example.test"), shop1(2, 60, "50.00", "bob@example.test"),
              shop1(4, 120, "60.00", "alice@example.test"), shop1(3, 20 * 60 + 24 * 60, "80.00", "carol@example.test"),
              shop1(5, 26 * 60, "40.00", "dave@example.test")]
    ingest(config, orders=orders[:3], claims=[claim(2, 1, minutes=60), claim(4, 1, minutes=120)], now=T0 + 3 * HOUR)
    tags = {t.order_id: t.tag for t in MemberTag.select().where(MemberTag.campaign == "group1")}
    ingest(config, orders=orders[3:], claims=[claim(3, 1, sponsor_id=2, minutes=44 * 60)], now=T0 + 45 * HOUR)
    refund = replace(orders[3], refunded=Decimal("30.00"), modified_at=T0 + 46 * HOUR)
    ingest(config, orders=[refund], claims=[], now=T0 + 46 * HOUR)
    usd = [replace(order(21, 0, total="20.00"), shop="shop2", currency="USD"),
           replace(order(22, 30, total="30.00"), shop="shop2", currency="USD")]
    ingest(config, orders=usd, claims=[claim(22, 21, minutes=30, shop="shop2")], now=T0 + HOUR)

    code = GroupRow.get(GroupRow.founder_id == "1", GroupRow.campaign == "group1").code
    target = resolve(config, code)
    other = resolve(config, GroupRow.get(GroupRow.campaign == "group2").code)
    record_event(config, "shop1", "view", f"{code}/{tags['1']}", None, T0 + timedelta(minutes=5))
    record_event(config, "shop1", "view", f"{code}/{tags['1']}", None, T0 + timedelta(minutes=6))
    record_event(config, "shop1", "share", f"{code}/{tags['1']}", "whatsapp", T0 + timedelta(minutes=10))
    record_click(target, tags["1"], "10.1.1.1", "Mobile Safari", None, "whatsapp", T0 + timedelta(minutes=30))
    record_click(target, tags["1"], "10.1.1.2", "Chrome", referrer or "https://l.facebook.com/l.php", "facebook",
                 T0 + timedelta(minutes=40))
    record_click(target, tags["1"], "10.1.1.3", None, None, None, T0 + timedelta(minutes=50))
    record_event(config, "shop1", "landing", f"{code}.{tags['1']}", None, T0 + timedelta(minutes=51))
    record_click(target, tags["2"], "10.1.1.4", "Chrome", None, "whatsapp", T0 + 20 * HOUR)
    record_event(config, "shop1", "landing", f"{code}.{tags['2']}", None, T0 + 20 * HOUR)
    record_click(other, None, "10.2.2.2", None, None, "sms", T0 + timedelta(minutes=20))
    settle_due_groups(config, T0 + timedelta(days=17))
    return code, tags


@pytest.fixture
def history(config_text, tmp_path):
    config = migrated_config(history_text(config_text), tmp_path)
    db.connect(reuse_if_open=True)
    code, tags = seed_history(config)
    yield config, code, tags
    db.close()


def test_the_figures_of_a_seeded_history_are_the_hand_computed_ones(history):
    config, code, tags = history
    # alice's 10.00 is paid out (by the delivery job, in production), then half her order is refunded:
    # she owes 5.00 back (10% of the 50.00 refunded), a clawback that nothing has recovered yet
    Payout.update(state="paid", external_ref="coupon ABC").where(Payout.key == "payout:group1:group:1:1").execute()
    alice = replace(shop1(1, 0, "100.00", "alice@example.test"), refunded=Decimal("50.00"), modified_at=T0 + timedelta(days=18))
    ingest(config, orders=[alice], claims=[], now=T0 + timedelta(days=18))
    assert roll_up(T0 + timedelta(days=20)) == 10  # 5 clicks and 5 events (both shops), each counted once
    assert roll_up(T0 + timedelta(days=20)) == 0
    july = Period(date(2026, 7, 1), date(2026, 7, 31), config.shop("shop1").zone)
    figures = shop_stats(config, "shop1", july, now=T0 + timedelta(days=20))
    assert [(s["step"], s["count"], s["rate"]) for s in figures["funnel"]] == [
        ("views", 2, None), ("shares", 1, 0.5), ("clicks", 4, 4.0), ("landings", 2, 0.5), ("orders", 3, 1.5),
        ("joins", 2, 0.6667)]
    assert figures["channels"] == [dict(channel="whatsapp", shares=1, clicks=2), dict(channel="facebook", shares=0, clicks=1),
                                   dict(channel="unknown", shares=0, clicks=1)]
    assert figures["domains"] == [dict(domain="", clicks=3), dict(domain="l.facebook.com", clicks=1)]
    # Group 1 settles at 3 buyers, 10%: alice 10.00, bob 5.00, carol 10% of 50.00 kept = 5.00; order 4 and 5 alone.
    assert figures["money"] == {"EUR": dict(
        revenue_total="130.00", revenue_net="100.00", revenue_eligible="100.00", granted="20.00", paid="10.00",
        pending="10.00", clawed_back="5.00", recovered="0.00", cost="20.00", return_on_cost=5.0)}
    assert figures["virality"] == dict(buyers=5, friends=2, k=0.4, chain_depth=2, sharing_buyers=2,
                                       share_of_buyers_sharing=0.4, median_s_to_first_share=(600 + 19 * 3600) / 2,
                                       median_s_to_first_friend=3600.0)
    assert figures["ambassadors"] == [dict(email="alice@example.test", friends=1, revenue={"EUR": "50.00"}),
                                      dict(email="bob@example.test", friends=1, revenue={"EUR": "50.00"})]
    first, second, third = figures["days"][:3]
    assert (first["day"], first["views"], first["shares"], first["clicks"], first["orders"], first["joins"],
            first["revenue"]) == ("2026-07-01", 2, 1, 3, 2, 1, {"EUR": "50.00"})
    assert (second["day"], second["clicks"], second["landings"], second["orders"], second["joins"],
            second["revenue"]) == ("2026-07-02", 1, 1, 0, 0, {})  # bob's click; dave's order came by no link
    assert (third["day"], third["clicks"], third["orders"], third["joins"], third["revenue"]) == (
        "2026-07-03", 0, 1, 1, {"EUR": "50.00"})
    assert sum(d["orders"] for d in figures["days"]) == 3 and len(figures["days"]) == 31
    assert ledger_balances()[1] == []  # the ledger still reconciles


def test_a_period_and_a_campaign_narrow_the_figures_and_currencies_stay_apart(history):
    config, _, _ = history
    roll_up(T0 + timedelta(days=20))
    zone = config.shop("shop1").zone
    second_day = shop_stats(config, "shop1", Period(date(2026, 7, 2), date(2026, 7, 3), zone))
    assert [s["count"] for s in second_day["funnel"]] == [0, 0, 1, 1, 1, 1]
    assert second_day["money"]["EUR"]["revenue_net"] == "50.00" and second_day["money"]["EUR"]["granted"] == "0.00"
    usd = shop_stats(config, "shop2", Period(date(2026, 7, 1), date(2026, 7, 31), config.shop("shop2").zone))
    assert list(usd["money"]) == ["USD"] and usd["money"]["USD"]["revenue_total"] == "30.00"
    assert usd["channels"] == [dict(channel="sms", shares=0, clicks=1)]
    with pytest.raises(LookupError):
        shop_stats(config, "shop1", Period(date(2026, 7, 2), date(2026, 7, 2), zone), "group2")


def test_young_rows_wait_and_two_roll_ups_never_count_a_row_twice(history):
    config, _, _ = history
    # At 12:07 (+ the settling delay) only the two views are old enough; the share (12:10) and every click,
    # even shop2's of 12:20 behind younger ones, wait for their turn
    assert roll_up(T0 + timedelta(minutes=7) + SETTLE) == 2
    assert roll_up(T0 + timedelta(minutes=7) + SETTLE) == 0
    assert roll_up(T0 + timedelta(days=20)) == 8
    assert sum(row.count for row in StatCount.select().where(StatCount.dim == "")) == 10


def test_bad_events_are_refused_and_nothing_is_stored(history):
    config, code, tags = history
    before = LinkEvent.select().count()
    for kind, link, channel in (("buy", code, None), ("view", "NOSUCHCODE1", None), ("share", code, "pigeon"),
                                ("view", f"{code}/bad-tag!", None)):
        with pytest.raises(BadEvent):
            record_event(config, "shop1", kind, link, channel, T0)
    with pytest.raises(BadEvent):  # another shop's link
        record_event(config, "shop2", "view", code, None, T0)
    client = create_app(config).test_client()
    for body in (b"k=share&c=" + code.encode() + b"&via=smoke", b"\xff\xfe", b"k=view", b"c=" + code.encode()):
        answer = client.post("/api/v1/shops/shop1/events", data=body, content_type="text/plain")
        assert answer.status_code == 400 and answer.json["error"]["code"] == "bad_event"
    assert client.post("/api/v1/shops/nope/events", data=b"k=view&c=" + code.encode()).status_code == 404
    assert LinkEvent.select().count() == before
    sent = client.post("/api/v1/shops/shop1/events", data=f"k=share&c={code}%2F{tags['2']}&via=sms",
                       content_type="text/plain;charset=UTF-8", headers={"Origin": "https://shop1.example"})
    assert sent.status_code == 204
    stored = LinkEvent.select().order_by(LinkEvent.id.desc()).get()
    assert (stored.kind, stored.code, stored.tag, stored.channel) == ("share", code, tags["2"], "sms")


def test_bridge_stats_prints_the_same_figures_as_text_and_json(history, tmp_path):
    config, _, _ = history
    runner = CliRunner()
    args = ["--config", str(tmp_path / "config.yaml"), "stats", "shop1", "--since", "2026-07-01", "--until", "2026-07-31"]
    as_json = runner.invoke(main, args + ["--json"])
    assert as_json.exit_code == 0, as_json.output
    figures = json.loads(as_json.output)
    assert figures["virality"]["k"] == 0.4 and figures["money"]["EUR"]["granted"] == "20.00"
    text = runner.invoke(main, args)
    assert text.exit_code == 0 and "joins            2 (67%)" in text.output
    assert "brought 100,00\u00a0€ net of refunds" in text.output and "alice@example.test (1)" in text.output
    wrong = runner.invoke(main, args + ["--campaign", "nope"])
    assert wrong.exit_code == 2 and "no campaign 'nope'" in wrong.output
    backwards = runner.invoke(main, ["--config", str(tmp_path / "config.yaml"), "stats", "shop1", "--since", "2026-08-01",
                                     "--until", "2026-07-01"])
    assert backwards.exit_code == 2 and "--since is after --until" in backwards.output


def test_bridge_users_hash_password_gives_a_hash_the_login_accepts(tmp_path):
    from argon2 import PasswordHasher

    runner = CliRunner()
    done = runner.invoke(main, ["users", "hash-password", "--password-stdin"], input="a long password 42\n")
    assert done.exit_code == 0 and done.output.startswith("$argon2id$")
    assert PasswordHasher().verify(done.output.strip(), "a long password 42")
    short = runner.invoke(main, ["users", "hash-password", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    prompted = runner.invoke(main, ["users", "hash-password"], input="another long one\nanother long one\n")
    assert prompted.exit_code == 0 and prompted.output.strip().splitlines()[-1].startswith("$argon2id$")


def _roll_up_in_a_process(url: str, now, start, out) -> None:
    bind(url)
    start.wait(30)
    with db.connection_context():
        out.put(roll_up(now))


def test_two_processes_rolling_up_at_once_count_every_click_once(history):
    """Forked like the worker and a web process: both roll up 30,000 new clicks at the same moment."""
    config, code, tags = history
    target = resolve(config, code)
    rows = [dict(shop="shop1", campaign="group1", code=target.code, tag=tags["1"], at=T0 + timedelta(seconds=i),
                 channel=("whatsapp", "sms", None)[i % 3]) for i in range(30000)]
    with db.atomic():
        for part in chunks(rows, 500):
            Click.insert_many(part).execute()
    url = config.server.database_url
    db.close()
    db.obj.close_all()  # a forked child must not share (and close) the parent's pooled connections
    fork = multiprocessing.get_context("fork")
    start, out = fork.Event(), fork.Queue()
    later = T0 + timedelta(days=20)
    workers = [fork.Process(target=_roll_up_in_a_process, args=(url, later, start, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    counted = [out.get(timeout=120), out.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=60)
    assert sum(counted) == 30000 + 10  # the seeded history's 10 rows and the new clicks, once in all
    db.connect(reuse_if_open=True)
    assert sum(row.count for row in StatCount.select().where(StatCount.dim == "")) == 30010
    assert LinkActivity.get((LinkActivity.code == target.code) & (LinkActivity.tag == tags["1"])).clicks == 30000 + 3


def test_a_roll_up_can_stop_after_a_few_batches(history, monkeypatch):
    import bridge.ledger.rollup as rollup

    monkeypatch.setattr(rollup, "BATCH", 3)  # 5 clicks and 5 events: two batches of each table would be needed
    assert roll_up(T0 + timedelta(days=20), batches=1) == 6
    assert roll_up(T0 + timedelta(days=20)) == 4


def test_a_budget_says_what_is_used_left_and_when_it_runs_out(config_text, tmp_path):
    text = history_text(config_text).replace("  - id: group1\n    type: social_buying\n",
                                             "  - id: group1\n    type: social_buying\n    budget: \"50.00\"\n")
    config = migrated_config(text, tmp_path)
    db.connect(reuse_if_open=True)
    seed_history(config)  # 20.00 granted when group 1 settled, on 18 July
    now = T0 + timedelta(days=20)
    figures = shop_stats(config, "shop1", Period(date(2026, 7, 1), date(2026, 7, 31), config.shop("shop1").zone), now=now)
    # 20.00 in the last 30 days: the 30.00 left last 45 more days at that pace
    assert figures["budgets"] == [dict(campaign="group1", currency="EUR", budget="50.00", used="20.00", left="30.00",
                                       runs_out=(now + timedelta(days=45)).date().isoformat())]
    db.close()
