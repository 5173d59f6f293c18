"""POST /webhooks/<shop_id>: verify over the raw body, then treat the delivery as a hint."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from bridge.connectors import connector_for
from bridge.connectors.errors import (
    BadSignature,
    ConnectorError,
    NotFound,
    WebhookError,
)
from bridge.ingest import ingest
from bridge.secrets_store import shop_secret
from bridge.web.errors import error_response

bp = Blueprint("webhooks", __name__)
log = logging.getLogger("bridge.webhooks")


@bp.post("/webhooks/<shop_id>")
def receive(shop_id: str):
    """Answer the shop (WooCommerce, or PrestaShop's bridgehints module) as it expects; store nothing unless genuine."""
    config = current_app.extensions["bridge"].config
    try:
        shop = config.shop(shop_id)
    except KeyError:
        return error_response(404, "unknown_shop", f"no shop {shop_id!r}")
    connector = connector_for(shop)
    body = request.get_data(cache=False)  # the exact bytes that were signed
    try:
        event = connector.parse_webhook(connector.configured_secret() or shop_secret(shop.id), request.headers, body)
    except WebhookError as exc:
        log.warning("webhook refused", extra={"shop": shop.id, "reason": str(exc)})
        code = "bad_signature" if isinstance(exc, BadSignature) else "malformed_payload"
        return error_response(exc.status_code, code, str(exc))
    if event.kind == "ping":
        return "", 200  # exactly 200, or WooCommerce keeps the webhook pending
    if event.kind == "ignored":
        log.info("webhook topic ignored", extra={"shop": shop.id, "topic": event.topic})
        return jsonify(status="ignored", topic=event.topic)
    return _order_hint(config, connector, event)


def _order_hint(config, connector, event):
    """Fetch the order the delivery names (the shop's API is the truth) and ingest it."""
    shop = connector.shop.id
    try:
        order = connector.fetch_order(event.order_id)
    except NotFound:
        log.info("webhook order not found", extra={"shop": shop, "order": event.order_id, "topic": event.topic})
        return jsonify(status="gone", order=event.order_id)
    except ConnectorError as exc:
        # Answering an error would count towards WooCommerce disabling the webhook; the poll catches up.
        log.warning("webhook order not fetched", extra={"shop": shop, "order": event.order_id, "reason": str(exc)})
        return jsonify(status="deferred", order=event.order_id), 202
    changed = ingest(config, orders=[order])
    log.info("webhook order ingested", extra={"shop": shop, "order": order.id, "changed": bool(changed)})
    return jsonify(status="ok", order=order.id, changed=bool(changed))
