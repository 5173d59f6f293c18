"""POST /api/v1/shops/<shop>/orders: a hand-coded shop's server sends its orders (signed; no browser calls it)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from bridge.connectors.custom_orders import MAX_BODY
from bridge.facts.pushed import receive_orders
from bridge.web.errors import error_response

bp = Blueprint("shop_api", __name__, url_prefix="/api/v1")


@bp.post("/shops/<shop_id>/orders")
def orders(shop_id: str) -> ResponseReturnValue:
    """Store the orders of the raw body (the exact bytes that were signed), or say what is wrong."""
    if (request.content_length or 0) > MAX_BODY:
        return error_response(413, "too_large", f"the body is over {MAX_BODY // (1024 * 1024)} MiB: send fewer orders")
    result = receive_orders(current_app.extensions["bridge"].config, shop_id, request.headers,
                            request.get_data(cache=False))
    if result.error is not None:
        return error_response(result.status, *result.error)
    response = jsonify(result.body)
    response.status_code = result.status
    response.headers["Cache-Control"] = "no-store"
    return response
