"""Jobs: due-ness on logical time, leases that never let two runners in, and real worker processes."""

import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

from bridge.schedule.jobs import Job, acquire_lease, is_due, release_lease, run_due_jobs, run_job
from bridge.storage.db import db
from bridge.storage.models import JobRun, JobState

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
LEASE = timedelta(minutes=5)


def counting_job(name="count", every=timedelta(minutes=10)):
    calls = []
    return Job(name, every, lambda now: calls.append(now) or f"call {len(calls)}"), calls


def test_job_runs_when_due_on_logical_time(migrated):
    job, calls = counting_job()
    assert run_due_jobs([job], T0, "me", LEASE) == {"count": "call 1"}
    assert run_due_jobs([job], T0 + timedelta(minutes=9), "me", LEASE) == {}
    assert run_due_jobs([job], T0 + timedelta(minutes=10), "me", LEASE) == {"count": "call 2"}
    assert calls == [T0, T0 + timedelta(minutes=10)]
    runs = list(JobRun.select().order_by(JobRun.id))
    assert [r.outcome for r in runs] == ["ok", "ok"] and runs[0].run_for == T0


def test_failed_job_is_recorded_and_retried(migrated):
    attempts = []

    def flaky(now):
        attempts.append(now)
        if len(attempts) == 1:
            raise RuntimeError("shop down")
        return "ok now"

    job = Job("flaky", timedelta(minutes=10), flaky)
    assert run_job(job, T0, "me", LEASE) == "error: RuntimeError: shop down"
    assert JobState.get_by_id("flaky").last_error == "RuntimeError: shop down"
    assert run_job(job, T0, "me", LEASE) == "ok now"  # still due: a failure does not move the clock
    assert JobState.get_by_id("flaky").last_error is None


def test_lease_excludes_other_owners_until_expiry(migrated):
    assert acquire_lease("job", "a", LEASE)
    assert not acquire_lease("job", "b", LEASE)
    assert acquire_lease("job", "a", LEASE)  # re-entrant for its owner
    release_lease("job", "b")  # not b's to release
    assert not acquire_lease("job", "b", LEASE)
    release_lease("job", "a")
    assert acquire_lease("job", "b", LEASE)
    JobState.update(lease_until=datetime.now(timezone.utc) - timedelta(seconds=1)).execute()
    assert acquire_lease("job", "c", LEASE)  # an expired lease (dead worker) is taken over


def test_concurrent_lease_attempts_have_one_winner(migrated, database_url):

    winners = []
    barrier = threading.Barrier(8)

    def attempt(owner):
        barrier.wait()
        with db.connection_context():
            if acquire_lease("contested", owner, LEASE):
                winners.append(owner)

    db.close()
    threads = [threading.Thread(target=attempt, args=(f"owner{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    db.connect(reuse_if_open=True)


def _overlaps(runs):
    """Return pairs of runs of the same job whose time spans intersect."""
    spans = sorted((r.started_at, r.finished_at, r.owner) for r in runs)
    return [(a, b) for a, b in zip(spans, spans[1:]) if b[0] < a[1]]


# The venv's own entry point: a bare `bridge` on PATH can be iproute2's bridge tool.
BRIDGE = os.path.join(os.path.dirname(sys.executable), "bridge")


def _env():
    return {**os.environ, "PYTHONPATH": os.getcwd()}


def test_two_worker_processes_never_run_the_same_job_at_once(migrated, config_file):
    db.close()
    workers = [subprocess.Popen([sys.executable, "-m", "tests.worker_harness", str(config_file), "6"], env=_env())
               for _ in range(2)]
    for worker in workers:
        assert worker.wait(timeout=60) == 0
    db.connect(reuse_if_open=True)
    runs = list(JobRun.select().where((JobRun.name == "slow") & (JobRun.outcome == "ok")))
    assert len(runs) >= 6, "the slow job should have run many times in 6 s"
    # Which worker wins each turn is up to the scheduler (one may win them all on a busy machine): the
    # guarantee under test is that two processes contending for the lease never overlap.
    assert _overlaps(runs) == []


def test_two_bridge_worker_commands_run_a_due_job_once(migrated, config_file):
    from bridge.storage import upgrade

    upgrade()
    db.close()
    env = {**_env(), "BRIDGE_CONFIG": str(config_file)}
    workers = [subprocess.Popen([BRIDGE, "worker"], env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(4)
    for worker in workers:
        worker.terminate()
    logs = [worker.communicate(timeout=30)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], logs
    db.connect(reuse_if_open=True)
    runs = list(JobRun.select().where(JobRun.name == "prune_job_runs"))
    assert len(runs) == 1, "an hourly job started by two workers at once runs once"
    assert all('"worker stopped"' in log for log in logs)


def test_is_due_without_state(migrated):
    job, _ = counting_job()
    assert is_due(job, T0)


def test_a_run_recorded_a_moment_after_our_now_is_another_workers_run_of_the_present(migrated):
    """Two workers read the clock, then queue for the lease: the second must not run the job again."""
    job, calls = counting_job(every=timedelta(hours=1))
    assert run_job(job, T0 + timedelta(seconds=2), "first", LEASE) == "call 1"
    assert run_job(job, T0, "second", LEASE) is None  # its `now` was read 2 s before the first's
    assert not is_due(job, T0 + timedelta(minutes=59))
    assert run_job(job, T0 - timedelta(days=1), "tick", LEASE) == "call 2"  # far behind: a clock that went back
    assert len(calls) == 2
