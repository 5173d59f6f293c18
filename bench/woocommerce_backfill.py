"""Benchmark: backfill orders from a fake WooCommerce shop on loopback, through the official client.

    python bench/woocommerce_backfill.py [--orders 20000] [--refunded 0.05]

The shop checks OAuth on every request, as a plain-HTTP WooCommerce does. The baseline, measured in
the same run, lists the same orders page by page with the same client and discards them (the
shop's and the client's share of the time). The last line is one JSON object; `list_requests` is
compared with the minimum, ceil(orders / 100). A share `--refunded` of the orders carry a customer
refund (the fixture's); bridge reads each such order's refunds (one request each: wc/v3 lists refunds
per order only), so that share drives the cost. The default, 5%, is a shop's usual return rate.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bridge.config import load_config_text  # noqa: E402
from bridge.connectors.woocommerce import WooCommerceConnector  # noqa: E402
from bridge.facts.sync import sync_shop  # noqa: E402
from bridge.storage import bind, upgrade  # noqa: E402
from bridge.storage.db import db  # noqa: E402
from tests.fake_woocommerce import FakeWooCommerce, make_order  # noqa: E402
from tests.wc_fixtures import rest_json  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
CONFIG = """
server: {{public_url: "http://127.0.0.1:8000", secret_key: bench-secret-key-0123456789, database_url: "sqlite:///{db}"}}
shops:
  - {{id: s, name: S, platform: woocommerce, url: "{url}", currency: USD, timezone: UTC,
     sync: {{backfill_from: 2025-12-01}}, woocommerce: {{consumer_key: ck, consumer_secret: cs, auth: oauth}}}}
campaigns:
  - {{id: c, type: social_buying, shop: s, window: 48h, hold: 14d, eligible_products: any,
     tiers: [{{buyers: 2, cashback: "5%"}}]}}
"""


def run(count: int, refunded: float) -> dict:
    template = rest_json("19-order-get-after-refund.response.json")
    kept = {**template, "refunds": [], "status": "processing"}
    rnd = random.Random(3)
    with FakeWooCommerce("ck", "cs") as shop, tempfile.TemporaryDirectory() as folder:
        for i in range(1, count + 1):
            shop.put_order(make_order(i, T0 + timedelta(seconds=rnd.randint(0, 30 * 86400)),
                                      template if rnd.random() < refunded else kept))
        gc.collect()
        gc.freeze()
        config = load_config_text(CONFIG.format(db=os.path.join(folder, "b.db"), url=shop.url))
        connector = WooCommerceConnector(config.shop("s"))
        started = time.perf_counter()
        for page in range(1, math.ceil(count / 100) + 1):  # baseline: the same pages, read and dropped
            connector._get("orders", orderby="modified", order="asc", per_page=100, page=page)
        baseline_s = time.perf_counter() - started
        shop.requests.clear()
        bind(config.server.database_url)
        db.connect()
        upgrade()
        started = time.perf_counter()
        result = sync_shop(config, "s", datetime(2026, 6, 1, tzinfo=timezone.utc), connector=connector)
        backfill_s = time.perf_counter() - started
        db.close()
        requests = sum(1 for _, path, _ in shop.requests if path.endswith("/orders"))
        refund_requests = sum(1 for _, path, _ in shop.requests if path.endswith("/refunds"))
    return {"orders": result.orders, "refunded_share": refunded, "refund_requests": refund_requests, "orders_per_s": round(result.orders / backfill_s, 1),
            "baseline_orders_per_s": round(count / baseline_s, 1), "ratio_to_baseline": round(baseline_s / backfill_s, 3),
            "list_requests": requests, "min_list_requests": math.ceil(count / 100)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--refunded", type=float, default=0.05, help="share of orders with a customer refund")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(json.dumps(run(args.orders, args.refunded)))


if __name__ == "__main__":
    main()
