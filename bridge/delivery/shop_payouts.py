"""Payouts a hand-coded shop's system makes itself: asked by a payout.requested event, answered by a signed call.

`POST /api/v1/shops/<shop>/payouts/<key>` with `{"status": "done", "reference": "..."}` or
`{"status": "failed", "error": "..."}`, signed like the orders. A payout moves once: the same answer again is
answered 200 and changes nothing; an answer that contradicts the stored one, or about a payout bridge has not
asked for, is a 409 naming its state.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Mapping

from bridge.config.model import Config
from bridge.connectors.custom_orders import PushRefused, parse_payout_answer
from bridge.delivery.payouts import recipient
from bridge.facts.pushed import PushResult, refused, signed_by_shop
from bridge.ledger import events
from bridge.ledger.news import enqueue
from bridge.rewards.payouts import AT_SHOP, FAILED, PAID
from bridge.storage.db import db
from bridge.storage.models import Payout, Reward

log = logging.getLogger("bridge.delivery.shop_payouts")


def answer_payout(config: Config, shop_id: str, key: str, headers: Mapping[str, str], body: bytes,
                  now: datetime | None = None) -> PushResult:
    """Record a custom shop's answer about a payout it was asked to make (paid or failed), once."""
    now = now or datetime.now(timezone.utc)
    shop, result = signed_by_shop(config, shop_id, headers, body, now, "payout answer")
    if result:
        return result
    try:
        answer = parse_payout_answer(body)
    except PushRefused as exc:
        return refused(shop, "payout answer", exc)
    with db.atomic():
        payout = Payout.select(Payout, Reward).join(Reward).where((Payout.key == key) & (Reward.shop == shop.id)).first()
        if payout is None:
            return PushResult(404, error=("unknown_payout", f"shop {shop.id!r} has no payout {key!r}"))
        wanted = PAID if answer.status == "done" else FAILED
        if payout.state == wanted and (wanted == FAILED or payout.external_ref == answer.reference):
            return PushResult(200, _body(payout, wanted, changed=False))
        if payout.state != AT_SHOP:
            return PushResult(409, error=("not_asked", f"payout {key} is {payout.state.replace('_', ' ')}"
                                          + (f" with reference {payout.external_ref!r}" if payout.external_ref else "")
                                          + ": bridge is not waiting for an answer about it"))
        reward = payout.reward
        endpoints = events.endpoints_of(config, shop.id)
        if wanted == PAID:
            Payout.update(state=PAID, external_ref=answer.reference, last_error=None, updated_at=now).where(
                Payout.id == payout.id).execute()
            events.store(endpoints, [events.payout_event("payout.paid", payout, reward, now, reference=answer.reference)])
            enqueue(f"paid:{payout.key}", "payout_sent", shop.id, reward.campaign, recipient(reward), now, payout=payout.key)
        else:
            error = f"the shop's system: {answer.error or 'failed, without saying why'}"
            Payout.update(state=FAILED, last_error=error, updated_at=now).where(Payout.id == payout.id).execute()
            events.store(endpoints, [events.payout_event("payout.failed", payout, reward, now, f":{payout.attempts}",
                                                         error=error)])
    log.info("payout answered by the shop", extra={"shop": shop.id, "payout": key, "state": wanted})
    return PushResult(200, _body(payout, wanted, changed=True))


def _body(payout: Payout, state: str, changed: bool) -> dict:
    return dict(payout=payout.key, state=state, changed=changed)
