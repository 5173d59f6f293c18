"""Benchmark: the dashboard and `bridge stats` on a year of history, against reading one precomputed row.

    python bench/dashboard.py [--clicks 1000000] [--orders 100000] [--database sqlite,postgresql] [--runs 15]

Seeds a year (one shop, one social-buying campaign): --orders paid orders about 5 minutes apart, most groups
of 1 to 5 buyers (about 30,000 groups for 100,000 orders), settled; --clicks clicks on their links and a fifth
as many link events (views, shares, landings), rolled up. Then, for periods of 7, 30, 90 and 365 days ending
on the last day, it times (median and p95 of --runs): the dashboard page (GET through the Flask app, charts
drawn and the page rendered), `bridge stats --json` (the command's own function, without Python's start-up),
and the baseline: reading one precomputed row of the hourly counts. Target: p95 <= 300 ms for the 30-day
dashboard on this 2-core machine, and a cost that grows no faster than the period. The roll-up of the
seeded clicks is timed too. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from click.testing import CliRunner  # noqa: E402

from bench.ingest import CONFIG as INGEST_CONFIG  # noqa: E402
from bench.ingest import synthetic  # noqa: E402
from bridge.cli import main as cli  # noqa: E402
from bridge.config import load_config_text  # noqa: E402
from bridge.facts.ingest import ingest  # noqa: E402
from bridge.ledger.buyers import refresh_buyers  # noqa: E402
from bridge.ledger.grants import settle_due_groups  # noqa: E402
from bridge.ledger.rollup import roll_up  # noqa: E402
from bridge.storage import bind, upgrade  # noqa: E402
from bridge.storage.bulk import chunks  # noqa: E402
from bridge.storage.db import db  # noqa: E402
from bridge.storage.models import Click, GroupRow, LinkEvent, MemberTag, StatCount  # noqa: E402
from bridge.web import create_app  # noqa: E402
from bridge.web.logins import hash_password  # noqa: E402
from tests.pgserver import PostgresServer  # noqa: E402

T0 = datetime(2025, 12, 1, tzinfo=timezone.utc)
PASSWORD = "bench-password-0123"
# bench/ingest.py's shop and campaign, in French, with an owner who logs in
CONFIG = INGEST_CONFIG.replace("timezone: Europe/Paris,", "timezone: Europe/Paris, locale: fr,") + """users:
  - {{name: owner, password_hash: '{hash}', shops: [s]}}
"""
PERIODS = (7, 30, 90, 365)
CHANNELS = ("whatsapp", "messenger", "facebook", "x", "email", "sms", "copy", "share", None)
DOMAINS = ("l.facebook.com", "t.co", "mail.google.com", "www.instagram.com", None, None)


def seed(config, orders_count: int, clicks_count: int) -> dict:
    """Store the history; return how long each part took."""
    # a year of orders from bench/ingest.py's generator; a buyer in two orders on average
    orders, claims = synthetic(orders_count, start=T0, step=timedelta(days=365) / orders_count, people=orders_count // 2)
    by_order = {c.order_id: c for c in claims}
    took = {}
    took["ingest_s"] = took["settle_s"] = 0.0
    for n, part in enumerate(chunks(orders, 200)):
        started = time.perf_counter()
        ingest(config, orders=part, claims=[by_order[o.id] for o in part if o.id in by_order], now=part[-1].paid_at)
        took["ingest_s"] += time.perf_counter() - started
        if n % 25 == 24:  # about every 18 days, as the worker would: rewards are granted all along the year
            started = time.perf_counter()
            settle_due_groups(config, part[-1].paid_at)
            took["settle_s"] += time.perf_counter() - started
    started = time.perf_counter()
    settle_due_groups(config, T0 + timedelta(days=400))
    took["settle_s"] += time.perf_counter() - started
    groups = [(g.code, g.founder_id, g.opened_at) for g in GroupRow.select(GroupRow.code, GroupRow.founder_id, GroupRow.opened_at)]
    tags = dict(MemberTag.select(MemberTag.order_id, MemberTag.tag).tuples())
    rnd = random.Random(11)
    started = time.perf_counter()
    clicks = []
    for n in range(clicks_count):
        code, founder, opened = groups[n % len(groups)]
        clicks.append(dict(shop="s", campaign="c", code=code, tag=tags.get(founder), at=opened + timedelta(minutes=rnd.randint(1, 2880)),
                           channel=rnd.choice(CHANNELS), ip_hash=None, ua_family="chrome", referrer_domain=rnd.choice(DOMAINS)))
        if len(clicks) == 5000:
            with db.atomic():
                for part in chunks(clicks, 500):
                    Click.insert_many(part).execute()
            clicks = []
    with db.atomic():
        for part in chunks(clicks, 500):
            Click.insert_many(part).execute()
    events = []
    for n in range(clicks_count // 5):
        code, founder, opened = groups[n % len(groups)]
        events.append(dict(shop="s", campaign="c", code=code, tag=tags.get(founder), kind=rnd.choice(("view", "share", "landing")),
                           channel=rnd.choice(CHANNELS[:-1]), at=opened + timedelta(minutes=rnd.randint(0, 600))))
    with db.atomic():
        for part in chunks(events, 500):
            LinkEvent.insert_many(part).execute()
    took["insert_clicks_s"] = time.perf_counter() - started
    started = time.perf_counter()
    counted = roll_up(T0 + timedelta(days=400))
    took["roll_up_s"] = time.perf_counter() - started
    took["rolled_up_rows"] = counted
    took["rolled_up_rows_per_s"] = round(counted / took["roll_up_s"])
    started = time.perf_counter()
    took["buyer_marks"] = refresh_buyers(config)
    took["buyer_rows_s"] = time.perf_counter() - started
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in took.items()}


def timed(call, runs: int) -> dict:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))], 2)}


def run(url: str, orders: int, clicks: int, runs: int, folder: str) -> dict:
    bind(url)
    db.connect(reuse_if_open=True)
    upgrade()
    text = CONFIG.format(db=url, hash=hash_password(PASSWORD))
    config = load_config_text(text)
    with open(os.path.join(folder, "config.yaml"), "w") as handle:
        handle.write(text)
    gc.collect()
    seeded = seed(config, orders, clicks)
    seeded.update(orders=orders, clicks=clicks, groups=GroupRow.select().count(), link_events=LinkEvent.select().count())
    db.close()
    app = create_app(config)
    client = app.test_client()
    token = client.get("/admin/login").get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/admin/login", data={"csrf": token, "name": "owner", "password": PASSWORD}).status_code == 303
    last = (T0 + timedelta(days=364)).astimezone(config.shop("s").zone).date()
    row_id = StatCount.select(StatCount.id).order_by(StatCount.id.desc()).scalar()
    db.close()
    runner = CliRunner()
    results = {"seeded": seeded}

    def baseline():
        with db.connection_context():
            StatCount.get_by_id(row_id)

    results["baseline_one_row"] = timed(baseline, runs * 4)
    for days in PERIODS:
        since = last - timedelta(days=days - 1)
        query = f"?since={since}&until={last}"

        def page(query=query):
            answer = client.get(f"/admin/shops/s{query}")
            assert answer.status_code == 200, answer.status_code

        def stats(since=since):
            done = runner.invoke(cli, ["--config", os.path.join(folder, "config.yaml"), "stats", "s", "--since", str(since),
                                       "--until", str(last), "--json"])
            assert done.exit_code == 0, done.output

        page()  # the first call of each period rolls up nothing new, warms the memo of the templates
        results[f"dashboard_{days}d"] = timed(page, runs)
        results[f"stats_{days}d"] = timed(stats, runs)
    base = results["baseline_one_row"]["median_ms"] or 0.01
    for days in PERIODS:
        results[f"dashboard_{days}d"]["ratio_to_baseline"] = round(results[f"dashboard_{days}d"]["median_ms"] / base, 1)
    results["growth_365d_over_30d"] = round(results["dashboard_365d"]["median_ms"] / results["dashboard_30d"]["median_ms"], 2)
    db.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100000)
    parser.add_argument("--clicks", type=int, default=1000000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database", default="sqlite,postgresql", help="which databases, comma-separated")
    args = parser.parse_args()
    results = {}
    for name in args.database.split(","):
        with tempfile.TemporaryDirectory() as folder:
            if name == "sqlite":
                results[name] = run(f"sqlite:///{folder}/bridge.db", args.orders, args.clicks, args.runs, folder)
            else:
                server = PostgresServer().start()
                try:
                    results[name] = run(server.create_database("dashboard"), args.orders, args.clicks, args.runs, folder)
                finally:
                    server.stop()
        print(name, json.dumps(results[name]), flush=True)
    results["targets_met"] = {f"{name} dashboard_30d p95 <= 300 ms": results[name]["dashboard_30d"]["p95_ms"] <= 300
                              for name in args.database.split(",")}
    results["machine"] = f"{os.cpu_count()} cores, {date.today()}"
    print(json.dumps(results))


if __name__ == "__main__":
    main()
