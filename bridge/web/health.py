"""GET /healthz: is this process up, can it reach its database at the right schema, and write to it?"""

from datetime import datetime, timezone

from flask import Blueprint, jsonify

from bridge.storage import SchemaOutOfDate, current_version, latest_version
from bridge.storage.db import db
from bridge.storage.models import JobState

bp = Blueprint("health", __name__)
PROBE = "healthz"  # one job_state row that every check rewrites: a write as small as writes get


@bp.get("/healthz")
def healthz():
    """200 when the database answers at the expected schema and takes a write; else 503 naming the part."""
    try:
        db.execute_sql("SELECT 1")
        version = current_version()
    except Exception as exc:  # any driver error means "not healthy", not a crash
        return jsonify(status="error", database="unreachable", detail=type(exc).__name__), 503
    if version != latest_version():
        detail = str(SchemaOutOfDate(f"schema {version}, expected {latest_version()}"))
        return jsonify(status="error", database="out_of_date", detail=detail), 503
    try:  # clicks and conversions write: a read-only database or a full disk must show here too
        with db.atomic():
            now = datetime.now(timezone.utc)
            if not JobState.update(lease_until=now).where(JobState.name == PROBE).execute():
                JobState.insert(name=PROBE, lease_until=now).on_conflict_ignore().execute()
    except Exception as exc:
        return jsonify(status="error", database="read_only", schema=version,
                       detail=f"{type(exc).__name__}: {str(exc)[:120]}"), 503
    return jsonify(status="ok", database="ok", schema=version, write="ok")
