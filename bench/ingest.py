"""Benchmark: synthetic orders through ingestion, engine and closing, on SQLite.

    python bench/ingest.py [--orders 10000] [--batch 100]

Orders arrive in pages of --batch (as a poll delivers them); about 60% of orders come through a
group's link. `orders_per_s` covers storing facts and deciding (ingestion + engine); closing every
group afterwards is timed apart (`close_s`). The baseline, measured in the same run, stores the same
orders as plain rows without claims or decisions. `orders_per_s_by_10k_slice` shows whether the
cost per order grows with the volume. The last line is one JSON object.
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
from bridge.storage.models import OrderFact  # noqa: E402
from bridge.storage.rows import order_to_row  # noqa: E402

T0 = datetime(2026, 7, 1, tzinfo=timezone.utc)
CONFIG = """
server: {{public_url: "http://127.0.0.1:8000", secret_key: bench-secret-key-0123456789, database_url: "sqlite:///{db}"}}
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


def synthetic(count: int, seed: int = 7):
    """Orders one minute apart; a founder then 0-4 friends through its link, within the window."""
    rnd = random.Random(seed)
    orders, claims, i = [], [], 0
    while i < count:
        founder = i
        for k in range(min(rnd.choice([1, 1, 2, 3, 4, 5]), count - i)):
            at = T0 + timedelta(minutes=i)
            total = Decimal(rnd.randint(1000, 20000)) / 100
            orders.append(Order(shop="s", id=str(i), currency="EUR", paid=True, paid_at=at, created_at=at,
                                modified_at=at, total=total, lines=(Line(f"p{rnd.randint(1, 50)}", 1, total, Decimal(0)),),
                                customer_id=str(i), email=f"buyer{i}@example.com", billing_address=f"{i} street",
                                ip=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}", user_agent="UA"))
            if k:
                claims.append(Claim("s", str(i), str(founder), None, "widget", at))
            i += 1
    return orders, claims


def fresh_database(folder: str, name: str) -> str:
    path = os.path.join(folder, name)
    bind(f"sqlite:///{path}")
    db.connect(reuse_if_open=True)
    upgrade()
    return path


def run(count: int, batch: int) -> dict:
    orders, claims = synthetic(count)
    by_order = {c.order_id: c for c in claims}
    # The synthetic orders stay alive for the whole run; a real worker holds no such heap. Freeze them
    # so that the garbage collector's rescans of this test data are not counted as bridge's cost.
    gc.collect()
    gc.freeze()
    with tempfile.TemporaryDirectory() as folder:
        fresh_database(folder, "baseline.db")
        started = time.perf_counter()
        for page in range(0, count, batch):
            with db.atomic():
                OrderFact.insert_many([order_to_row(o) for o in orders[page:page + batch]]).execute()
        baseline_s = time.perf_counter() - started
        db.close()

        path = fresh_database(folder, "bridge.db")
        config = load_config_text(CONFIG.format(db=path))
        started = time.perf_counter()
        slices, slice_started = [], started
        for page in range(0, count, batch):
            chunk = orders[page:page + batch]
            ingest(config, orders=chunk, claims=[by_order[o.id] for o in chunk if o.id in by_order], now=chunk[-1].paid_at)
            if (page + batch) % 10000 == 0:  # throughput of each 10,000 orders: does it fall as the data grows?
                slices.append(round(10000 / (time.perf_counter() - slice_started)))
                slice_started = time.perf_counter()
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        summary = settle_due_groups(config, orders[-1].paid_at + timedelta(days=30))
        close_s = time.perf_counter() - started
        db.close()
    groups_closed = int(summary.split()[1])
    return {"orders": count, "orders_per_s": round(count / ingest_s, 1), "baseline_orders_per_s": round(count / baseline_s, 1),
            "ratio_to_baseline": round(baseline_s / ingest_s, 3), "groups_closed": groups_closed,
            "close_s": round(close_s, 2), "groups_closed_per_s": round(groups_closed / close_s, 1),
            "orders_per_s_by_10k_slice": slices}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(run(args.orders, args.batch)))


if __name__ == "__main__":
    main()
