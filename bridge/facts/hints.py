"""Webhook hints: a delivery verified over its raw bytes names an order, which is then read from the shop.

The shop's API is the truth; a delivery's own body is never ingested. What the sender should be
answered is said as a `HintResult` (its HTTP status and body), for the web layer to send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping

from bridge.config.model import Config
from bridge.connectors import connector_for
from bridge.connectors.errors import BadSignature, ConnectorError, NotFound, WebhookError
from bridge.facts.ingest import ingest
from bridge.storage.secrets import shop_secret
from bridge.storage.signals import note_signal

log = logging.getLogger("bridge.facts.hints")


@dataclass(frozen=True)
class HintResult:
    """What to answer the sender: a status, and either a JSON body or an error (code and message)."""

    status: int
    body: dict | None = field(default=None)
    error: tuple[str, str] | None = None  # (code, message) of a refused delivery


def receive_hint(config: Config, shop_id: str, headers: Mapping[str, str], body: bytes) -> HintResult:
    """Verify a delivery for one shop and act on it; store nothing unless it is genuine."""
    try:
        shop = config.shop(shop_id)
    except KeyError:
        return HintResult(404, error=("unknown_shop", f"no shop {shop_id!r}"))
    connector = connector_for(shop)
    try:
        event = connector.parse_webhook(connector.configured_secret() or shop_secret(shop.id), headers, body)
    except WebhookError as exc:
        # (a refused delivery writes nothing, not even a count: it is in the log only)
        log.warning("webhook refused", extra={"shop": shop.id, "reason": str(exc)})
        return HintResult(exc.status_code, error=("bad_signature" if isinstance(exc, BadSignature)
                                                  else "malformed_payload", str(exc)))
    if event.kind == "ping":
        return HintResult(200)  # exactly 200, or WooCommerce keeps the webhook pending (and it is not signed)
    note_signal(shop.id, "webhook_ok", datetime.now(timezone.utc), event.topic or event.kind)  # a signed delivery
    if event.kind == "ignored":
        log.info("webhook topic ignored", extra={"shop": shop.id, "topic": event.topic})
        return HintResult(200, dict(status="ignored", topic=event.topic))
    try:
        order = connector.fetch_order(event.order_id)
    except NotFound:
        log.info("webhook order not found", extra={"shop": shop.id, "order": event.order_id, "topic": event.topic})
        return HintResult(200, dict(status="gone", order=event.order_id))
    except ConnectorError as exc:
        # Answering an error would count towards WooCommerce disabling the webhook; the poll catches up.
        log.warning("webhook order not fetched", extra={"shop": shop.id, "order": event.order_id, "reason": str(exc)})
        return HintResult(202, dict(status="deferred", order=event.order_id))
    changed = ingest(config, orders=[order])
    log.info("webhook order ingested", extra={"shop": shop.id, "order": order.id, "changed": bool(changed)})
    return HintResult(200, dict(status="ok", order=order.id, changed=bool(changed)))
