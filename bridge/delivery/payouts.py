"""Delivering payouts exactly once: a refund on the member's order, a coupon, or a SEPA transfer.

The life of a payout (states in `payout.state`):

    pending --approve--> approved --> sending --> paid
                                          \\--> failed (the shop refused; `bridge payouts retry` puts it back)
    sepa:   approved --> awaiting_iban --(claim page)--> ready --(export-sepa)--> in_batch --(sepa-sent)--> paid

A refund or coupon payout is marked `sending` and committed before the shop is called. If the process
dies there, the next run finds it `sending` and calls the shop again: `refund` and `create_coupon`
look the payout's key (the refund's meta and reason, the coupon's code derived from the key) up in
the shop before writing, so the money leaves once whatever happened in between.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta

from bridge.basics.codes import spell
from bridge.basics.money import format_amount
from bridge.config.model import Config
from bridge.connectors import connector_for, impatient_connector
from bridge.connectors.base import CouponSpec
from bridge.connectors.errors import ConnectorError, FatalError
from bridge.delivery.coupon_codes import has_code_list, take_code
from bridge.ledger import events
from bridge.ledger.news import enqueue
from bridge.rewards.payouts import APPROVED, AT_SHOP, AWAITING_IBAN, FAILED, PAID, READY, SENDING
from bridge.storage.db import db
from bridge.storage.models import (
    Advocate,
    BankAccount,
    OrderFact,
    Payout,
    Reward,
    WelcomeCoupon,
)

log = logging.getLogger("bridge.delivery.payouts")
MAX_ATTEMPTS = 8  # passing failures in a row before a payout is failed for an admin to look at
SHOP_METHODS = ("refund", "coupon")
BATCH = 100


def backoff(attempts: int) -> timedelta:
    """How long a payout waits after its n-th passing failure: 5 min, doubling, at most 6 h."""
    return min(timedelta(minutes=5) * 2 ** max(attempts - 1, 0), timedelta(hours=6))


def coupon_code(secret_key: str, payout_key: str) -> str:
    """The coupon code of a payout: derived from its key (so a retry finds the same coupon), unguessable."""
    digest = hmac.new(secret_key.encode(), f"coupon:{payout_key}".encode(), hashlib.sha256).digest()
    return "CB" + spell(int.from_bytes(digest[:10], "big"), 12)


def deliver_payouts(config: Config, now: datetime) -> str:
    """Execute every approved payout that is due (and finish interrupted ones); return a summary."""
    counts = {PAID: 0, FAILED: 0, "retry": 0, AWAITING_IBAN: 0, READY: 0, AT_SHOP: 0, "no_code": 0}
    rows = list(Payout.select(Payout, Reward).join(Reward).where(Payout.state.in_((APPROVED, SENDING)))
                .order_by(Payout.id).limit(BATCH * 10))
    for payout in rows:
        if payout.state == APPROVED and payout.attempts and now < payout.updated_at + backoff(payout.attempts):
            continue
        outcome = deliver_one(config, payout, now)
        counts[outcome] = counts.get(outcome, 0) + 1
    welcome = create_welcome_coupons(config, now)
    return (f"payouts: {counts['paid']} paid, {counts['retry']} to retry, {counts['failed']} failed, "
            f"{counts['awaiting_iban']} awaiting an IBAN, {counts['ready']} ready for a SEPA file, "
            f"{counts[AT_SHOP]} asked of the shop, {counts['no_code']} waiting for an uploaded code; "
            f"{welcome} welcome coupons created")


def deliver_one(config: Config, payout: Payout, now: datetime) -> str:
    """Deliver one payout; return what became of it."""
    reward = payout.reward
    if payout.method == "sepa":
        return _ask_for_account(config, payout, reward, now)
    if config.shop(reward.shop).platform == "custom":
        return _ask_the_shop(config, payout, reward, now)
    with db.atomic():
        claimed = Payout.update(state=SENDING, attempts=Payout.attempts + 1, updated_at=now).where(
            (Payout.id == payout.id) & Payout.state.in_((APPROVED, SENDING))).execute()
    if not claimed:
        return "skipped"  # an admin cancelled it meanwhile
    shop = config.shop(reward.shop)
    order = OrderFact.get_or_none((OrderFact.shop == reward.shop) & (OrderFact.order_id == reward.order_id))
    try:
        connector = connector_for(shop)
        if payout.method == "refund":
            if order is None:
                raise FatalError(f"no order {reward.order_id!r} to refund", shop.id)
            reference = connector.refund(reward.order_id, payout.amount, payout.key, _reason(config, reward))
        else:
            code = coupon_code(config.server.secret_key, payout.key)
            connector.create_coupon(CouponSpec(code=code, email=recipient(reward), amount=payout.amount,
                                               description=_reason(config, reward)))
            reference = code
    except (ConnectorError, LookupError) as exc:
        return _failed(config, payout, exc, now)
    with db.atomic():
        Payout.update(state=PAID, external_ref=str(reference), last_error=None, updated_at=now).where(
            Payout.id == payout.id).execute()
        events.store(events.endpoints_of(config, reward.shop), [
            events.payout_event("payout.paid", payout, reward, now, reference=str(reference))])
        enqueue(f"paid:{payout.key}", "payout_sent", reward.shop, reward.campaign, recipient(reward), now,
                payout=payout.key)
    log.info("payout paid", extra={"payout": payout.key, "method": payout.method, "shop": reward.shop})
    return PAID


def _failed(config: Config, payout: Payout, exc: Exception, now: datetime) -> str:
    """Record a failure: passing ones are retried later with backoff, others wait for an admin."""
    final = isinstance(exc, (FatalError, LookupError)) or payout.attempts + 1 >= MAX_ATTEMPTS
    state = FAILED if final else APPROVED
    with db.atomic():
        Payout.update(state=state, last_error=str(exc)[:1000], updated_at=now).where(Payout.id == payout.id).execute()
        if final:  # (the attempt in the key: a payout retried by an admin can fail again)
            events.store(events.endpoints_of(config, payout.reward.shop), [events.payout_event(
                "payout.failed", payout, payout.reward, now, f":{payout.attempts + 1}", error=str(exc)[:1000])])
    log.warning("payout not delivered", extra={"payout": payout.key, "state": state, "reason": str(exc)})
    return FAILED if final else "retry"


def _ask_the_shop(config, payout: Payout, reward: Reward, now: datetime) -> str:
    """A hand-coded shop's system makes the refund or coupon itself: ask it with a payout.requested event (once),
    then wait for its signed answer (`delivery.shop_payouts`)."""
    shop = config.shop(reward.shop)
    with db.atomic() as transaction:
        code = None
        if payout.method == "coupon":
            code = (take_code(shop, payout, tuple(e.alert_email for e in shop.events if e.alert_email), now)
                    if has_code_list(shop.id) else coupon_code(config.server.secret_key, payout.key))
            if code is None:  # the owner's list has no code of this amount left: wait for an upload
                Payout.update(last_error=f"no uploaded code of {format_amount(payout.amount, payout.currency)} left: "
                              f"upload more with `bridge coupons upload {shop.id} FILE`", updated_at=now).where(
                    Payout.id == payout.id).execute()
                return "no_code"
        asked = Payout.update(state=AT_SHOP, attempts=Payout.attempts + 1, last_error=None, updated_at=now).where(
            (Payout.id == payout.id) & Payout.state.in_((APPROVED, SENDING))).execute()
        if not asked:
            transaction.rollback()  # (an admin cancelled it meanwhile: the code stays free)
            return "skipped"
        events.store(events.endpoints_of(config, reward.shop), [events.payout_event(
            "payout.requested", payout, reward, now, f":ask:{payout.attempts + 1}", execute=True, state=AT_SHOP,
            email=recipient(reward), coupon_code=code, reason=_reason(config, reward))])
    log.info("payout asked of the shop", extra={"payout": payout.key, "method": payout.method, "shop": reward.shop})
    return AT_SHOP


def _ask_for_account(config, payout: Payout, reward: Reward, now: datetime) -> str:
    """A SEPA payout needs the person's account: ready if they gave it, else ask by e-mail (once)."""
    with db.atomic():
        if BankAccount.select().where(BankAccount.payout == payout.id).exists():
            Payout.update(state=READY, updated_at=now).where(Payout.id == payout.id).execute()
            return READY
        Payout.update(state=AWAITING_IBAN, updated_at=now).where(Payout.id == payout.id).execute()
        enqueue(f"iban:{payout.key}", "claim_iban", reward.shop, reward.campaign, recipient(reward), now,
                payout=payout.key)
    return AWAITING_IBAN


def create_welcome_coupons(config: Config, now: datetime) -> int:
    """Create the friends' welcome coupons decided by the referral flow, once each, then tell the friend."""
    rows = WelcomeCoupon.select().where(WelcomeCoupon.state == "to_create").order_by(WelcomeCoupon.id).limit(BATCH)
    return sum(create_welcome_coupon(config, row, now) == "created" for row in rows)


def create_welcome_coupon(config: Config, row: WelcomeCoupon, now: datetime, timeout: float | None = None) -> str:
    """Create one welcome coupon in the shop (once: the code is the key) and tell the friend; return its state.

    The widget's request calls it at once with a short `timeout`, so that a code is shown only once the
    shop has it; what cannot be done now stays `to_create` for the delivery job.
    """
    campaign = next((c for c in config.campaigns if c.id == row.campaign), None)
    if campaign is None:
        return row.state
    shop = config.shop(campaign.shop)
    try:
        # The person is waiting: no second try now, the job tries later.
        connector = connector_for(shop) if timeout is None else impatient_connector(shop, timedelta(seconds=timeout))
        connector.create_coupon(CouponSpec(
            code=row.coupon_code, email=row.email, percent=row.percent, amount=row.amount,
            minimum_order=row.minimum_order, expires_at=row.expires_at, description=f"{campaign.name}: welcome"))
    except FatalError as exc:
        with db.atomic():
            WelcomeCoupon.update(state="failed").where(WelcomeCoupon.id == row.id).execute()
        log.warning("welcome coupon refused", extra={"campaign": row.campaign, "reason": str(exc)})
        return "failed"
    except (ConnectorError, LookupError) as exc:
        log.warning("welcome coupon not created yet", extra={"campaign": row.campaign, "reason": str(exc)})
        return "to_create"
    with db.atomic():
        WelcomeCoupon.update(state="created").where(WelcomeCoupon.id == row.id).execute()
        enqueue(f"welcome:{row.campaign}:{row.email_norm}", "welcome_coupon", campaign.shop, row.campaign, row.email,
                now, coupon=row.coupon_code)
    return "created"


def _reason(config, reward: Reward) -> str:
    campaign = next((c for c in config.campaigns if c.id == reward.campaign), None)
    return f"{(campaign.name or campaign.id) if campaign else reward.campaign}: cashback"


def recipient(reward: Reward) -> str | None:
    """The address a reward's news goes to: the order's e-mail, else the advocate's (referrers without an order)."""
    order = OrderFact.get_or_none((OrderFact.shop == reward.shop) & (OrderFact.order_id == reward.order_id))
    if order is not None and order.email:
        return order.email
    advocate = Advocate.get_or_none((Advocate.campaign == reward.campaign) & (Advocate.email_norm == reward.email_norm))
    return advocate.email if advocate else None
