"""Jobs: what the worker runs, when it is due, and the database lease that keeps it single.

A job is due at logical instant `now` when it never ran or ran for an instant at least `every`
before. `bridge tick --now T` and the worker both go through `run_job`, which takes the job's lease
in the database first, so that two workers (or a worker and a tick) never run the same job at once.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from bridge.storage.db import db
from bridge.storage.models import JobRun, JobState

log = logging.getLogger("bridge.schedule.jobs")


class ExpectedFailure(Exception):
    """A failure a job foresees (a shop that is away): recorded and logged without a traceback."""


@dataclass(frozen=True)
class Job:
    """A named piece of work run every `every`; `run(now)` returns a one-line summary."""

    name: str
    every: timedelta
    run: Callable[[datetime], str]


def new_owner() -> str:
    """Name this process uniquely, for leases and run records."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def utcnow() -> datetime:
    """Return the wall clock in UTC (leases use the wall clock, never the logical `now`)."""
    return datetime.now(timezone.utc)


def acquire_lease(name: str, owner: str, ttl: timedelta) -> bool:
    """Take the job's lease if it is free or expired; a conditional UPDATE makes it race-free."""
    wall = utcnow()
    with db.atomic():
        JobState.insert(name=name).on_conflict_ignore().execute()
        taken = (JobState.update(owner=owner, lease_until=wall + ttl)
                 .where((JobState.name == name)
                        & (JobState.owner.is_null() | (JobState.lease_until < wall) | (JobState.owner == owner)))
                 .execute())
    return taken == 1


def release_lease(name: str, owner: str) -> None:
    """Give the lease back (only if we still hold it)."""
    with db.atomic():
        JobState.update(owner=None, lease_until=None).where(
            (JobState.name == name) & (JobState.owner == owner)).execute()


# Two workers each take the wall clock as their `now`, then queue for the lease: the one that gets it
# second may find a run recorded for an instant a little after its own `now`. That is a run of the
# present, not one in the future (seen: an hourly job run twice by two workers started together).
CONCURRENT = timedelta(minutes=1)


def is_due(job: Job, now: datetime) -> bool:
    """Tell whether the job should run for logical instant `now`.

    A run recorded for an instant after `now` (a `bridge tick --now` into the future, a clock that went
    back) must not stop the present: it counts as not run yet, and the next run records `now` again.
    Only a run recorded within CONCURRENT after `now` counts as done: another worker's run of the present.
    """
    state = JobState.get_or_none(JobState.name == job.name)
    last = state.last_run_for if state else None
    if last is None:
        return True
    if now < last <= now + CONCURRENT:
        return False  # another worker ran it for its own `now`, read a moment after ours
    if last > now:
        log.warning("a run is recorded in the future: running as if it had not happened",
                    extra={"job": job.name, "recorded_for": last.isoformat(), "now": now.isoformat()})
        return True
    try:
        return now >= last + job.every
    except OverflowError:  # a record near the end of the calendar
        return True


def run_job(job: Job, now: datetime, owner: str, ttl: timedelta) -> str | None:
    """Run the job once for `now` if it is due and its lease is ours; return its summary or None."""
    if not is_due(job, now) or not acquire_lease(job.name, owner, ttl):
        return None
    try:
        if not is_due(job, now):  # another process ran it while we were taking the lease
            return None
        return _run_recorded(job, now, owner)
    finally:
        release_lease(job.name, owner)


def _run_recorded(job: Job, now: datetime, owner: str) -> str:
    """Run the job, keep a JobRun row, and move its last_run_for forward."""
    with db.atomic():
        record = JobRun.create(name=job.name, owner=owner, run_for=now, started_at=utcnow())
    try:
        detail = job.run(now) or "done"
    except Exception as exc:
        if isinstance(exc, ExpectedFailure):
            log.warning("job failed", extra={"job": job.name, "reason": str(exc)})
        else:
            log.exception("job failed", extra={"job": job.name})
        with db.atomic():
            JobRun.update(finished_at=utcnow(), outcome="error", detail=f"{type(exc).__name__}: {exc}").where(
                JobRun.id == record.id).execute()
            JobState.update(last_error=f"{type(exc).__name__}: {exc}").where(JobState.name == job.name).execute()
        return f"error: {type(exc).__name__}: {exc}"
    with db.atomic():
        JobRun.update(finished_at=utcnow(), outcome="ok", detail=detail).where(JobRun.id == record.id).execute()
        JobState.update(last_run_for=now, last_error=None).where(JobState.name == job.name).execute()
    log.info("job done", extra={"job": job.name, "detail": detail})
    return detail


def run_due_jobs(jobs: list[Job], now: datetime, owner: str, ttl: timedelta) -> dict[str, str]:
    """Run every due job once for `now` (what `bridge tick` does); return name -> summary."""
    return {job.name: result for job in jobs if (result := run_job(job, now, owner, ttl)) is not None}


def prune_job_runs(keep: timedelta = timedelta(days=30)) -> Callable[[datetime], str]:
    """Build the housekeeping job that deletes run records older than `keep`."""

    def run(now: datetime) -> str:
        with db.atomic():
            removed = JobRun.delete().where(JobRun.finished_at < now - keep).execute()
        return f"removed {removed} old job runs"

    return run
