"""Benchmark: share-link redirects and the link-state API under the production server, against a bare baseline.

    python bench/http_load.py [--seconds 5] [--clients 8] [--rounds 3] [--database sqlite|postgresql]

bridge runs as `bridge serve` (waitress, 8 threads) on a SQLite database (or, with `--database
postgresql`, a throw-away PostgreSQL server on loopback) seeded with groups. The
baseline, run in the same way in the same run, is a bare Flask app under waitress doing the same
kind of work without bridge: look the code up in SQLite, insert a click row and redirect; look the
group up and answer a small JSON. Clients are threads with keep-alive connections. The last line is
one JSON object with req/s and p99 (ms) of each, and bridge's ratios to the baseline (target >= 0.7).
The four loads run in turn, `--rounds` times, so that a noisy moment hits both sides; each ratio is
the median of the rounds' ratios, and the figures shown are those of the median round.
"""

from __future__ import annotations

import os
import sys

# This file is named like the standard library's `http` package: keep its folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bridge.config import load_config_text  # noqa: E402
from bridge.facts.ingest import ingest  # noqa: E402
from bridge.storage import bind, upgrade  # noqa: E402
from bridge.storage.db import db  # noqa: E402
from bridge.storage.models import GroupRow  # noqa: E402
from tests.engine_data import order  # noqa: E402
from tests.fake_woocommerce import FakeWooCommerce  # noqa: E402
from tests.pgserver import PostgresServer  # noqa: E402
from tests.wc_fixtures import rest_json  # noqa: E402

BIN = os.path.dirname(sys.executable)
GROUPS = 200
CONFIG = """
server: {{public_url: "http://127.0.0.1:{port}", secret_key: bench-secret-key-0123456789, database_url: "{db}",
          log_level: warning, rate_limits: false}}
shops:
  - {{id: s, name: S, platform: woocommerce, url: "{url}", currency: EUR, timezone: UTC, locale: fr,
     sync: {{poll_every: "off"}}, woocommerce: {{consumer_key: ck, consumer_secret: cs, auth: oauth}}}}
campaigns:
  - {{id: c, type: social_buying, shop: s, window: 48h, hold: 14d, eligible_products: any,
     tiers: [{{buyers: 2, cashback: "5%"}}, {{buyers: 3, cashback: "10%"}}]}}
"""

BASELINE = r'''
import sqlite3, sys, threading
from flask import Flask, jsonify, redirect
from waitress import serve
DB, SHOP, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
POSTGRES = DB.startswith("postgresql://")
P, NOW = ("%s", "now()") if POSTGRES else ("?", "datetime('now')")
app = Flask("baseline")
local = threading.local()
def conn():
    if not hasattr(local, "c"):
        if POSTGRES:
            import psycopg2
            local.c = psycopg2.connect(DB)
            local.c.autocommit = True
        else:
            local.c = sqlite3.connect(DB[len("sqlite:///"):], timeout=15, isolation_level=None)
            local.c.execute("PRAGMA journal_mode=WAL")
    return local.c
def query(sql, args, many=False):
    cursor = conn().cursor()
    cursor.execute(sql.replace("?", P), args)
    return cursor.fetchall() if many else cursor.fetchone()
@app.get("/r/<code>")
def follow(code):
    row = query('SELECT campaign, founder_id FROM "group" WHERE code = ?', (code,))
    if row is None:
        return redirect(SHOP + "/", 302)
    conn().cursor().execute(f"INSERT INTO baseline_click (code, at) VALUES ({P}, {NOW})", (code,))  # autocommit
    return redirect(SHOP + "/product/x/?bridge=" + code, 302)
@app.get("/links/<code>")
def state(code):
    group = query('SELECT campaign, founder_id, closes_at FROM "group" WHERE code = ?', (code,))
    members = query("SELECT order_id FROM membership WHERE campaign = ? AND founder_id = ?", group[:2], many=True)
    orders = query("SELECT total FROM order_fact WHERE order_id IN (%s)" % ",".join("?" * len(members)),
                   [m[0] for m in members], many=True) if members else []
    return jsonify(code=code, members=len(members), total=sum(float(o[0]) for o in orders), closes_at=str(group[2]))
serve(app, host="127.0.0.1", port=PORT, threads=8, _quiet=True)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def load(port: int, paths: list[str], seconds: float, clients: int) -> dict:
    """Hit `paths` (at random) from `clients` threads for `seconds`; return req/s and p99 in ms."""
    latencies, errors, stop = [], [0], time.perf_counter() + seconds
    lock = threading.Lock()

    def client(seed):
        rnd, mine = random.Random(seed), []
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            connection.request("GET", rnd.choice(paths), headers={"User-Agent": "Mozilla/5.0 Chrome/126.0"})
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status >= 400:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {"req_s": round(len(latencies) / elapsed, 1), "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 2),
            "requests": len(latencies), "errors": errors[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: a throw-away server on loopback (tests/pgserver.py), for both sides")
    args = parser.parse_args()
    server = PostgresServer().start() if args.database == "postgresql" else None
    try:
        run(args, server)
    finally:
        if server is not None:
            server.stop()


def run(args, server) -> None:
    """Seed the database, start bridge and the baseline, load both in rounds; print the summary."""
    with FakeWooCommerce("ck", "cs") as shop, tempfile.TemporaryDirectory() as folder:
        shop.put_product(rest_json("05-product-create-simple-1.response.json"))
        port = free_port()
        url = server.create_database("bench_http") if server else f"sqlite:///{os.path.join(folder, 'bridge.db')}"
        text = CONFIG.format(db=url, url=shop.url, port=port)
        with open(os.path.join(folder, "config.yaml"), "w") as handle:
            handle.write(text)
        config = load_config_text(text)
        bind(config.server.database_url)
        now = datetime.now(timezone.utc)
        with db.connection_context():
            upgrade()
            orders, claims = [], []
            from bridge.rewards.model import Claim, Line
            for g in range(GROUPS):
                for m in range(3):
                    oid = str(1000 + 3 * g + m)
                    orders.append(replace(order(oid), shop="s", paid_at=now - timedelta(minutes=10 - m),
                                          created_at=now - timedelta(minutes=10 - m), email=f"b{oid}@example.test",
                                          ip=f"10.{g % 250}.{m}.1", billing_address=f"{oid} rue", customer_id=oid,
                                          lines=(Line("10", 1, order(oid).lines[0].total, order(oid).lines[0].tax),)))
                    if m:
                        claims.append(Claim("s", oid, str(1000 + 3 * g), None, "widget", now))
            ingest(config, orders=orders, claims=claims, now=now)
            codes = [g.code for g in GroupRow.select()]
        assert len(codes) == GROUPS, len(codes)
        with db.connection_context():
            db.execute_sql("CREATE TABLE baseline_click (id INTEGER PRIMARY KEY, code TEXT, at TEXT)" if server is None
                           else "CREATE TABLE baseline_click (id SERIAL PRIMARY KEY, code TEXT, at TIMESTAMP)")
            # Planner statistics, as a live database has them (PostgreSQL's autovacuum would take a minute).
            db.execute_sql("ANALYZE")
        db.obj.close_all()  # bridge and the baseline run in their own processes
        bridge = subprocess.Popen([os.path.join(BIN, "bridge"), "--config", os.path.join(folder, "config.yaml"), "serve",
                                   "--port", str(port), "--threads", "8"], stderr=open(os.environ.get("BENCH_LOG", os.devnull), "w"))
        base_port = free_port()
        baseline = subprocess.Popen([sys.executable, "-c", BASELINE, url, shop.url, str(base_port)])
        try:
            wait_until_up(port)
            wait_until_up(base_port)
            for c in codes:  # warm the product cache, as a live bridge has it
                conn = http.client.HTTPConnection("127.0.0.1", port)
                conn.request("GET", f"/r/{c}")
                conn.getresponse().read()
                break
            rounds = []
            for number in range(args.rounds):
                results = {}
                for name, target, paths in (
                        ("bridge_redirect", port, [f"/r/{c}" for c in codes]),
                        ("baseline_redirect", base_port, [f"/r/{c}" for c in codes]),
                        ("bridge_link_state", port, [f"/api/v1/links/{c}" for c in codes]),
                        ("baseline_link_state", base_port, [f"/links/{c}" for c in codes])):
                    results[name] = load(target, paths, args.seconds, args.clients)
                    print(f"round {number + 1}", name, results[name], flush=True)
                rounds.append(results)
        finally:
            bridge.terminate()
            baseline.terminate()
            bridge.wait(timeout=30)
            baseline.wait(timeout=30)
    summary = {"database": args.database, "rounds": args.rounds, "target_ratio": 0.7}
    for kind in ("redirect", "link_state"):
        ratios = sorted((r[f"bridge_{kind}"]["req_s"] / r[f"baseline_{kind}"]["req_s"], i) for i, r in enumerate(rounds))
        ratio, median_round = ratios[len(ratios) // 2]
        summary.update({kind: rounds[median_round][f"bridge_{kind}"],
                        f"{kind}_baseline": rounds[median_round][f"baseline_{kind}"],
                        f"{kind}_ratio": round(ratio, 3), f"{kind}_ratios": [round(r, 3) for r, _ in ratios]})
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
