"""A hand-coded shop's server calls these, signed (no browser does): POST /api/v1/shops/<shop>/orders sends its
orders, POST /api/v1/shops/<shop>/payouts/<key> answers about a payout it was asked to make."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from bridge.connectors.custom_orders import MAX_BODY
from bridge.delivery.shop_payouts import answer_payout
from bridge.facts.pushed import PushResult, receive_orders
from bridge.web.errors import error_response

bp = Blueprint("shop_api", __name__, url_prefix="/api/v1")


@bp.post("/shops/<shop_id>/orders")
def orders(shop_id: str) -> ResponseReturnValue:
    """Store the orders of the raw body (the exact bytes that were signed), or say what is wrong."""
    if (request.content_length or 0) > MAX_BODY:
        return error_response(413, "too_large", f"the body is over {MAX_BODY // (1024 * 1024)} MiB: send fewer orders")
    return _answer(receive_orders(current_app.extensions["bridge"].config, shop_id, request.headers,
                                  request.get_data(cache=False)))


@bp.post("/shops/<shop_id>/payouts/<key>")
def payout(shop_id: str, key: str) -> ResponseReturnValue:
    """Record that the shop's system made a payout (or could not), from the raw signed body."""
    if (request.content_length or 0) > 64 * 1024:
        return error_response(413, "too_large", "an answer about a payout is a few hundred bytes; this one is over 64 KiB")
    return _answer(answer_payout(current_app.extensions["bridge"].config, shop_id, key, request.headers,
                                 request.get_data(cache=False)))


def _answer(result: PushResult) -> ResponseReturnValue:
    if result.error is not None:
        return error_response(result.status, *result.error)
    response = jsonify(result.body)
    response.status_code = result.status
    response.headers["Cache-Control"] = "no-store"
    return response
