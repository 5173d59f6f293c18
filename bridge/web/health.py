"""GET /healthz: is this process up and can it reach its database at the right schema?"""

from flask import Blueprint, jsonify

from bridge.storage import SchemaOutOfDate, current_version, latest_version
from bridge.storage.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 when the database answers at the expected schema version, 503 otherwise."""
    try:
        db.execute_sql("SELECT 1")
        version = current_version()
    except Exception as exc:  # any driver error means "not healthy", not a crash
        return jsonify(status="error", database="unreachable", detail=type(exc).__name__), 503
    if version != latest_version():
        detail = str(SchemaOutOfDate(f"schema {version}, expected {latest_version()}"))
        return jsonify(status="error", database="out_of_date", detail=detail), 503
    return jsonify(status="ok", database="ok", schema=version)
