"""GET /healthz: is this process up, can it reach its database at the right schema, and write to it?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from bridge.storage.health import database_health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers at the expected schema and takes a write; else 503 naming the part."""
    healthy, body = database_health()
    return jsonify(**body), 200 if healthy else 503
