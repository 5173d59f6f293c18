"""`bridge events`: the outbound events' endpoints, their delivery log, replays and resuming a paused endpoint."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from bridge.cli import Context, _check_shop, _require_schema, main, pass_context
from bridge.delivery.events import deliver_events, delivery_log, replay, resume
from bridge.storage.db import db
from bridge.storage.models import EndpointState, Event, EventDelivery


@main.group()
def events() -> None:
    """Outbound events: endpoints, delivery log, replay, resume."""


@events.command("endpoints")
@pass_context
def events_endpoints(ctx: Context) -> None:
    """Each shop's event endpoints: active or paused, failing since when, events waiting."""
    config = ctx.runtime().config
    _require_schema()
    found = False
    with db.connection_context():
        for shop in config.shops:
            for endpoint in shop.events:
                found = True
                state = EndpointState.get_or_none((EndpointState.shop == shop.id) & (EndpointState.endpoint == endpoint.name))
                waiting = EventDelivery.select().where((EventDelivery.shop == shop.id) & (EventDelivery.endpoint == endpoint.name)
                                                       & (EventDelivery.state == "pending")).count()
                health = state.state if state else "active"
                if state and state.failing_since:
                    health += f", failing since {state.failing_since:%Y-%m-%d %H:%M} UTC"
                click.echo(f"{shop.id}/{endpoint.name}  {endpoint.url}  {health}  {waiting} waiting")
    if not found:
        click.echo("no shop has event endpoints (shops[].events in the configuration)")


@events.command("log")
@click.argument("shop")
@click.option("--endpoint", help="One endpoint of the shop (default: all).")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@pass_context
def events_log(ctx: Context, shop: str, endpoint: str | None, limit: int) -> None:
    """The latest delivery attempts of a shop's events, newest first."""
    config = ctx.runtime().config
    _check_shop(config, shop)
    _require_schema()
    with db.connection_context():
        rows = delivery_log(shop, endpoint, limit)
        types = dict(Event.select(Event.id, Event.type).where(Event.id.in_([r.event for r in rows])).tuples())
        for row in rows:
            answer = f"HTTP {row.status}" if row.status is not None else "no answer"
            click.echo(f"{row.at:%Y-%m-%d %H:%M:%S}  {row.endpoint}  event {row.event} {types.get(row.event, '?')}  "
                       f"{answer}  {row.ms} ms" + (f"  {row.error}" if row.error else ""))
    if not rows:
        click.echo("no delivery attempt yet")


@events.command("replay")
@click.argument("event_id", type=int, required=False)
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
              help="Every event from this instant (UTC) on, instead of one id.")
@click.option("--shop", help="Only this shop's events.")
@click.option("--endpoint", help="Only to this endpoint (by name).")
@pass_context
def events_replay(ctx: Context, event_id: int | None, since: datetime | None, shop: str | None,
                  endpoint: str | None) -> None:
    """Send events again: one by ID, or every one --since an instant; the worker posts them in order."""
    if (event_id is None) == (since is None):
        raise click.UsageError("name an event ID or --since, not both")
    config = ctx.runtime().config
    if shop is not None:
        _check_shop(config, shop)
    _require_schema()
    with db.connection_context():
        if event_id is not None and not Event.select().where(Event.id == event_id).exists():
            raise click.BadParameter(f"no event {event_id}", param_hint="EVENT_ID")
        queued = replay(config, datetime.now(timezone.utc), event_id,
                        since.replace(tzinfo=timezone.utc) if since else None, shop, endpoint)
    click.echo(f"{queued} deliveries queued")


@events.command("resume")
@click.argument("shop")
@click.argument("endpoint")
@pass_context
def events_resume(ctx: Context, shop: str, endpoint: str) -> None:
    """Make a paused endpoint active again and post its waiting events now."""
    config = ctx.runtime().config
    _check_shop(config, shop)
    _require_schema()
    now = datetime.now(timezone.utc)
    with db.connection_context():
        try:
            waiting = resume(config.shop(shop), endpoint, now)
        except LookupError as exc:
            raise click.BadParameter(str(exc), param_hint="ENDPOINT") from None
        click.echo(f"{shop}/{endpoint} is active; {waiting} events waiting")
        click.echo(deliver_events(config, now))
