"""Benchmark: synthetic orders through ingestion, engine and closing, on SQLite and PostgreSQL.

    python bench/ingest.py [--orders 100000] [--batch 100] [--database sqlite,postgresql]

Orders arrive in pages of --batch (as a poll delivers them); about 60% of orders come through a
group's link. `orders_per_s` covers storing facts and deciding (ingestion + engine). Closing is timed
apart: after ingestion, the groups of each 10,000-order slice come due in turn and are settled
(`close_s_per_10k_groups`: seconds to close 10,000 groups, from each slice's rate). The baseline,
measured in the same run on the same database, stores the same orders as plain rows without claims
or decisions. The per-slice figures show whether the cost grows with the volume. PostgreSQL is a
throw-away server on loopback (tests/pgserver.py). Targets on SQLite: >= 5,000 orders/s, closing
10,000 groups <= 5 s. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bridge.config import load_config_text  # noqa: E402
from bridge.facts.ingest import ingest  # noqa: E402
from bridge.ledger.grants import settle_due_groups  # noqa: E402
from bridge.rewards.model import Claim, Line, Order  # noqa: E402
from bridge.storage import bind, upgrade  # noqa: E402
from bridge.storage.db import db  # noqa: E402
from bridge.storage.models import GroupRow, OrderFact  # noqa: E402
from bridge.storage.rows import order_to_row  # noqa: E402
from tests.pgserver import PostgresServer  # noqa: E402

T0 = datetime(2026, 7, 1, tzinfo=timezone.utc)
CONFIG = """
server: {{public_url: "http://127.0.0.1:8000", secret_key: bench-secret-key-0123456789, database_url: "{db}"}}
shops:
  - {{id: s, name: S, platform: woocommerce, url: "https://s.example", currency: EUR, timezone: Europe/Paris,
     woocommerce: {{consumer_key: ck, consumer_secret: cs}}}}
campaigns:
  - id: c
    type: social_buying
    shop: s
    window: 48h
    hold: 14d
    eligible_products: any
    tiers: [{{buyers: 2, cashback: "5%"}}, {{buyers: 3, cashback: "8%"}}, {{buyers: 5, cashback: "12%"}}]
"""


def synthetic(count: int, seed: int = 7, start: datetime = T0, step: timedelta = timedelta(minutes=1),
              people: int | None = None):
    """Orders `step` apart from `start`; a founder then 0-4 friends through its link, within the window.
    `people`: how many distinct buyers' e-mails (default: one per order)."""
    rnd = random.Random(seed)
    orders, claims, i = [], [], 0
    while i < count:
        founder = i
        for k in range(min(rnd.choice([1, 1, 2, 3, 4, 5]), count - i)):
            at = start + step * i
            total = Decimal(rnd.randint(1000, 20000)) / 100
            orders.append(Order(shop="s", id=str(i), currency="EUR", paid=True, paid_at=at, created_at=at,
                                modified_at=at, total=total, lines=(Line(f"p{rnd.randint(1, 50)}", 1, total, Decimal(0)),),
                                customer_id=str(i), email=f"buyer{i % (people or count)}@example.com",
                                billing_address=f"{i} street",
                                ip=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}", user_agent="UA"))
            if k:
                claims.append(Claim("s", str(i), str(founder), None, "widget", at))
            i += 1
    return orders, claims


SLICE = 10000


def fresh_database(url: str) -> None:
    bind(url)
    db.connect(reuse_if_open=True)
    upgrade()


def run(count: int, batch: int, urls: tuple[str, str]) -> dict:
    """Measure one database: `urls` are two empty databases, for the baseline and for bridge."""
    orders, claims = synthetic(count)
    by_order = {c.order_id: c for c in claims}
    # The synthetic orders stay alive for the whole run; a real worker holds no such heap. Freeze them
    # so that the garbage collector's rescans of this test data are not counted as bridge's cost.
    gc.collect()
    gc.freeze()
    fresh_database(urls[0])
    started = time.perf_counter()
    for page in range(0, count, batch):
        with db.atomic():
            OrderFact.insert_many([order_to_row(o) for o in orders[page:page + batch]]).execute()
    baseline_s = time.perf_counter() - started
    db.close()

    fresh_database(urls[1])
    config = load_config_text(CONFIG.format(db=urls[1]))
    started = time.perf_counter()
    slices, slice_started = [], started
    for page in range(0, count, batch):
        chunk = orders[page:page + batch]
        ingest(config, orders=chunk, claims=[by_order[o.id] for o in chunk if o.id in by_order], now=chunk[-1].paid_at)
        if (page + batch) % SLICE == 0:  # throughput of each 10,000 orders: does it fall as the data grows?
            slices.append(round(SLICE / (time.perf_counter() - slice_started)))
            slice_started = time.perf_counter()
    ingest_s = time.perf_counter() - started
    # Closing, slice by slice: at the end of each slice's hold, the groups opened in it are due.
    campaign = config.campaigns[0]
    closing, closed, close_s = [], 0, 0.0
    for end in range(SLICE, count + 1, SLICE):
        now = orders[end - 1].paid_at + campaign.window + campaign.hold + timedelta(seconds=1)
        started = time.perf_counter()
        settle_due_groups(config, now)
        seconds = time.perf_counter() - started
        groups = GroupRow.select().where(GroupRow.settled_at.is_null(False)).count() - closed
        closed, close_s = closed + groups, close_s + seconds
        closing.append(round(groups / seconds))
    started = time.perf_counter()
    settle_due_groups(config, orders[-1].paid_at + timedelta(days=30))  # what a partial slice left
    close_s += time.perf_counter() - started
    closed = GroupRow.select().where(GroupRow.settled_at.is_null(False)).count()
    db.close()
    gc.unfreeze()
    return {"orders": count, "orders_per_s": round(count / ingest_s, 1), "baseline_orders_per_s": round(count / baseline_s, 1),
            "ratio_to_baseline": round(baseline_s / ingest_s, 3), "orders_per_s_by_10k_slice": slices,
            "groups_closed": closed, "close_s": round(close_s, 2), "groups_closed_per_s": round(closed / close_s, 1),
            "close_s_per_10k_groups": round(10000 * close_s / closed, 2), "groups_closed_per_s_by_10k_slice": closing}


def on_sqlite(count: int, batch: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        return run(count, batch, (f"sqlite:///{folder}/baseline.db", f"sqlite:///{folder}/bridge.db"))


def on_postgresql(count: int, batch: int) -> dict:
    server = PostgresServer().start()
    try:
        return run(count, batch, (server.create_database("baseline"), server.create_database("bridge")))
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--database", default="sqlite,postgresql", help="which databases, comma-separated")
    args = parser.parse_args()
    results = {}
    for name in args.database.split(","):
        results[name] = {"sqlite": on_sqlite, "postgresql": on_postgresql}[name](args.orders, args.batch)
        print(name, json.dumps(results[name]), flush=True)
    sqlite = results.get("sqlite")
    if sqlite:
        results["targets_met"] = {"orders_per_s >= 5000": sqlite["orders_per_s"] >= 5000,
                                  "close_s_per_10k_groups <= 5": sqlite["close_s_per_10k_groups"] <= 5}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
