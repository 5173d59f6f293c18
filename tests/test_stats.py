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
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from click.testing import CliRunner
from peewee import fn

from bridge.cli import main
from bridge.facts.ingest import ingest
from bridge.ledger.buyers import refresh_buyers
from bridge.ledger.grants import ledger_balances, settle_due_groups
from bridge.ledger.rollup import SETTLE, roll_up
from bridge.ledger.stats import Period, shop_stats
from bridge.sharing.clicks import record_click
from bridge.sharing.events import BadEvent, record_event
from bridge.sharing.targets import resolve
from bridge.storage import bind
from bridge.storage.bulk import chunks
from bridge.storage.db import db
from bridge.storage.models import (
    BuyerMark,
    BuyerStat,
    Click,
    GroupRow,
    LinkActivity,
    LinkEvent,
    MemberTag,
    Payout,
    StatCount,
    StatDay,
)
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
    assert refresh_buyers(config) > 0  # the orders, decisions and first uses marked since: their rows worked out
    assert refresh_buyers(config) == 0
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
    refresh_buyers(config)
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


def _race(target, *args) -> list:
    """Fork two processes (as the worker and a web process are) that run `target(*args, start, out)` at the same
    moment; return what each put on `out`."""
    db.close()
    db.obj.close_all()  # a forked child must not share (and close) the parent's pooled connections
    fork = multiprocessing.get_context("fork")
    start, out = fork.Event(), fork.Queue()
    workers = [fork.Process(target=target, args=(*args, start, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    results = [out.get(timeout=120), out.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return results


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
    counted = _race(_roll_up_in_a_process, url, T0 + timedelta(days=20))
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


def _figures(config, since=date(2026, 7, 1), until=date(2026, 7, 31)):
    return shop_stats(config, "shop1", Period(since, until, config.shop("shop1").zone), now=T0 + timedelta(days=20))


def test_a_later_refund_or_first_share_reaches_the_figures_once_rolled_up(history):
    config, _, _ = history
    roll_up(T0 + timedelta(days=20))
    refresh_buyers(config)
    before = _figures(config)
    assert before["money"]["EUR"]["revenue_net"] == "100.00" and before["virality"]["sharing_buyers"] == 2
    # bob has 20.00 of his 50.00 refunded; dave's link is shared an hour after his order (26 h after T0)
    bob = replace(shop1(2, 60, "50.00", "bob@example.test"), refunded=Decimal("20.00"), modified_at=T0 + timedelta(days=19))
    ingest(config, orders=[bob], claims=[], now=T0 + timedelta(days=19))
    dave = MemberTag.get((MemberTag.campaign == "group1") & (MemberTag.order_id == "5")).tag
    daves_code = GroupRow.get((GroupRow.campaign == "group1") & (GroupRow.founder_id == "5")).code
    record_event(config, "shop1", "share", f"{daves_code}/{dave}", "sms", T0 + 27 * HOUR)
    assert _figures(config)["money"]["EUR"]["revenue_net"] == "100.00"  # not rolled up yet: the rows are as they were
    assert roll_up(T0 + timedelta(days=20)) == 1
    assert refresh_buyers(config) >= 2  # bob's order (its snapshot and decision) and dave's first share
    after = _figures(config)
    assert after["money"]["EUR"]["revenue_net"] == "80.00" and after["money"]["EUR"]["revenue_total"] == "130.00"
    assert after["ambassadors"][0] == dict(email="alice@example.test", friends=1, revenue={"EUR": "30.00"})
    # alice shared after 600 s, bob's link was clicked after 19 h, dave's shared after 1 h: the middle one
    assert after["virality"]["sharing_buyers"] == 3 and after["virality"]["median_s_to_first_share"] == 3600.0
    assert after["days"][0]["revenue"] == {"EUR": "30.00"}  # bob's day, net of his refund


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "Australia/Adelaide", "Asia/Kathmandu"])
def test_the_database_groups_hours_into_the_shops_days_across_changes_of_offset(history, zone):
    """Every UTC hour of 2026 counted once: each day of the zone gets exactly the hours whose local date it is
    (23 or 25 on the days the clocks change, whatever the offset: +5:45, +9:30/+10:30, -5/-4, +1/+2)."""
    from zoneinfo import ZoneInfo

    config, _, _ = history
    StatCount.delete().execute()
    first = datetime(2025, 12, 31, tzinfo=timezone.utc)
    hours = [first + i * HOUR for i in range(24 * 367)]
    with db.atomic():
        for part in chunks([dict(shop="shop1", campaign="group1", hour=h, kind="view", dim="", count=1) for h in hours], 500):
            StatCount.insert_many(part).execute()
    tz = ZoneInfo(zone)
    period = Period(date(2026, 1, 1), date(2026, 12, 31), tz)
    assert len(period.offsets) == (1 if zone == "Asia/Kathmandu" else 3)
    expected = Counter(h.astimezone(tz).date() for h in hours if period.since <= h.astimezone(tz).date() <= period.until)
    figures = shop_stats(config, "shop1", period, now=T0)
    assert {date.fromisoformat(d["day"]): d["views"] for d in figures["days"]} == expected
    assert sorted(set(expected.values())) == ([24] if zone == "Asia/Kathmandu" else [23, 24, 25])


def _refresh_in_a_process(text_path: str, start, out) -> None:
    from bridge.config import load_config

    config = load_config(text_path)
    bind(config.server.database_url)
    start.wait(30)
    with db.connection_context():
        out.put(refresh_buyers(config))


def test_two_processes_refreshing_at_once_take_each_mark_once_and_agree(history, tmp_path, monkeypatch):
    """Forked like the worker and a web process: both work out 400 marked orders at the same moment, in small batches."""
    import bridge.ledger.buyers as buyers

    config, _, _ = history
    refresh_buyers(config)
    expected = sorted(BuyerStat.select().tuples())
    for _ in range(100):  # every order of shop1 marked again, 100 times over: 500 marks
        buyers.mark(("shop1", str(i)) for i in (1, 2, 3, 4, 5))
    monkeypatch.setattr(buyers, "BATCH", 7)
    done = _race(_refresh_in_a_process, str(tmp_path / "config.yaml"))
    db.connect(reuse_if_open=True)
    assert sum(done) == 500 and BuyerMark.select().count() == 0
    assert sorted(BuyerStat.select().tuples()) == expected  # (ids included: rows are updated in place, never doubled)


@pytest.mark.parametrize("zone", ["Europe/Paris", "Asia/Kathmandu"])
def test_channels_and_sites_of_any_period_match_the_clicks_it_holds(history, zone):
    """Whole UTC days come from the daily rows and the period's ends from the hourly ones: every period of a week
    of clicks (one every 7 minutes, channels and sites in turn) counts exactly the clicks of its days' hours."""
    from zoneinfo import ZoneInfo

    config, code, tags = history
    roll_up(T0 + timedelta(days=20))  # the history's clicks, all in early July
    channels, sites = ("whatsapp", "sms", None), ("t.co", None, "l.facebook.com", "mail.example")
    first = datetime(2026, 8, 1, tzinfo=timezone.utc)
    rows = [dict(shop="shop1", campaign="group1", code=code, tag=tags["1"], at=first + timedelta(minutes=7 * i),
                 channel=channels[i % 3], referrer_domain=sites[i % 4]) for i in range(7 * 24 * 60 // 7)]
    with db.atomic():
        for part in chunks(rows, 500):
            Click.insert_many(part).execute()
    assert roll_up(first + timedelta(days=30)) == len(rows)
    daily = dict(StatDay.select(StatDay.dim, fn.SUM(StatDay.count)).group_by(StatDay.dim).tuples())
    assert daily == dict(StatCount.select(StatCount.dim, fn.SUM(StatCount.count)).where(StatCount.dim != "").group_by(
        StatCount.dim).tuples())  # the same counts, by day
    tz = ZoneInfo(zone)
    for since, until in ((date(2026, 8, 1), date(2026, 8, 7)), (date(2026, 8, 2), date(2026, 8, 2)),
                         (date(2026, 8, 3), date(2026, 8, 5)), (date(2026, 7, 30), date(2026, 8, 1))):
        period = Period(since, until, tz)
        figures = shop_stats(config, "shop1", period, now=first)
        start, end = period.bounds()  # (counts are hourly: +5:45 sees each click in the hour it began)
        inside = [r for r in rows if start <= r["at"].replace(minute=0) < end]
        by_channel = Counter(r["channel"] or "unknown" for r in inside)
        assert {c["channel"]: c["clicks"] for c in figures["channels"]} == dict(by_channel), (since, until)
        assert {d["domain"]: d["clicks"] for d in figures["domains"]} == dict(Counter(r["referrer_domain"] or "" for r in inside))
