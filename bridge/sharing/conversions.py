"""The widget's conversion report: an order checked with the shop by its key, and the code it came with, as facts."""

from __future__ import annotations

from datetime import datetime

from bridge.config.model import Config
from bridge.connectors import connector_for
from bridge.facts.ingest import ingest
from bridge.facts.order_keys import Use, code_claims
from bridge.sharing.targets import CODE
from bridge.sharing.widget import shop_public, thank_you


def report_conversion(config: Config, shop_id: str, order_id: str, key: str, code: str | None, now: datetime) -> dict:
    """Check an order with the shop (its key), record the code it came with, and return its thank-you view.

    The order is fetched from the shop's API whatever the webhooks did, so the page works at once.
    Raises ConnectorError (NotFound for a wrong key) for the caller to answer.
    """
    order = connector_for(config.shop(shop_id)).fetch_order_with_key(order_id, key)
    head, _, tag = (code or "").upper().partition(".")
    claims, referral_claims = code_claims(config, {head: [Use(order, "widget", tag or None, now)]}) if (
        CODE.fullmatch(head)) else ([], [])
    ingest(config, orders=[order], claims=claims, referral_claims=referral_claims, now=now)
    view = thank_you(config, shop_id, order.id, now)
    if view.get("state") == "none" and not order.paid and not order.cancelled and config.campaigns_of(shop_id):
        # A bank transfer or a slow gateway: the link comes once the shop says paid (the widget asks again).
        view.update(state="awaiting_payment", shop=shop_public(config.shop(shop_id), "group"))
    return view
