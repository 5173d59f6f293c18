"""Reading a WooCommerce shop's orders: backfill, changes during a poll, one-second pages, the cursor."""

import math
import random
import socket
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.config import load_config_text
from bridge.facts.sync import sync_shop
from bridge.storage.db import db, is_postgresql
from bridge.storage.models import MembershipRow, OrderFact, SyncCursor
from tests.conftest import migrated_config
from tests.fake_woocommerce import FakeWooCommerce, config_for, make_order, touch
from tests.wc_fixtures import rest_json

T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
TEMPLATE = rest_json("19-order-get-after-refund.response.json")


@pytest.fixture
def shop():
    with FakeWooCommerce("ck_test_key", "cs_test_secret_value") as fake:
        yield fake


@pytest.fixture
def config(config_text, shop, tmp_path):
    text = config_for(config_text, shop.url, sync="backfill_from: 2026-01-01;overlap: 10m")
    loaded = migrated_config(text, tmp_path)
    db.connect(reuse_if_open=True)
    yield loaded
    db.close()


def seed(shop, count, spread_seconds=86400, start=T0):
    rnd = random.Random(count)
    for i in range(1, count + 1):
        shop.put_order(make_order(i, start + timedelta(seconds=rnd.randint(0, spread_seconds)), TEMPLATE))


def list_requests(shop):
    return sum(1 for method, path, _ in shop.requests if path.endswith("/orders"))


def test_backfill_reads_every_order_once_with_few_requests(config, shop):
    seed(shop, 1000)
    result = sync_shop(config, "shop1", NOW)
    assert result.orders == 1000 and OrderFact.select().count() == 1000
    assert MembershipRow.select().count() == 1000  # every order decided once
    assert list_requests(shop) <= math.ceil(1000 / 99) + 1  # ~100 per request; the boundary second is re-read
    newest = max(datetime.fromisoformat(o["date_modified_gmt"]) for o in shop.orders.values())
    assert SyncCursor.get().modified_after == newest.replace(tzinfo=timezone.utc)
    if is_postgresql():  # a large backfill leaves the planner with fresh statistics
        analyzed = db.execute_sql("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'order_fact'")
        assert analyzed.fetchone()[0] is not None


def test_orders_changing_during_the_poll_are_neither_missed_nor_double_counted(config, shop):
    seed(shop, 500)
    rnd = random.Random(5)
    clock = [T0 + timedelta(days=2)]
    changed = set()

    def modify_some(fake):
        if len(changed) < 200:
            for order_id in rnd.sample(sorted(fake.orders), 40):
                clock[0] += timedelta(seconds=1)
                fake.put_order(touch(fake.orders[order_id], clock[0]))
                changed.add(order_id)

    shop.before_list = modify_some
    sync_shop(config, "shop1", NOW)
    stored = {o.order_id: o.modified_at for o in OrderFact.select()}
    assert len(stored) == 500 and len(changed) >= 150
    for order_id, order in shop.orders.items():  # the newest version of every order is the one kept
        assert stored[str(order_id)] == datetime.fromisoformat(order["date_modified_gmt"]).replace(tzinfo=timezone.utc)
    assert MembershipRow.select().count() == 500


def test_a_full_page_within_one_second_is_read_by_page(config, shop):
    seed(shop, 250, spread_seconds=0)
    assert sync_shop(config, "shop1", NOW).orders == 250
    assert OrderFact.select().count() == 250


def test_the_cursor_overlaps_and_never_passes_the_sync_start(config, shop):
    seed(shop, 300)
    sync_shop(config, "shop1", NOW)
    cursor = SyncCursor.get().modified_after
    shop.put_order(make_order(301, cursor + timedelta(minutes=1), TEMPLATE))
    again = sync_shop(config, "shop1", NOW)
    assert again.since == cursor - timedelta(minutes=10)
    assert 1 <= again.orders < 300 and OrderFact.select().count() == 301
    shop.put_order(make_order(302, NOW + timedelta(days=1), TEMPLATE))  # a shop clock ahead of ours
    sync_shop(config, "shop1", NOW)
    assert SyncCursor.get().modified_after == NOW


def test_first_sync_starts_at_backfill_from(config, shop):
    shop.put_order(make_order(1, datetime(2025, 12, 31, tzinfo=timezone.utc), TEMPLATE))
    shop.put_order(make_order(2, datetime(2026, 1, 2, tzinfo=timezone.utc), TEMPLATE))
    result = sync_shop(config, "shop1", NOW)
    assert result.since == datetime(2026, 1, 1, tzinfo=timezone.utc) and result.orders == 1


def test_sync_command(config, shop, tmp_path):
    seed(shop, 120)
    db.close()
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(tmp_path / "config.yaml"), "sync", "shop1"])
    assert result.exit_code == 0, result.output
    assert "shop1: read 120 order(s) in 2 page(s) changed since 2026-01-01T00:00:00+00:00" in result.output
    unknown = runner.invoke(main, ["--config", str(tmp_path / "config.yaml"), "sync", "nope"])
    assert unknown.exit_code == 2 and "no shop 'nope'" in unknown.output
    shop.server.shutdown()
    shop.server.server_close()
    down = runner.invoke(main, ["--config", str(tmp_path / "config.yaml"), "sync", "shop1"])
    assert down.exit_code == 1 and "cannot reach the shop" in down.output


def test_the_scheduled_poll_loses_nothing_while_the_shop_is_down_for_an_hour(config, shop, caplog):
    from dataclasses import replace

    from bridge.schedule.jobs import run_due_jobs
    from bridge.schedule.plan import sync_jobs
    from bridge.storage.models import JobRun

    def tick(cfg, now):
        return run_due_jobs(sync_jobs(cfg), now, "test-owner", timedelta(minutes=5))

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there once closed
    down = replace(config, shops=(replace(config.shop("shop1"), url=dead),))
    seed(shop, 100)
    start = T0 + timedelta(days=2)
    assert tick(config, start) == {"sync_shop1": "read 100 orders in 1 pages"}
    cursor = SyncCursor.get().modified_after

    rnd = random.Random(7)
    for minute in range(5, 61, 5):  # an hour away: the shop changes, every poll fails
        for order_id in rnd.sample(range(1, 101), 3):
            shop.put_order(touch(shop.orders[order_id], start + timedelta(minutes=minute, seconds=order_id)))
        shop.put_order(make_order(100 + minute, start + timedelta(minutes=minute), TEMPLATE))
        result = tick(down, start + timedelta(minutes=minute))
        assert result["sync_shop1"].startswith("error: ShopUnavailable: cannot reach the shop")
    assert SyncCursor.get().modified_after == cursor
    assert not [r for r in caplog.records if r.exc_info], "an unreachable shop is not a crash"

    back = tick(config, start + timedelta(minutes=65))
    assert back["sync_shop1"].startswith("read ")
    stored = {o.order_id: o.modified_at for o in OrderFact.select()}
    assert len(stored) == len(shop.orders) == 112
    for order_id, order in shop.orders.items():
        assert stored[str(order_id)] == datetime.fromisoformat(order["date_modified_gmt"]).replace(tzinfo=timezone.utc)
    assert JobRun.select().where(JobRun.outcome == "error").count() == 12


def test_shops_with_polling_off_have_no_poll_job(config_text):
    from bridge.schedule.plan import sync_jobs

    text = config_for(config_text, "http://127.0.0.1:1", sync="poll_every: 'off'")
    assert sync_jobs(load_config_text(text)) == []
    assert [j.name for j in sync_jobs(load_config_text(config_text))] == ["sync_shop1"]
