"""Kill the worker at random points of a payout run, again and again: every payout is still paid exactly once.

A real `bridge tick` process pays refunds through the fake WooCommerce shop. The shop kills that
process (SIGKILL) when a chosen request arrives, or right after it has recorded a refund and before
it answers: the most dangerous instant, when the money has left but bridge has not written it down.
"""

from __future__ import annotations

import random
import subprocess
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from bridge.facts.ingest import ingest
from bridge.ledger.grants import ledger_balances, settle_due_groups
from bridge.storage.db import db
from bridge.storage.models import Payout
from tests.conftest import migrated_config
from tests.engine_data import T0, claim, order
from tests.fake_woocommerce import FakeWooCommerce, config_for, make_order
from tests.killed_ticks import BRIDGE, KilledTicks
from tests.wc_fixtures import rest_json

HOLD_END = T0 + timedelta(hours=49, days=14)
GROUPS = 20  # 40 payouts
KILLS = 22


def test_killing_the_worker_mid_payout_never_pays_twice_nor_loses_a_payout(config_text, tmp_path):
    with FakeWooCommerce("ck_test_key", "cs_test_secret_value") as shop:
        text = config_for(config_text, shop.url, sync="poll_every: 'off'").replace(
            "    eligible_products: any", "    eligible_products: any\n    payout: refund").replace(
            "  database_url:", "  worker:\n    lease: 1s\n  database_url:", 1)
        config, path = migrated_config(text, tmp_path), tmp_path / "config.yaml"
        with db.connection_context():
            orders, claims = [], []
            for g in range(GROUPS):
                founder, friend = 100 + 2 * g, 101 + 2 * g
                orders += [replace(order(founder, minutes=g), shop="shop1"),
                           replace(order(friend, minutes=g + 1), shop="shop1")]
                claims.append(replace(claim(friend, founder, minutes=g + 1), shop="shop1"))
            for o in orders:
                shop.put_order({**make_order(int(o.id), T0, rest_json("19-order-get-after-refund.response.json")),
                                "total": "100.00", "refunds": [], "payment_method": "stripe"})
            ingest(config, orders=orders, claims=claims, now=T0 + timedelta(hours=1))
            settle_due_groups(config, HOLD_END)
            keys = [p.key for p in Payout.select()]
        assert len(keys) == 2 * GROUPS

        rnd = random.Random(20261123)
        ticks = KilledTicks(path, HOLD_END)

        def arm():
            """Choose where this run dies: at the n-th request, or just after the n-th refund is recorded."""
            counts = {"requests": 0, "refunds": 0}
            mode, nth = rnd.choice(["request", "after_refund"]), rnd.randint(1, 4)

            def on_request(request):
                counts["requests"] += 1
                if mode == "request" and counts["requests"] == nth:
                    ticks.kill("on a request")

            def after_refund(refund):
                counts["refunds"] += 1
                if mode == "after_refund" and counts["refunds"] == nth:
                    ticks.kill("after a refund, before its answer")

            shop.on_request, shop.after_refund = on_request, after_refund

        ticks.run(arm, KILLS, 80)
        shop.on_request = shop.after_refund = None
        ticks.finish()
        kills, runs = ticks.kills, ticks.runs

        assert sum(kills.values()) >= 20 and kills["after a refund, before its answer"] >= 5, (kills, runs)
        per_key = Counter(m["value"] for r in shop.refunds.values() for m in r["meta_data"] if m["key"] == "_bridge_payout_key")
        assert sorted(per_key) == sorted(keys) and set(per_key.values()) == {1}, "each payout refunded exactly once"
        with db.connection_context():
            states = Counter(p.state for p in Payout.select())
            assert states == {"paid": 2 * GROUPS}, states
            assert all(p.external_ref for p in Payout.select())
            balances, problems = ledger_balances()
            assert problems == [] and all(b.reconciles for b in balances.values())
        ledger = subprocess.run([BRIDGE, "--config", str(path), "ledger", "check"], capture_output=True, text=True)
        assert ledger.returncode == 0, ledger.stdout + ledger.stderr
