"""Soak: ten minutes of mixed traffic at 200 requests/s against 2 web processes and 1 job process on PostgreSQL.

    python bench/soak.py [--minutes 10] [--rate 200] [--database postgresql|sqlite]

The traffic, from wrk at a fixed rate (each connection waits between its requests), is half share-link
clicks, 30% link states, 10% conversion reports (each checked with the fake shop) and 10% signed webhook
hints. wrk runs one minute at a time, so that each minute has its own p50 and p99. The resident memory
of every bridge process (the gunicorn arbiter, its web workers, the job process) is read at the start
and at the end. Targets: 0 errors; resident memory flat within 10% from the first minute to the last.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))

from http_load import (  # noqa: E402
    BIN,
    TARGET_P99,
    free_port,
    hint_scripts,
    launch,
    lua_strings,
    prepare,
    wait_until_up,
    wrk,
)

from tests.fake_woocommerce import FakeWooCommerce  # noqa: E402

CONNECTIONS = 8
MIXED = """
local clicks = {%s}
local states = {%s}
local reports = {%s}
local hints = {%s}
local signatures = {%s}
local origin = "%s"
math.randomseed(%d)
delay = function() return %d end
request = function()
  local roll = math.random(100)
  local ua = {["User-Agent"] = "Mozilla/5.0 Chrome/126.0"}
  if roll <= 50 then return wrk.format("GET", clicks[math.random(#clicks)], ua) end
  if roll <= 80 then return wrk.format("GET", states[math.random(#states)], ua) end
  if roll <= 90 then
    return wrk.format("POST", "/api/v1/shops/s/conversions", {["Content-Type"] = "application/json",
                      ["User-Agent"] = ua["User-Agent"], ["Origin"] = origin}, reports[math.random(#reports)])
  end
  local i = math.random(#hints)
  return wrk.format("POST", "/webhooks/s", {["Content-Type"] = "application/json", ["X-WC-Webhook-Topic"] =
                    "order.updated", ["X-WC-Webhook-Signature"] = signatures[i]}, hints[i])
end
"""


def rss_of(pid: int) -> int | None:
    """A process's resident memory in KiB (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])
    except (OSError, StopIteration):
        return None


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as status:
                    parent = int(next(line for line in status if line.startswith("PPid:")).split()[1])
                if parent == pid:
                    found.append(int(entry))
            except (OSError, StopIteration):
                continue
    return sorted(found)


def memory(processes: dict[str, int]) -> dict[str, int | None]:
    return {name: rss_of(pid) for name, pid in processes.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rate", type=int, default=200, help="requests per second, in all")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    launch(parser.parse_args(), run)


def run(args, pg) -> None:
    with FakeWooCommerce("ck", "cs") as shop, tempfile.TemporaryDirectory() as folder:
        port = free_port()
        _, config_path, codes, reported, secret = prepare(shop, folder, pg, "bench_soak", port)
        hints, signatures = hint_scripts(reported, secret)
        reports = [json.dumps({"order_id": o, "key": k, "code": codes[i % len(codes)]})
                   for i, (o, k) in enumerate(reported)]
        script = MIXED % (lua_strings([f"/r/{c}" for c in codes]), lua_strings([f"/api/v1/links/{c}" for c in codes]),
                          lua_strings(reports), lua_strings(hints), lua_strings(signatures), shop.url, 11,
                          round(1000 * CONNECTIONS / args.rate * 0.92))  # the wait, less a typical answer
        log = open(os.environ.get("BENCH_LOG", os.devnull), "a")
        web = subprocess.Popen([os.path.join(BIN, "bridge"), "--config", config_path, "serve", "--port", str(port),
                                "--workers", "2"], stdout=log, stderr=log, start_new_session=True)
        jobs = subprocess.Popen([os.path.join(BIN, "bridge"), "--config", config_path, "worker"], stdout=log, stderr=log,
                                start_new_session=True)
        try:
            wait_until_up(port)
            time.sleep(1)
            processes = {"arbiter": web.pid, "jobs": jobs.pid}
            processes.update({f"web{i + 1}": pid for i, pid in enumerate(children_of(web.pid))})
            wrk(port, script, 5, CONNECTIONS, folder)  # warm up, then measure from a steady start
            start_rss = memory(processes)
            minutes = []
            for minute in range(args.minutes):
                figures = wrk(port, script, 60, CONNECTIONS, folder)
                figures["rss_kib"] = memory(processes)
                minutes.append(figures)
                print(f"minute {minute + 1}", figures, flush=True)
            end_rss = memory(processes)
        finally:
            for process in (web, jobs):
                os.killpg(process.pid, signal.SIGTERM)
            for process in (web, jobs):
                process.wait(timeout=60)
    first = minutes[0]["rss_kib"]
    growth = {name: round(end_rss[name] / first[name] - 1, 3) for name in first if first[name] and end_rss.get(name)}
    summary = {"database": args.database, "minutes": args.minutes, "rate": args.rate,
               "errors": sum(m["errors"] for m in minutes), "requests": sum(m["requests"] for m in minutes),
               "per_minute": [{"req_s": m["req_s"], "p50_ms": m["p50_ms"], "p99_ms": m["p99_ms"],
                               "errors": m["errors"]} for m in minutes],
               "rss_kib_start": start_rss, "rss_kib_first_minute": first, "rss_kib_end": end_rss,
               "rss_growth_since_first_minute": growth, "exit_codes": {"web": web.returncode, "jobs": jobs.returncode},
               "p99_spread": round(max(m["p99_ms"] for m in minutes) / max(min(m["p99_ms"] for m in minutes), 0.01), 2),
               "target_p99_ratio_reference": TARGET_P99}
    summary["met"] = (summary["errors"] == 0 and all(abs(g) <= 0.10 for g in growth.values())
                      and web.returncode == 0 and jobs.returncode == 0)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
