"""What each web process keeps is right across processes: rate limits, memos, under gunicorn's pre-forked workers."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import urllib.request

from bridge.storage import bind, upgrade
from bridge.storage.db import db
from bridge.storage.memos import CHECK_EVERY, Memo, bump
from bridge.web import ratelimit

BRIDGE = os.path.join(os.path.dirname(sys.executable), "bridge")
FORK = multiprocessing.get_context("fork")


def _count_many(times: int, window: int, out) -> None:
    out.put([ratelimit.count("links", "203.0.113.7", window) for _ in range(times)])


def test_two_processes_count_in_one_table():
    """Forked like gunicorn's workers: 2 x 300 calls at once give every count from 1 to 600 exactly once."""
    ratelimit.reset()
    window = int(time.time() // 60) + 7  # a window nobody else counts in
    out = FORK.Queue()
    workers = [FORK.Process(target=_count_many, args=(300, window, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    seen = out.get(timeout=60) + out.get(timeout=60)
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(seen) == list(range(1, 601))
    assert ratelimit.count("links", "203.0.113.7", window) == 601  # and the parent sees them all too
    assert ratelimit.count("links", "203.0.113.8", window) == 1  # another client counts apart


def _bump_later(url: str, name: str, ready, done) -> None:
    bind(url)
    ready.wait(30)
    with db.connection_context():
        bump(name)
    done.set()


def test_a_bump_in_another_process_makes_every_process_forget_the_memo(database_url):
    bind(database_url)
    with db.connection_context():
        upgrade()
    memo = Memo("test-products")
    # Spawned, not forked: a forked child would inherit (and close) this process's pooled connections.
    spawn = multiprocessing.get_context("spawn")
    ready, done = spawn.Event(), spawn.Event()
    writer = spawn.Process(target=_bump_later, args=(database_url, memo.name, ready, done))
    writer.start()
    with db.connection_context():
        memo.put("p1", "old name")
        assert memo.get("p1") == "old name"
        ready.set()
        assert done.wait(30)
        writer.join(30)
        time.sleep(CHECK_EVERY + 0.2)
        assert memo.get("p1") is None  # forgotten: the next read goes to the table again
        memo.put("p1", "new name")
        assert memo.get("p1") == "new name"  # and kept again until the next bump


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(port: int, path: str) -> int:
    """The status of one request on a new connection (so that any worker may take it); redirects not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_client_gets_its_limit_once_across_gunicorn_workers(config_file):
    """240 link requests a minute per client, counted by 3 web processes together (each would allow 240)."""
    subprocess.run([BRIDGE, "--config", str(config_file), "db", "upgrade"], check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([BRIDGE, "--config", str(config_file), "serve", "--port", str(port), "--workers", "3"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                assert time.time() < deadline, "bridge did not start"
                time.sleep(0.2)
        for _ in range(3):  # a minute's window may turn during the run: then count again in the next one
            window = int(time.time() // 60)
            codes = [_status(port, "/r/NOSUCHCODE23") for _ in range(270)]
            if int(time.time() // 60) == window:
                break
            time.sleep(max(0.0, 60 - time.time() % 60) + 0.5)
        assert codes.count(429) == 30 and len([c for c in codes if c != 429]) == 240, sorted(set(codes))
        assert codes.index(429) == 240  # the first 240 pass, every later one waits
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.communicate(timeout=60)
    assert server.returncode == 0
