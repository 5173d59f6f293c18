"""Outbound events posted to the shops' endpoints: signed, in order, retried with backoff, paused after a day.

Each endpoint takes its events in the order they were written (the lowest pending first; a later one waits
while an earlier one is retried), so a receiver sees a group's events in order. A delivery is claimed for a
minute before its POST: a worker killed mid-delivery leaves it to be tried again (at least once; receivers
keep the event ids they have seen, as with Stripe's). The body is the event as JSON; `Bridge-Signature` is the
header the custom platform's orders carry (`t=<unix>,v1=<HMAC-SHA256(secret, "t." + body)>`).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

import requests
from peewee import fn

from bridge.config.model import Config, EventEndpoint, Shop
from bridge.connectors.custom import sign
from bridge.ledger import events as outbox
from bridge.ledger.news import enqueue
from bridge.storage.db import db
from bridge.storage.models import EndpointState, Event, EventAttempt, EventDelivery

log = logging.getLogger("bridge.delivery.events")
TIMEOUT = 10  # seconds for the endpoint to answer
LEASE = timedelta(minutes=1)  # a claimed delivery whose worker died is tried again after this
PAUSE_AFTER = timedelta(days=1)  # an endpoint failing for this long is paused and its owner told
RETRY_FOR = timedelta(days=3)  # a paused endpoint is still tried (every 6 hours) until it has failed this long
BATCH = 200  # events per endpoint per run

Post = Callable[[str, bytes, dict], requests.Response]


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after each failure, at most 6 hours (about 20 attempts over the first three days)."""
    return min(timedelta(minutes=1) * 2 ** max(attempts - 1, 0), timedelta(hours=6))


def deliver_events(config: Config, now: datetime, post: Post | None = None) -> str:
    """Post every due event to every endpoint of every shop; return a summary."""
    sent = failed = waiting = 0
    for shop in config.shops:
        for endpoint in shop.events:
            done, refused, left = deliver_to(shop, endpoint, now, post or _post)
            sent, failed, waiting = sent + done, failed + refused, waiting + left
    return f"events: {sent} delivered, {failed} failed attempts, {waiting} waiting"


def deliver_to(shop: Shop, endpoint: EventEndpoint, now: datetime, post: Post) -> tuple[int, int, int]:
    """Deliver one endpoint's due events in order, stopping at the first failure; (delivered, failed, waiting)."""
    state = _state(shop.id, endpoint.name)
    if state.state == "paused" and state.failing_since and now >= state.failing_since + RETRY_FOR:
        return 0, 0, _pending(shop.id, endpoint.name).count()  # given up until `bridge events resume`
    sent = failed = 0
    for _ in range(BATCH):
        head = _pending(shop.id, endpoint.name).order_by(EventDelivery.event).first()
        if head is None or head.next_at > now or not _claim(head, now):
            break
        event = Event.get_by_id(head.event)
        status, error, took = _attempt(post, endpoint, event)
        if error is not None:
            if sent:  # (what it took before failing again still counts as an answer)
                _answering(shop, endpoint, state, now)
            _failed(shop, endpoint, head, event, status, error, took, now)
            failed = 1
            break
        _delivered(shop, endpoint, head, event, status, took, now)
        sent += 1
    if sent and not failed:
        _answering(shop, endpoint, state, now)
    return sent, failed, _pending(shop.id, endpoint.name).count()


def _pending(shop_id: str, endpoint: str):
    return EventDelivery.select().where((EventDelivery.shop == shop_id) & (EventDelivery.endpoint == endpoint)
                                        & (EventDelivery.state == "pending"))


def _state(shop_id: str, endpoint: str) -> EndpointState:
    where = (EndpointState.shop == shop_id) & (EndpointState.endpoint == endpoint)
    found = EndpointState.get_or_none(where)
    if found is None:  # (a write only the first time: the job runs every 15 seconds)
        with db.atomic():
            EndpointState.insert(shop=shop_id, endpoint=endpoint, state="active").on_conflict_ignore().execute()
        found = EndpointState.get(where)
    return found


def _claim(head: EventDelivery, now: datetime) -> bool:
    """Take the delivery for a minute (compare-and-set on its attempts: two workers never post it at once)."""
    with db.atomic():
        return EventDelivery.update(attempts=EventDelivery.attempts + 1, next_at=now + LEASE).where(
            (EventDelivery.id == head.id) & (EventDelivery.attempts == head.attempts)
            & (EventDelivery.state == "pending")).execute() == 1


def body_of(event: Event) -> bytes:
    """The JSON an endpoint receives for an event."""
    return json.dumps({"id": event.id, "type": event.type, "created": event.at.isoformat().replace("+00:00", "Z"),
                       "shop": event.shop, "group": event.group, "data": json.loads(event.data)},
                      sort_keys=True, separators=(",", ":")).encode()


def _attempt(post: Post, endpoint: EventEndpoint, event: Event) -> tuple[int | None, str | None, int]:
    """POST the event; (HTTP status or None, error or None when 2xx, milliseconds)."""
    body = body_of(event)
    headers = {"Content-Type": "application/json", "User-Agent": "bridge-events/1",
               "Bridge-Event-Id": str(event.id), "Bridge-Event-Type": event.type,
               # signed at the wall clock's instant, which the receiver checks against its own
               "Bridge-Signature": sign(endpoint.secret, body, datetime.now(timezone.utc))}
    started = time.monotonic()
    try:
        answer = post(endpoint.url, body, headers)
    except requests.RequestException as exc:
        return None, f"no answer: {type(exc).__name__}: {exc}"[:1000], round((time.monotonic() - started) * 1000)
    took = round((time.monotonic() - started) * 1000)
    if 200 <= answer.status_code < 300:
        return answer.status_code, None, took
    return answer.status_code, f"HTTP {answer.status_code}: {answer.text[:300]}", took


def _post(url: str, body: bytes, headers: dict) -> requests.Response:
    # no redirects: an endpoint answers itself (a redirect is a failure the owner sees in the log)
    return requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)


def _delivered(shop, endpoint, head, event, status, ms: int, now: datetime) -> None:
    with db.atomic():
        EventDelivery.update(state="delivered", delivered_at=now, last_status=status, last_error=None).where(
            EventDelivery.id == head.id).execute()
        EventAttempt.create(shop=shop.id, endpoint=endpoint.name, event=event.id, at=now, status=status, ms=ms)


def _answering(shop, endpoint, state: EndpointState, now: datetime) -> None:
    """The endpoint took events this run: it is active, failing no more (one write per run, not per event)."""
    EndpointState.update(state="active", failing_since=None, paused_at=None, delivered_at=now).where(
        (EndpointState.shop == shop.id) & (EndpointState.endpoint == endpoint.name)).execute()
    if state.state == "paused":
        log.info("event endpoint answers again", extra={"shop": shop.id, "endpoint": endpoint.name})


def _failed(shop: Shop, endpoint: EventEndpoint, head, event, status, error: str, ms: int, now: datetime) -> None:
    """Retry later with backoff; after a day of failures pause the endpoint and tell its owner (once per pause)."""
    with db.atomic():
        EventDelivery.update(next_at=now + backoff(head.attempts + 1), last_status=status, last_error=error).where(
            EventDelivery.id == head.id).execute()
        EventAttempt.create(shop=shop.id, endpoint=endpoint.name, event=event.id, at=now, status=status, error=error, ms=ms)
        where = (EndpointState.shop == shop.id) & (EndpointState.endpoint == endpoint.name)
        EndpointState.update(failing_since=now).where(where & EndpointState.failing_since.is_null()).execute()
        paused = EndpointState.update(state="paused", paused_at=now).where(
            where & (EndpointState.state == "active") & (EndpointState.failing_since <= now - PAUSE_AFTER)).execute()
        if paused:
            enqueue(f"endpoint_paused:{shop.id}:{endpoint.name}:{now.isoformat()}", "endpoint_paused", shop.id, None,
                    endpoint.alert_email, now, shop_id=shop.id, endpoint=endpoint.name, error=error)
    log.warning("event not delivered", extra={"shop": shop.id, "endpoint": endpoint.name, "event": event.id,
                                              "status": status, "reason": error, "paused": bool(paused)})


def resume(shop: Shop, endpoint: str, now: datetime) -> int:
    """Make a paused (or failing) endpoint active again, its next event due now; return the events waiting."""
    if endpoint not in {e.name for e in shop.events}:
        raise LookupError(f"shop {shop.id!r} has no event endpoint {endpoint!r}")
    with db.atomic():
        EndpointState.update(state="active", failing_since=None, paused_at=None).where(
            (EndpointState.shop == shop.id) & (EndpointState.endpoint == endpoint)).execute()
        EventDelivery.update(next_at=now).where((EventDelivery.shop == shop.id) & (EventDelivery.endpoint == endpoint)
                                               & (EventDelivery.state == "pending")).execute()
    return _pending(shop.id, endpoint).count()


def replay(config: Config, now: datetime, event_id: int | None = None, since: datetime | None = None,
           shop_id: str | None = None, endpoint: str | None = None) -> int:
    """Send events again (one by id, or every one since an instant), in order, to their shop's endpoints (or one);
    endpoints configured after an event was written receive it too. Returns the deliveries queued."""
    which = (Event.id == event_id) if event_id is not None else (Event.at >= since)
    if shop_id is not None:
        which &= Event.shop == shop_id
    queued = 0
    with db.atomic():
        shops = [s for (s,) in Event.select(fn.DISTINCT(Event.shop)).where(which).tuples()]
        for shop in (config.shop(s) for s in shops if s in {c.id for c in config.shops}):
            for name in (e.name for e in shop.events if endpoint in (None, e.name)):
                chosen = which & (Event.shop == shop.id)
                outbox.add_deliveries(name, chosen)
                queued += EventDelivery.update(state="pending", next_at=now, delivered_at=None).where(
                    (EventDelivery.shop == shop.id) & (EventDelivery.endpoint == name)
                    & EventDelivery.event.in_(Event.select(Event.id).where(chosen))).execute()
    return queued


def delivery_log(shop_id: str, endpoint: str | None = None, limit: int = 50) -> list[EventAttempt]:
    """The latest attempts to deliver a shop's events, newest first."""
    where = EventAttempt.shop == shop_id
    if endpoint is not None:
        where &= EventAttempt.endpoint == endpoint
    return list(EventAttempt.select().where(where).order_by(EventAttempt.id.desc()).limit(limit))
