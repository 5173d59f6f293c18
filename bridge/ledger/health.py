"""A shop's setup health: what was last seen working, and what to do about what was not.

Each check says its state (ok, warning, problem, or unknown when nothing was seen yet), the instant it
is based on, and a key for the advice the page gives. No check calls the shop: it reads what bridge
recorded (link events, webhook signals, the sync cursor, job runs, the e-mail outbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from peewee import Case, fn

from bridge.basics.money import format_amount
from bridge.config.model import Config
from bridge.storage.models import (
    CouponCode,
    EmailMessage,
    EndpointState,
    EventAttempt,
    EventDelivery,
    JobRun,
    JobState,
    LinkEvent,
    Payout,
    Reward,
    ShopSignal,
    SyncCursor,
)

LOW_CODES = 5  # uploaded coupon codes of one amount: fewer left than this is worth a warning
RECENT = timedelta(days=7)  # the widget seen less recently than this on a kind of page: worth a look
SYNC_LATE = 3  # poll intervals without a successful sync before it is a problem


@dataclass(frozen=True)
class Check:
    """One line of the setup page."""

    name: str
    state: str  # ok | warning | problem | unknown
    at: datetime | None = None
    count: int | None = None
    detail: str = ""
    label: str = ""  # what the check is about, when a shop has several (an event endpoint's name)


def shop_health(config: Config, shop_id: str, now: datetime) -> list[Check]:
    """Every setup check of one shop, in the order the page shows them."""
    shop = config.shop(shop_id)
    checks = [_widget(shop_id, "view", "widget_thank_you", now), _widget(shop_id, "landing", "widget_pages", now)]
    checks += _webhooks(shop_id, now)
    checks.append(_sync(shop, now))
    checks.append(_jobs(shop_id, now))
    checks += _emails(shop_id, now)
    checks += [_endpoint(shop_id, e.name, now) for e in shop.events]
    checks += _coupon_codes(shop)
    return checks


def _widget(shop_id: str, kind: str, name: str, now: datetime) -> Check:
    last = LinkEvent.select(fn.MAX(LinkEvent.at)).where((LinkEvent.shop == shop_id) & (LinkEvent.kind == kind)).scalar()
    last = LinkEvent.at.python_value(last) if last is not None else None
    if last is None:
        return Check(name, "unknown")
    return Check(name, "ok" if now - last <= RECENT else "warning", last)


def _webhooks(shop_id: str, now: datetime) -> list[Check]:
    """The last genuine delivery (a refused one writes nothing: the log says why it was refused)."""
    ok = ShopSignal.get_or_none((ShopSignal.shop == shop_id) & (ShopSignal.name == "webhook_ok"))
    if ok is None:
        return [Check("webhooks", "unknown")]
    return [Check("webhooks", "ok" if now - ok.at <= RECENT else "warning", ok.at, ok.count, ok.detail)]


def _sync(shop, now: datetime) -> Check:
    cursor = SyncCursor.get_or_none(SyncCursor.shop == shop.id)
    state = JobState.get_or_none(JobState.name == f"sync_{shop.id}")
    if cursor is None:
        return Check("sync", "problem" if state and state.last_error else "unknown", detail=(state.last_error or "") if state else "")
    every = shop.sync.poll_every
    late = every is not None and now - cursor.updated_at > SYNC_LATE * every
    if state is not None and state.last_error:
        return Check("sync", "problem", cursor.updated_at, detail=state.last_error)
    lag = int((now - cursor.modified_after).total_seconds())
    return Check("sync", "warning" if late else "ok", cursor.updated_at, lag)


def _jobs(shop_id: str, now: datetime) -> Check:
    """Failed job runs of the last day (the shop's own poll, and the jobs every shop shares)."""
    failed = list(JobRun.select(JobRun.name, JobRun.finished_at, JobRun.detail).where(
        (JobRun.outcome == "error") & (JobRun.started_at >= now - timedelta(days=1))
        & ((JobRun.name == f"sync_{shop_id}") | ~JobRun.name.startswith("sync_"))).order_by(JobRun.id.desc()).limit(50))
    if not failed:
        return Check("jobs", "ok", count=0)
    return Check("jobs", "problem", failed[0].finished_at, len(failed), f"{failed[0].name}: {failed[0].detail or ''}")


def _emails(shop_id: str, now: datetime) -> list[Check]:
    counts = dict(EmailMessage.select(EmailMessage.state, fn.COUNT(EmailMessage.id)).where(
        (EmailMessage.shop == shop_id) & EmailMessage.state.in_(("queued", "failed"))).group_by(EmailMessage.state).tuples())
    oldest = EmailMessage.select(fn.MIN(EmailMessage.created_at)).where(
        (EmailMessage.shop == shop_id) & (EmailMessage.state == "queued")).scalar()
    oldest = EmailMessage.created_at.python_value(oldest) if oldest is not None else None
    late = oldest is not None and now - oldest > timedelta(minutes=15)
    out = [Check("emails_queued", "warning" if late else "ok", oldest, counts.get("queued", 0))]
    if counts.get("failed"):
        last = EmailMessage.select().where((EmailMessage.shop == shop_id) & (EmailMessage.state == "failed")).order_by(
            EmailMessage.updated_at.desc()).first()
        out.append(Check("emails_failed", "problem", last.updated_at, counts["failed"], last.last_error or ""))
    return out


def _endpoint(shop_id: str, name: str, now: datetime) -> Check:
    """An event endpoint: ok while it answers, a warning while it fails, a problem once paused."""
    state = EndpointState.get_or_none((EndpointState.shop == shop_id) & (EndpointState.endpoint == name))
    waiting = EventDelivery.select().where((EventDelivery.shop == shop_id) & (EventDelivery.endpoint == name)
                                           & (EventDelivery.state == "pending")).count()
    if state is None:
        return Check("events", "unknown", count=waiting, label=name)
    if state.failing_since is None:
        return Check("events", "ok", state.delivered_at, waiting, label=name)
    last = EventAttempt.select().where((EventAttempt.shop == shop_id) & (EventAttempt.endpoint == name)).order_by(
        EventAttempt.id.desc()).first()
    return Check("events", "problem" if state.state == "paused" else "warning", state.failing_since, waiting,
                 last.error if last else "", label=name)


def codes_left(shop_id: str) -> dict[Decimal, int]:
    """Uploaded coupon codes not taken yet, per amount (every amount ever uploaded, 0 when none is left)."""
    # (uploaded amounts are written in one form, so that they group as text on SQLite too)
    free = fn.SUM(Case(None, [(CouponCode.payout_key.is_null(), 1)], 0))
    return {CouponCode.amount.python_value(amount): int(count or 0) for amount, count in CouponCode.select(
        CouponCode.amount, free).where(CouponCode.shop == shop_id).group_by(CouponCode.amount).tuples()}


def _coupon_codes(shop) -> list[Check]:
    """A shop that uploaded coupon codes: how many are left of each amount; payouts waiting for one are a problem."""
    left = codes_left(shop.id)
    if not left:
        return []
    waiting = Payout.select().join(Reward).where(
        (Reward.shop == shop.id) & (Payout.state == "approved") & (Payout.method == "coupon")
        & Payout.last_error.startswith("no uploaded code")).count()
    low = sorted(a for a, n in left.items() if n < LOW_CODES)
    detail = ", ".join(f"{format_amount(a, shop.currency)}: {left[a]}" for a in sorted(left))
    state = "problem" if waiting else "warning" if low else "ok"
    return [Check("coupon_codes", state, count=sum(left.values()), detail=detail)]
