"""Is the database reachable, at the expected schema, and does it take a write? (what /healthz answers)."""

from __future__ import annotations

from datetime import datetime, timezone

from bridge.storage.db import db
from bridge.storage.migrations import SchemaOutOfDate, current_version, latest_version
from bridge.storage.models import JobState

PROBE = "healthz"  # one job_state row that every check rewrites: a write as small as writes get


def database_health() -> tuple[bool, dict]:
    """(healthy, what to answer): 'unreachable', 'out_of_date' or 'read_only' name the part that fails."""
    try:
        db.execute_sql("SELECT 1")
        version = current_version()
    except Exception as exc:  # any driver error means "not healthy", not a crash
        return False, dict(status="error", database="unreachable", detail=type(exc).__name__)
    if version != latest_version():
        detail = str(SchemaOutOfDate(f"schema {version}, expected {latest_version()}"))
        return False, dict(status="error", database="out_of_date", detail=detail)
    try:  # clicks and conversions write: a read-only database or a full disk must show here too
        with db.atomic():
            now = datetime.now(timezone.utc)
            if not JobState.update(lease_until=now).where(JobState.name == PROBE).execute():
                JobState.insert(name=PROBE, lease_until=now).on_conflict_ignore().execute()
    except Exception as exc:
        return False, dict(status="error", database="read_only", schema=version,
                           detail=f"{type(exc).__name__}: {str(exc)[:120]}")
    return True, dict(status="ok", database="ok", schema=version, write="ok")
