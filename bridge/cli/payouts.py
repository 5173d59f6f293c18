"""`bridge payouts`: list, approve, cancel, retry, and the SEPA files (export-sepa, sepa-sent)."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone

import click

from bridge.basics.money import format_amount
from bridge.cli import Context, _check_shop, _require_schema, main, pass_context, refusals_as_errors
from bridge.config.model import Campaign
from bridge.delivery.sepa import batch_xml, export_batch, mark_sent
from bridge.ledger.actions import approve_payouts, cancel_payouts, retry_payouts
from bridge.ledger.explain import payout_rows
from bridge.rewards.payouts import PAID, STATES
from bridge.storage.db import db
from bridge.storage.models import SepaBatch


@main.group()
def payouts() -> None:
    """Payouts: list, approve, retry, and SEPA files (export-sepa, sepa-sent)."""


@payouts.command("list")
@click.option("--state", type=click.Choice(STATES))
@pass_context
def payouts_list(ctx: Context, state: str | None) -> None:
    """List payouts, newest first."""
    ctx.runtime()
    with db.connection_context():
        rows = list(payout_rows(state))
        for p in rows:
            click.echo(f"{p.key}  {format_amount(p.amount, p.currency)}  {p.method}  {p.state}"
                       + (f"  review: {p.review}" if p.review else "")
                       + (f"  ref: {p.external_ref}" if p.external_ref else "")
                       + (f"  last error: {p.last_error}" if p.last_error and p.state != PAID else ""))
    if not rows:
        click.echo("no payouts")


@payouts.command("approve")
@click.argument("keys", nargs=-1)
@click.option("--campaign", help="Approve every pending payout of this campaign.")
@pass_context
def payouts_approve(ctx: Context, keys: tuple[str, ...], campaign: Campaign) -> None:
    """Approve pending payouts (by key, or all of a campaign)."""
    if not keys and not campaign:
        raise click.UsageError("name payout keys or --campaign")
    if keys and campaign:
        raise click.UsageError("name payout keys or --campaign, not both")
    runtime = ctx.runtime()
    with db.connection_context(), refusals_as_errors({"CAMPAIGN": "--campaign"}):
        approved = approve_payouts(runtime.config, list(keys), campaign, datetime.now(timezone.utc))
    click.echo(f"approved {approved} payout(s)")


@payouts.command("cancel")
@click.argument("keys", nargs=-1, required=True)
@click.option("--note", required=True, help="Why (kept with the payout and its reward).")
@pass_context
def payouts_cancel(ctx: Context, keys: tuple[str, ...], note: str) -> None:
    """Cancel payouts whose money has not left (pending, approved, failed, awaiting an IBAN, ready)."""
    runtime = ctx.runtime()
    with db.connection_context(), refusals_as_errors({"NOTE": "--note"}):
        outcome = cancel_payouts(runtime.config, list(keys), note, datetime.now(timezone.utc))
    for line in outcome.done:
        click.echo(line)
    for problem in outcome.problems:
        click.echo(f"error: {problem}", err=True)
    if outcome.problems:
        sys.exit(1)


@payouts.command("retry")
@click.argument("keys", nargs=-1, required=True)
@pass_context
def payouts_retry(ctx: Context, keys: tuple[str, ...]) -> None:
    """Put failed payouts back in the queue (after fixing what the shop refused)."""
    ctx.runtime()
    with db.connection_context(), refusals_as_errors():
        queued = retry_payouts(list(keys), datetime.now(timezone.utc))
    click.echo(f"{queued} payout(s) queued again")


@payouts.command("export-sepa")
@click.argument("shop")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the pain.001 XML file.")
@click.option("--execution-date", type=click.DateTime(["%Y-%m-%d"]), help="When the bank should pay (default: today).")
@click.option("--batch", "batch_id", type=int, help="Write an existing batch's file again (same message id).")
@pass_context
def payouts_export_sepa(ctx: Context, shop: str, out_path: str, execution_date: datetime | None, batch_id: int | None) -> None:
    """Gather the shop's SEPA payouts whose account is known into a batch and write its pain.001 file."""
    runtime = ctx.runtime()
    _check_shop(runtime.config, shop)
    _require_schema()
    if runtime.config.shop(shop).sepa is None:
        raise click.UsageError(f"shop {shop} has no sepa section (name, iban, bic of the account that pays)")
    now = datetime.now(timezone.utc)
    temporary = f"{out_path}.part"
    try:  # the destination first: a batch is never made without its file
        handle = open(temporary, "wb")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_path}: {exc.strerror or exc}") from None
    written = False
    try:
        with handle, db.connection_context(), db.atomic():  # the batch and its file are one step
            if batch_id is not None:
                batch = SepaBatch.get_or_none((SepaBatch.id == batch_id) & (SepaBatch.shop == shop))
                if batch is None:
                    raise click.BadParameter(f"no batch {batch_id} for shop {shop}", param_hint="--batch")
            else:
                day = execution_date.date() if execution_date else now.date()
                batch = export_batch(runtime.config, shop, day, now)
                if batch is None:
                    click.echo("no SEPA payout is ready (waiting for people's IBANs, or none approved)")
                    return
            handle.write(batch_xml(runtime.config, batch))  # written whole, then renamed: never a half file
            handle.flush()
            os.fsync(handle.fileno())
            written = True
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_path}: {exc.strerror or exc}; no batch was made") from None
    finally:
        if not written and os.path.exists(temporary):
            os.remove(temporary)
    try:
        os.replace(temporary, out_path)
    except OSError as exc:
        raise click.ClickException(f"batch {batch.id} is made but {out_path} could not be written ({exc.strerror}): "
                                   f"write it again with --batch {batch.id}") from None
    click.echo(f"batch {batch.id} ({batch.message_id}): {batch.count} transfer(s), "
               f"{format_amount(batch.total, batch.currency)}, to execute on {batch.execution_date}; written to {out_path}")
    click.echo(f"once the bank has accepted it: bridge payouts sepa-sent {batch.id}")


@payouts.command("sepa-sent")
@click.argument("batch_id", type=int)
@pass_context
def payouts_sepa_sent(ctx: Context, batch_id: int) -> None:
    """Record that the bank accepted a batch: its payouts become paid and people are told."""
    config = ctx.runtime().config
    with db.connection_context():
        batch = SepaBatch.get_or_none(SepaBatch.id == batch_id)
        if batch is None:
            raise click.BadParameter(f"no batch {batch_id}", param_hint="BATCH_ID")
        changed = mark_sent(config, batch, datetime.now(timezone.utc))
    click.echo(f"batch {batch_id}: {changed} payout(s) marked paid" if changed else f"batch {batch_id} was already sent")
