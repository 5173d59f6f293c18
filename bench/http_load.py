"""Benchmark: bridge's public endpoints under each production server, against a bare Flask app on the same server.

    python bench/http_load.py [--seconds 6] [--connections 32] [--rounds 3] [--database sqlite|postgresql]

The load comes from wrk (C, keep-alive connections, two threads), not from Python, so that the client
is not what is measured. bridge runs as `bridge serve` (gunicorn, one process per core: the default;
and `--server waitress`, 8 threads) on a database seeded with groups. The baseline, started the same
way on the same server in the same run, is a bare Flask app doing the same kind of work without
bridge: look the code up, insert the same click row bridge keeps (the same columns and indexes) and
redirect; read the group and its members and answer JSON. The loads run in turn, `--rounds` times, so that a noisy moment hits both sides; each
ratio is the median of the rounds' ratios.

Targets on gunicorn: `/r/<code>` and the link state at >= 0.8 of the baseline's requests per second,
p99 at <= 1.5 x the baseline's. The widget's conversion report and the webhook receiver are
measured too (absolute figures: both ask the fake shop for the order, which bounds them). The last
line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bridge.config import load_config_text  # noqa: E402
from bridge.facts.ingest import ingest  # noqa: E402
from bridge.rewards.model import Claim, Line  # noqa: E402
from bridge.storage import bind, upgrade  # noqa: E402
from bridge.storage.db import db  # noqa: E402
from bridge.storage.models import GroupRow  # noqa: E402
from bridge.storage.secrets import ensure_shop_secret  # noqa: E402
from bridge.web.server import default_workers  # noqa: E402
from tests.engine_data import order  # noqa: E402
from tests.fake_woocommerce import FakeWooCommerce, make_order  # noqa: E402
from tests.pgserver import PostgresServer  # noqa: E402
from tests.wc_fixtures import rest_json  # noqa: E402

BIN = os.path.dirname(sys.executable)
GROUPS = 200
TARGET_RATIO, TARGET_P99 = 0.8, 1.5
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
import hashlib, sqlite3, sys, threading
from flask import Flask, jsonify, redirect, request
DB, SHOP = sys.argv[1], sys.argv[2]
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
            local.c.execute("PRAGMA synchronous=NORMAL")  # as bridge's own connections: the same durability
    return local.c
def query(sql, args, many=False):
    cursor = conn().cursor()
    cursor.execute(sql.replace("?", P), args)
    return cursor.fetchall() if many else cursor.fetchone()
@app.get("/r/<code>")
def follow(code):
    row = query('SELECT campaign, shop FROM "group" WHERE code = ?', (code,))
    if row is None:
        return redirect(SHOP + "/", 302)
    # The same row bridge keeps for a click (the same columns and indexes), in autocommit.
    ip = hashlib.sha256((request.remote_addr or "").encode()).hexdigest()[:32]
    agent = "chrome" if "chrome" in request.headers.get("User-Agent", "").lower() else "other"
    conn().cursor().execute("INSERT INTO baseline_click (shop, campaign, code, tag, at, channel, ip_hash, ua_family, "
                            f"referrer_domain) VALUES ({P}, {P}, {P}, NULL, {NOW}, NULL, {P}, {P}, NULL)",
                            (row[1], row[0], code, ip, agent))
    return redirect(SHOP + "/product/x/?bridge=" + code, 302)
@app.get("/links/<code>")
def state(code):
    group = query('SELECT campaign, founder_id, closes_at FROM "group" WHERE code = ?', (code,))
    members = query("SELECT order_id FROM membership WHERE campaign = ? AND founder_id = ?", group[:2], many=True)
    orders = query("SELECT total FROM order_fact WHERE order_id IN (%s)" % ",".join("?" * len(members)),
                   [m[0] for m in members], many=True) if members else []
    return jsonify(code=code, members=len(members), total=sum(float(o[0]) for o in orders), closes_at=str(group[2]))
'''

GUNICORN_BASELINE = BASELINE + r'''
from gunicorn.app.base import BaseApplication
class Baseline(BaseApplication):
    def load_config(self):
        for key, value in {"bind": [f"127.0.0.1:{sys.argv[3]}"], "workers": int(sys.argv[4]), "loglevel": "warning",
                           "control_socket_disable": True}.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)
    def load(self):
        return app
Baseline().run()
'''

WAITRESS_BASELINE = BASELINE + r'''
from waitress import serve
serve(app, host="127.0.0.1", port=int(sys.argv[3]), threads=8, _quiet=True)
'''

# wrk: a random path of the list for each request (GET), or a fixed body (POST) with its headers.
PATHS_SCRIPT = """
local paths = {%s}
math.randomseed(%d)
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["User-Agent"] = "Mozilla/5.0 Chrome/126.0"})
end
"""
BODIES_SCRIPT = """
local bodies = {%s}
local signatures = {%s}
local path, header = "%s", "%s"
math.randomseed(%d)
request = function()
  local i = math.random(#bodies)
  local headers = {["Content-Type"] = "application/json", ["User-Agent"] = "Mozilla/5.0 Chrome/126.0",
                   ["Origin"] = "%s"}
  if header ~= "" then headers[header] = signatures[i]; headers["X-WC-Webhook-Topic"] = "order.updated" end
  return wrk.format("POST", path, headers, bodies[i])
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int) -> None:
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def lua_strings(values: list[str]) -> str:
    return ", ".join(json.dumps(v) for v in values)  # JSON string literals are valid Lua strings here


def wrk(port: int, script: str, seconds: float, connections: int, folder: str) -> dict:
    """Run wrk against 127.0.0.1:port with `script`; return req/s, p50/p99 (ms) and the non-2xx/3xx count."""
    path = os.path.join(folder, "load.lua")
    with open(path, "w") as handle:
        handle.write(script)
    done = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", path,
                           f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk did not run: {done.stderr.strip() or out.strip()}")

    def millis(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(found.group(1)), found.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"req_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": millis("50"),
            "p99_ms": millis("99"), "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "errors": (int(errors.group(1)) if errors else 0)
            + (sum(int(g) for g in socket_errors.groups()) if socket_errors else 0)}


def hint_scripts(reported: list[tuple[str, str]], secret: str) -> tuple[list[str], list[str]]:
    """Webhook bodies naming the reported orders, and their signatures (base64 HMAC-SHA256 of each body)."""
    hints = [json.dumps({"id": int(o)}) for o, _ in reported]
    return hints, [base64.b64encode(hmac.new(secret.encode(), h.encode(), hashlib.sha256).digest()).decode()
                   for h in hints]


def settle(url: str) -> None:
    """Between two loads: fold SQLite's write-ahead log back into the database, so that the clicks one
    load wrote do not slow the next one down (every load starts from the same state of the file)."""
    if url.startswith("sqlite:///"):
        import sqlite3

        connection = sqlite3.connect(url[len("sqlite:///"):], timeout=30)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()


def seed(config, shop: FakeWooCommerce, now: datetime) -> tuple[list[str], list[tuple[str, str]]]:
    """Groups of three paid orders (a founder and two friends), and orders in the fake shop to report."""
    orders, claims = [], []
    for g in range(GROUPS):
        for m in range(3):
            oid = str(1000 + 3 * g + m)
            base = order(oid)
            orders.append(replace(base, shop="s", paid_at=now - timedelta(minutes=10 - m),
                                  created_at=now - timedelta(minutes=10 - m), email=f"b{oid}@example.test",
                                  ip=f"10.{g % 250}.{m}.1", billing_address=f"{oid} rue", customer_id=oid,
                                  lines=(Line("10", 1, base.lines[0].total, base.lines[0].tax),)))
            if m:
                claims.append(Claim("s", oid, str(1000 + 3 * g), None, "widget", now))
    ingest(config, orders=orders, claims=claims, now=now)
    template = {**rest_json("19-order-get-after-refund.response.json"), "status": "processing", "refunds": []}
    reported = []
    for i in range(50):  # orders the widget reports (each checked with the fake shop by its key)
        data = make_order(5000 + i, now, template)
        data["order_key"] = f"wc_order_bench{i:04d}"
        shop.put_order(data)
        reported.append((str(5000 + i), data["order_key"]))
    return [g.code for g in GroupRow.select()], reported


def start(kind: str, server: str, port: int, args, folder: str, url: str, shop_url: str) -> subprocess.Popen:
    log = open(os.environ.get("BENCH_LOG", os.devnull), "a")
    if kind == "bridge":
        command = [os.path.join(BIN, "bridge"), "--config", os.path.join(folder, "config.yaml"), "serve",
                   "--server", server, "--port", str(port)]
        command += ["--workers", str(args.workers)] if server == "gunicorn" else ["--threads", "8"]
    else:
        source = GUNICORN_BASELINE if server == "gunicorn" else WAITRESS_BASELINE
        command = [sys.executable, "-c", source, url, shop_url, str(port), str(args.workers)]
    process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    wait_until_up(port)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: a throw-away server on loopback (tests/pgserver.py), for both sides")
    parser.add_argument("--servers", default="gunicorn,waitress", help="which servers to measure, comma-separated")
    launch(parser.parse_args(), run)


def launch(args: argparse.Namespace, run_with) -> None:
    """Check wrk is there, quieten the fake shop, start a throw-away PostgreSQL if asked, run, stop it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake shop's request lines
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: run `make system-deps` (scripts/system-deps.sh installs it)")
    server = PostgresServer().start() if args.database == "postgresql" else None
    try:
        run_with(args, server)
    finally:
        if server is not None:
            server.stop()


def prepare(shop: FakeWooCommerce, folder: str, pg, name: str, port: int) -> tuple[str, str, list, list, str]:
    """A seeded database and bridge's config file in `folder`: (database URL, config path, share codes,
    orders the widget can report as (id, key), the webhook secret)."""
    shop.put_product(rest_json("05-product-create-simple-1.response.json"))
    url = pg.create_database(name) if pg else f"sqlite:///{os.path.join(folder, 'bridge.db')}"
    text = CONFIG.format(db=url, url=shop.url, port=port)
    path = os.path.join(folder, "config.yaml")
    with open(path, "w") as handle:
        handle.write(text)
    config = load_config_text(text)
    bind(config.server.database_url)
    with db.connection_context():
        upgrade()
        codes, reported = seed(config, shop, datetime.now(timezone.utc))
        secret = ensure_shop_secret("s", "webhook")
        columns = ("shop TEXT, campaign TEXT, code TEXT, tag TEXT, at {at}, channel TEXT, ip_hash TEXT, ua_family TEXT, "
                   "referrer_domain TEXT")
        db.execute_sql(f"CREATE TABLE baseline_click (id INTEGER PRIMARY KEY, {columns.format(at='TEXT')})" if pg is None
                       else f"CREATE TABLE baseline_click (id SERIAL PRIMARY KEY, {columns.format(at='TIMESTAMP')})")
        db.execute_sql("CREATE INDEX baseline_click_code_at ON baseline_click (code, at)")  # as bridge's click table
        db.execute_sql("CREATE INDEX baseline_click_shop_at ON baseline_click (shop, at)")
        db.execute_sql("ANALYZE")  # planner statistics, as a live database has them
    db.obj.close_all()  # bridge and the baseline run in their own processes
    return url, path, codes, reported, secret


def run(args, pg) -> None:
    """Seed the database, then load bridge and the baseline on each server, in rounds; print the summary."""
    with FakeWooCommerce("ck", "cs") as shop, tempfile.TemporaryDirectory() as folder:
        port = free_port()
        url, _, codes, reported, secret = prepare(shop, folder, pg, "bench_http", port)
        assert len(codes) == GROUPS, len(codes)
        redirects = PATHS_SCRIPT % (lua_strings([f"/r/{c}" for c in codes]), 7)
        states = PATHS_SCRIPT % (lua_strings([f"/api/v1/links/{c}" for c in codes]), 7)
        base_states = PATHS_SCRIPT % (lua_strings([f"/links/{c}" for c in codes]), 7)
        conversions = BODIES_SCRIPT % (
            lua_strings([json.dumps({"order_id": o, "key": k, "code": codes[i % len(codes)]})
                         for i, (o, k) in enumerate(reported)]), "", "/api/v1/shops/s/conversions", "", 7, shop.url)
        hints, signatures = hint_scripts(reported, secret)
        webhooks = BODIES_SCRIPT % (lua_strings(hints), lua_strings(signatures), "/webhooks/s", "X-WC-Webhook-Signature",
                                    7, shop.url)
        rounds: list[dict] = [{} for _ in range(args.rounds)]
        base_port = free_port()
        for server in args.servers.split(","):
            # Both sides up at once and loaded in turn (ABBA), so that a noisy minute hits both alike.
            sides = {"bridge": start("bridge", server, port, args, folder, url, shop.url),
                     "baseline": start("baseline", server, base_port, args, folder, url, shop.url)}
            ports = {"bridge": port, "baseline": base_port}
            scripts = {("bridge", "redirect"): redirects, ("baseline", "redirect"): redirects,
                       ("bridge", "link_state"): states, ("baseline", "link_state"): base_states}
            try:
                for (kind, load), script in scripts.items():  # warm up: caches, the pool, the page cache
                    wrk(ports[kind], script, 2, 4, folder)
                for number in range(args.rounds):
                    for load in ("redirect", "link_state"):
                        order = ("bridge", "baseline") if number % 2 == 0 else ("baseline", "bridge")
                        for kind in order:
                            settle(url)
                            figures = wrk(ports[kind], scripts[(kind, load)], args.seconds, args.connections, folder)
                            rounds[number][f"{server}_{kind}_{load}"] = figures
                            print(f"round {number + 1}", server, kind, load, figures, flush=True)
                for number in range(args.rounds):  # after the others: these add members to groups
                    for load, script in (("conversion", conversions), ("webhook", webhooks)):
                        figures = wrk(port, script, args.seconds, args.connections, folder)
                        rounds[number][f"{server}_bridge_{load}"] = figures
                        print(f"round {number + 1}", server, "bridge", load, figures, flush=True)
            finally:
                for process in sides.values():
                    stop(process)
    summary: dict = {"database": args.database, "rounds": args.rounds, "workers": args.workers,
                     "connections": args.connections, "targets": {"ratio": TARGET_RATIO, "p99": TARGET_P99}}
    for server in args.servers.split(","):
        for load in ("redirect", "link_state"):
            ratios = [r[f"{server}_bridge_{load}"]["req_s"] / r[f"{server}_baseline_{load}"]["req_s"] for r in rounds]
            p99s = [r[f"{server}_bridge_{load}"]["p99_ms"] / r[f"{server}_baseline_{load}"]["p99_ms"] for r in rounds]
            median_round = sorted(range(len(rounds)), key=lambda i: ratios[i])[len(rounds) // 2]
            summary[f"{server}_{load}"] = {
                "bridge": rounds[median_round][f"{server}_bridge_{load}"],
                "baseline": rounds[median_round][f"{server}_baseline_{load}"],
                "ratio": round(statistics.median(ratios), 3), "ratios": [round(r, 3) for r in ratios],
                "p99_ratio": round(statistics.median(p99s), 3)}
        for load in ("conversion", "webhook"):
            figures = [r[f"{server}_bridge_{load}"] for r in rounds]
            summary[f"{server}_{load}"] = {"req_s": statistics.median(f["req_s"] for f in figures),
                                           "p99_ms": statistics.median(f["p99_ms"] for f in figures),
                                           "errors": sum(f["errors"] for f in figures)}
    summary["met"] = "gunicorn" in args.servers.split(",") and all(summary[f"gunicorn_{load}"]["ratio"] >= TARGET_RATIO
                         and summary[f"gunicorn_{load}"]["p99_ratio"] <= TARGET_P99
                         for load in ("redirect", "link_state"))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
