"""`bridge payouts`: list, approve (and the delivery commands)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from bridge.cli import Context, _check_shop, _require_schema, main, pass_context
from bridge.storage.db import db


@main.group()
def payouts():
    """Payouts: list and approve."""


@payouts.command("list")
@click.option("--state", type=click.Choice(["pending", "approved", "paid", "failed", "cancelled"]))
@pass_context
def payouts_list(ctx: Context, state):
    """List payouts, newest first."""
    from bridge.explain import payout_rows
    from bridge.money import format_amount

    ctx.runtime()
    with db.connection_context():
        rows = list(payout_rows(state))
        for p in rows:
            click.echo(f"{p.key}  {format_amount(p.amount, p.currency)}  {p.method}  {p.state}"
                       + (f"  review: {p.review}" if p.review else ""))
    if not rows:
        click.echo("no payouts")


@payouts.command("approve")
@click.argument("keys", nargs=-1)
@click.option("--campaign", help="Approve every pending payout of this campaign.")
@pass_context
def payouts_approve(ctx: Context, keys, campaign):
    """Approve pending payouts (by key, or all of a campaign)."""
    from bridge.storage.models import Payout, Reward

    if not keys and not campaign:
        raise click.UsageError("name payout keys or --campaign")
    ctx.runtime()
    now = datetime.now(timezone.utc)
    with db.connection_context(), db.atomic():
        query = Payout.select().join(Reward).where(Payout.state == "pending")
        query = query.where(Payout.key.in_(keys)) if keys else query.where(Reward.campaign == campaign)
        chosen = [p.id for p in query]
        missing = set(keys) - {p.key for p in Payout.select().where(Payout.id.in_(chosen))}
        if missing:
            raise click.BadParameter(f"not pending or unknown: {', '.join(sorted(missing))}", param_hint="KEYS")
        Payout.update(state="approved", updated_at=now).where(Payout.id.in_(chosen)).execute()
    click.echo(f"approved {len(chosen)} payout(s)")
