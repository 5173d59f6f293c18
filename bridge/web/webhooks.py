"""POST /webhooks/<shop_id>: the raw body to `facts.hints`, and its answer back to the shop."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from bridge.facts.hints import receive_hint
from bridge.web.errors import error_response

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/<shop_id>")
def receive(shop_id: str) -> ResponseReturnValue:
    """Answer the shop (WooCommerce, or PrestaShop's bridgehints module) as it expects."""
    config = current_app.extensions["bridge"].config
    # The exact bytes that were signed.
    result = receive_hint(config, shop_id, request.headers, request.get_data(cache=False))
    if result.error is not None:
        return error_response(result.status, *result.error)
    if result.body is None:
        return "", result.status
    return jsonify(result.body), result.status
