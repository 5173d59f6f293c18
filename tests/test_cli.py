"""The bridge command: check, db, serve (production server), tick."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone

from click.testing import CliRunner

from bridge.cli import main
from bridge.storage import latest_version

LATEST = latest_version()

BRIDGE = os.path.join(os.path.dirname(sys.executable), "bridge")


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_check_summarises_a_good_config(config_file):
    result = run("--config", str(config_file), "check")
    assert result.exit_code == 0, result.output
    assert "shop shop1: Shop One (woocommerce, https://shop1.example, EUR, Europe/Paris, fr/tu)" in result.output
    assert "campaign group1 on shop1: social buying, window 2d, hold 2w, tiers 2 buyers 5%, 3 buyers 10%" in result.output


def test_check_reports_every_problem_and_exits_1(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("server:\n  public_url: nowhere\n  secret_key: ${NOPE}\nshops: []\nextra: 1\n")
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 1
    assert "config.yaml:2: server.public_url: expected an http:// or https:// URL" in result.output
    assert "config.yaml:3: server.secret_key: environment variable NOPE is not set" in result.output
    assert "config.yaml:5: extra: unknown key" in result.output
    assert "3 problem(s)" in result.output


def test_config_from_environment_variable(config_file):
    result = run("check", env={"BRIDGE_CONFIG": str(config_file)})
    assert result.exit_code == 0 and "OK" in result.output


def test_db_upgrade_then_status(config_file):
    assert run("--config", str(config_file), "db", "status").exit_code == 1
    result = run("--config", str(config_file), "db", "upgrade")
    assert "applied 1: base" in result.output and "applied 2: ledger" in result.output and result.exit_code == 0
    result = run("--config", str(config_file), "db", "status")
    assert result.exit_code == 0 and f"schema at version {LATEST} (latest {LATEST})" in result.output


def test_tick_runs_due_jobs_as_of_the_given_time(config_file):
    run("--config", str(config_file), "db", "upgrade")
    first = run("--config", str(config_file), "tick", "--now", "2026-07-01T12:00:00Z")
    assert "prune_job_runs: removed 0 old job runs" in first.output
    assert "settle_groups: settled 0 groups, granted 0 rewards" in first.output
    again = run("--config", str(config_file), "tick", "--now", "2026-07-01T12:30:00Z")
    assert "prune_job_runs" not in again.output and "settle_groups" in again.output  # every 1m vs hourly
    later = run("--config", str(config_file), "tick", "--now", "2026-07-01T13:00:00")
    assert "prune_job_runs" in later.output


def test_tick_refuses_a_bad_instant(config_file):
    result = CliRunner().invoke(main, ["--config", str(config_file), "tick", "--now", "yesterday"])
    assert result.exit_code == 2 and "expected an ISO time" in result.output


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_refuses_an_outdated_schema(config_file):
    done = subprocess.run([BRIDGE, "--config", str(config_file), "serve"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "run `bridge db upgrade`" in done.stderr


def test_worker_refuses_an_outdated_schema(config_file):
    done = subprocess.run([BRIDGE, "--config", str(config_file), "worker"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "run `bridge db upgrade`" in done.stderr


def test_serve_answers_healthz_from_the_production_server(config_file):
    """`--server waitress`: threads in one process, the jobs in that same process."""
    run("--config", str(config_file), "db", "upgrade")
    port = _free_port()
    server = subprocess.Popen([BRIDGE, "--config", str(config_file), "serve", "--server", "waitress", "--port",
                               str(port), "--with-worker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = _get_when_up(f"http://127.0.0.1:{port}/healthz")
        assert json.loads(body[1]) == {"status": "ok", "database": "ok", "schema": LATEST, "write": "ok"}
        assert body[0].get("Server") == "bridge"  # waitress, with our ident, not Werkzeug's dev server
        owners = _job_owners_when_run(config_file)
        _assert_unparsable_request_gets_json(port)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert "Serving on" in err and "WARNING: This is a development server" not in err
    assert {owner.split(":")[1] for owner in owners} == {str(server.pid)}  # --with-worker: jobs ran in that process
    assert '"event": "job done"' in err


def test_serve_runs_gunicorn_processes_by_default_and_stops_gracefully(config_file):
    """The default server: pre-forked web processes, the jobs in one process of their own; SIGTERM lets a
    request in flight finish, then everything exits 0."""
    run("--config", str(config_file), "db", "upgrade")
    port = _free_port()
    server = subprocess.Popen([BRIDGE, "--config", str(config_file), "serve", "--port", str(port), "--workers", "2",
                               "--with-worker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)  # a failed test can kill the web and job processes too
    try:
        body = _get_when_up(f"http://127.0.0.1:{port}/healthz")
        assert json.loads(body[1]) == {"status": "ok", "database": "ok", "schema": LATEST, "write": "ok"}
        assert body[0].get("Server") == "bridge"
        owners = _job_owners_when_run(config_file)
        pids = {owner.split(":")[1] for owner in owners}
        assert len(pids) == 1 and pids != {str(server.pid)}, pids  # one job process, not the web server itself
        assert _parent_of(int(next(iter(pids)))) == server.pid
        assert len(_children_of(server.pid)) == 2  # the two web processes (the job process is their sibling)
        _assert_unparsable_request_gets_json(port)
        # A request in flight: its body arrives in two halves, SIGTERM in between.
        with socket.create_connection(("127.0.0.1", port), timeout=20) as slow:
            slow.sendall(b"POST /webhooks/shop1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 10\r\n\r\n{\"a\": ")
            time.sleep(0.5)
            server.terminate()
            time.sleep(0.5)
            slow.sendall(b"1}   ")
            answer = slow.recv(65536)
        assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]  # answered, unsigned as it is
        out, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.communicate()
    assert server.returncode == 0, err[-2000:]
    assert "Serving on http://127.0.0.1:" in err and "with 2 processes" in err
    assert '"event": "worker stopped"' in err  # the job process was stopped too, after its running jobs


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("PPid:")).split()[1])


def _children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`, apart from the job process (`bridge worker`)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    command = cmdline.read()
                if _parent_of(int(entry)) == pid and command.rstrip(b"\0").split(b"\0")[-1] != b"worker":
                    found.append(int(entry))
            except (OSError, StopIteration):
                continue
    return found


def _assert_unparsable_request_gets_json(port: int) -> None:
    """A request the server itself cannot parse (a NUL in a header) is answered in the JSON error shape."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Odd: a\x00b\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = raw.recv(4096)
            if not chunk:
                break
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"400" and b"application/json" in head, answer[:300]
    assert json.loads(payload)["error"]["code"] == "bad_request"


def _job_owners_when_run(config_file, seconds=20):
    """Wait until the database records finished job runs; return who ran them."""
    from bridge.config import load_config
    from bridge.storage import bind
    from bridge.storage.db import db
    from bridge.storage.models import JobRun

    bind(load_config(str(config_file)).server.database_url)
    deadline = time.time() + seconds
    while True:
        with db.connection_context():
            owners = {r.owner for r in JobRun.select().where(JobRun.outcome == "ok")}
        if owners or time.time() > deadline:
            return owners
        time.sleep(0.2)


def _get_when_up(url, seconds=20):
    deadline = time.time() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.headers, response.read().decode()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def test_serve_on_a_busy_port_says_so_in_one_line(config_file):
    subprocess.run([BRIDGE, "--config", str(config_file), "db", "upgrade"], check=True, capture_output=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([BRIDGE, "--config", str(config_file), "serve", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "serving on" not in done.stdout
    assert done.stderr.strip().splitlines()[-1] == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_a_tick_into_the_future_never_stops_the_present(config_file, tmp_path):
    from bridge.config import load_config
    from bridge.storage import bind
    from bridge.storage.db import db
    from bridge.storage.models import JobRun, JobState

    # the tests' shop does not resolve: no polling here, so that every job's outcome is the clock's
    config_file.write_text(config_file.read_text().replace("    tone: tu", "    tone: tu\n    sync:\n      poll_every: \"off\""))
    assert run("--config", str(config_file), "db", "upgrade").exit_code == 0
    assert "settle_groups" in run("--config", str(config_file), "tick", "--now", "2030-01-01T00:00:00Z").output
    present = run("--config", str(config_file), "tick", "--now", "2026-07-01T12:00:00Z")
    assert present.exit_code == 0 and "settle_groups" in present.output, present.output  # not blocked until 2030
    assert "was recorded as run for 2030-01-01" in present.output
    for far in ("9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z"):
        refused = run("--config", str(config_file), "tick", "--now", far)
        assert refused.exit_code == 2 and "outside 2000-2099" in refused.output and "Traceback" not in refused.output
    config = load_config(str(config_file))
    bind(config.server.database_url)
    with db.connection_context():  # a record left near the calendar's end by an older bridge
        JobState.update(last_run_for=datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc)).execute()
    later = run("--config", str(config_file), "tick", "--now", "2026-07-02T12:00:00Z")
    assert later.exit_code == 0 and "settle_groups" in later.output, later.output
    with db.connection_context():
        assert JobRun.select().where(JobRun.outcome == "error").count() == 0


def test_an_unreachable_database_is_one_line_and_debug_shows_the_traceback(tmp_path, config_text):
    text = re.sub(r"database_url: .*", "database_url: postgresql://bridge:pw@127.0.0.1:1/nowhere", config_text)
    (tmp_path / "down.yaml").write_text(text)
    done = subprocess.run([BRIDGE, "--config", str(tmp_path / "down.yaml"), "ledger", "check"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: the database: "), done.stderr
    debug = subprocess.run([BRIDGE, "--config", str(tmp_path / "down.yaml"), "--debug", "ledger", "check"],
                           capture_output=True, text=True, timeout=60)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
