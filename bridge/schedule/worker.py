"""The worker: APScheduler triggers each job; the database lease keeps it single across workers."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from bridge.schedule.jobs import Job, run_job, utcnow
from bridge.schedule.runtime import Runtime
from bridge.storage.db import db

log = logging.getLogger("bridge.schedule.worker")


def _trigger(job: Job, runtime: Runtime):
    """Wrap a job for APScheduler: each run uses the wall clock as its logical `now`."""

    def fire():
        with db.connection_context():
            run_job(job, utcnow(), runtime.owner, runtime.config.server.worker.lease)

    return fire


def schedule(scheduler: BaseScheduler, runtime: Runtime, jobs: list[Job]) -> BaseScheduler:
    """Add each job to the scheduler, first run at once, then every `job.every`."""
    for job in jobs:
        scheduler.add_job(_trigger(job, runtime), "interval", seconds=job.every.total_seconds(), id=job.name,
                          next_run_time=utcnow(), max_instances=1, coalesce=True, misfire_grace_time=None)
    return scheduler


def background_worker(runtime: Runtime, jobs: list[Job] | None = None) -> BackgroundScheduler:
    """Start the jobs in threads of this process (`bridge serve --with-worker`)."""
    scheduler = schedule(BackgroundScheduler(timezone=timezone.utc), runtime, jobs or runtime.jobs())
    scheduler.start()
    log.info("worker started in the web process", extra={"owner": runtime.owner})
    return scheduler


def run_worker(runtime: Runtime, jobs: list[Job] | None = None) -> None:
    """Run the jobs until SIGTERM or SIGINT (`bridge worker`), then let running jobs finish."""
    stopping = threading.Event()

    def stop(signum, frame):
        # Only flag it: shutting the scheduler down inside a signal handler races with its own loop.
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler = schedule(BackgroundScheduler(timezone=timezone.utc), runtime, jobs or runtime.jobs())
    scheduler.start()
    log.info("worker started", extra={"owner": runtime.owner, "jobs": [j.id for j in scheduler.get_jobs()]})
    stopping.wait()
    log.info("worker stopping", extra={"owner": runtime.owner})
    scheduler.shutdown(wait=True)
    log.info("worker stopped", extra={"owner": runtime.owner})
