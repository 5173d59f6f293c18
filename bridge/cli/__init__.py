"""The `bridge` command: check, db, serve, worker, tick, ledger, explain, override (and the modules below).

Imports: every layer; each command only translates its arguments into calls of the layers' functions.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import click

from bridge.basics.durations import format_duration
from bridge.basics.money import format_amount
from bridge.config import ConfigError, load_config
from bridge.config.model import Campaign, Config
from bridge.connectors.errors import ConnectorError
from bridge.ledger.actions import Refused, override_order
from bridge.ledger.explain import explain_group, explain_order
from bridge.ledger.grants import budget_problems, ledger_balances
from bridge.schedule.jobs import run_due_jobs
from bridge.schedule.runtime import Runtime, start
from bridge.schedule.worker import background_worker, run_worker
from bridge.storage import (
    SchemaOutOfDate,
    current_version,
    latest_version,
    require_current,
    upgrade,
)
from bridge.storage.db import db
from bridge.storage.models import JobState
from bridge.web import create_app
from bridge.web.server import (
    SERVERS,
    default_server,
    default_workers,
    listen,
    serve_gunicorn,
    serve_waitress,
    start_job_process,
    stop_job_process,
)


class Context:
    """Lazily loaded configuration and runtime for the subcommands."""
    def __init__(self, config_path: str) -> None:
        self.config_path = config_path
        self._runtime: Runtime | None = None

    def config(self) -> Config:
        """Load the configuration or exit 1 with every problem."""
        try:
            return load_config(self.config_path)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{len(exc.problems)} problem(s) in {self.config_path}", err=True)
            sys.exit(1)

    def runtime(self) -> Runtime:
        """Load the configuration and bind the database."""
        if self._runtime is None:
            self._runtime = start(self.config())
        return self._runtime


pass_context = click.make_pass_decorator(Context)


class OneLineErrors(click.Group):
    """Expected failures (a locked or unreachable database, a file, a shop) end in one line and exit 1.

    `--debug` (or BRIDGE_DEBUG=1) lets the traceback through, for whoever is looking for a bug.
    """

    def invoke(self, ctx: Context) -> object:
        import peewee


        try:
            return super().invoke(ctx)
        except (peewee.OperationalError, peewee.InterfaceError, ConnectorError, OSError) as exc:
            if ctx.params.get("debug") or os.environ.get("BRIDGE_DEBUG") == "1":
                raise
            what = "the database" if isinstance(exc, (peewee.OperationalError, peewee.InterfaceError)) else (
                "the shop" if isinstance(exc, ConnectorError) else "a file or the network")
            text = str(exc).strip()
            message = getattr(exc, "strerror", None) or (text.splitlines()[0] if text else type(exc).__name__)
            click.echo(f"error: {what}: {message} (run with --debug for the details)", err=True)
            sys.exit(1)


@click.group(cls=OneLineErrors)
@click.option("--config", "config_path", envvar="BRIDGE_CONFIG", default="config.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="The YAML configuration (or BRIDGE_CONFIG).")
@click.option("--debug", is_flag=True, help="Show a traceback for an unexpected failure.")
@click.pass_context
def main(ctx: Context, config_path: str, debug: bool) -> None:
    """bridge: referral and social-buying engine for small shops."""
    ctx.obj = Context(config_path)


@main.command()
@pass_context
def check(ctx: Context) -> None:
    """Validate the configuration and summarise its shops and campaigns."""
    config = ctx.config()
    click.echo(f"{config.path}: OK")
    click.echo(f"server: {config.server.public_url}, database {config.server.database_url.split(':')[0]}")
    for shop in config.shops:
        click.echo(f"shop {shop.id}: {shop.name} ({shop.platform}, {shop.url}, {shop.currency}, "
                   f"{shop.timezone}, {shop.locale}/{shop.tone}), {_polling(shop, config.server.public_url)}")
    for campaign in config.campaigns:
        click.echo(f"campaign {campaign.id} on {campaign.shop}: {_describe(campaign)}")
    if config.server.smtp is None and config.campaigns:
        click.echo("warning: no server.smtp section: e-mails (share links, payouts, IBAN requests) are queued, "
                   "not sent", err=True)


def _polling(shop, public_url: str) -> str:
    told = "".join(f"; events to {e.name} at {e.url}" for e in shop.events)
    if shop.platform == "custom":
        return f"its server sends its orders, signed, to {public_url}/api/v1/shops/{shop.id}/orders" + told
    return _polled(shop) + told


def _polled(shop) -> str:
    hints = ""
    if shop.prestashop is not None:
        hints = (", order hints from the bridgehints module accepted" if shop.prestashop.hint_secret
                 else ", no order hints (prestashop.hint_secret not set)")
    if shop.sync.poll_every is None:
        return "not polled: webhooks and `bridge sync` only" + hints
    return f"polled every {format_duration(shop.sync.poll_every)}" + hints


def _describe(campaign) -> str:
    """Say a campaign in one line."""
    if campaign.type == "social_buying":
        tiers = ", ".join(f"{t.buyers} buyers {t.cashback.describe(campaign.currency)}" for t in campaign.tiers)
        return (f"social buying, window {format_duration(campaign.window)}, hold {format_duration(campaign.hold)}, "
                f"tiers {tiers}, paid by {campaign.payout}")
    return (f"referral, friend gets a {campaign.friend_reward.kind}, referrer gets a "
            f"{campaign.referrer_reward.kind} after {format_duration(campaign.hold)}")


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@pass_context
def db_upgrade(ctx: Context) -> None:
    """Apply pending schema migrations."""
    ctx.runtime()
    with db.connection_context():
        applied = upgrade()
        for migration in applied:
            click.echo(f"applied {migration.version}: {migration.description}")
        click.echo(f"schema at version {current_version()} (latest {latest_version()})")


@db_group.command("status")
@pass_context
def db_status(ctx: Context) -> None:
    """Print the schema version; exit 1 when an upgrade is needed."""
    ctx.runtime()
    with db.connection_context():
        found = current_version()
    click.echo(f"schema at version {found} (latest {latest_version()})")
    sys.exit(0 if found == latest_version() else 1)


def _require_schema() -> None:
    """Exit 1 with a clear message unless the schema is current."""
    try:
        with db.connection_context():
            require_current()
    except SchemaOutOfDate as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--server", type=click.Choice(SERVERS), default=default_server(), show_default=True,
              help="gunicorn: pre-forked processes; waitress: threads in one process.")
@click.option("--workers", type=click.IntRange(1, 64), default=default_workers(), show_default=True,
              help="Web processes (gunicorn).")
@click.option("--threads", type=click.IntRange(1, 256), help="Threads per process [gunicorn: 1, waitress: 8].")
@click.option("--with-worker", is_flag=True, help="Also run the worker's jobs (in one more process under gunicorn, "
              "in this one under waitress).")
@pass_context
def serve(ctx: Context, host: str, port: int, server: str, workers: int, threads: int | None,
          with_worker: bool) -> None:
    """Run the web app on a production WSGI server until SIGTERM (in-flight requests finish; exit 0)."""
    runtime = ctx.runtime()
    _require_schema()
    try:  # bind first: a busy port is one line, before anything says it is serving
        sock = listen(host, port)
    except OSError as exc:
        click.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    click.echo(f"bridge serving on http://{host}:{port}" + (" with its worker" if with_worker else ""))
    if server == "waitress":
        scheduler = background_worker(runtime) if with_worker else None
        try:
            serve_waitress(create_app(runtime.config, runtime), sock, threads or 8)
        finally:
            if scheduler:
                scheduler.shutdown(wait=True)
        return
    db.obj.close_all()  # each web process opens its own connections after the fork
    jobs = start_job_process(ctx.config_path) if with_worker else None
    config = runtime.config
    try:
        serve_gunicorn(lambda: create_app(config), sock, workers, threads or 1)
    finally:
        stop_job_process(jobs)


@main.command()
@pass_context
def worker(ctx: Context) -> None:
    """Run the scheduled jobs (polling, closing groups, payouts) until stopped."""
    runtime = ctx.runtime()
    _require_schema()
    run_worker(runtime)


def _parse_instant(value: str) -> datetime:
    """Parse an ISO instant; a time without an offset is taken as UTC."""
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"expected an ISO time like 2026-07-01T12:00:00Z, got {value!r}") from None
    instant = instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)
    if not HORIZON[0] <= instant < HORIZON[1]:
        raise click.BadParameter(f"{value!r} is outside {HORIZON[0].year}-{HORIZON[1].year - 1}: bridge acts only as "
                                 "of instants in that range (a typo in the year?)")
    return instant


# The instants `--now` may name: wide enough for tests and catch-up runs, never the calendar's ends.
HORIZON = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))


@main.command()
@click.option("--now", "now_text", required=True, help="The instant to act as, e.g. 2026-07-01T12:00:00Z.")
@pass_context
def tick(ctx: Context, now_text: str | None) -> None:
    """Run every job that is due at --now once, as if it were that time."""
    now = _parse_instant(now_text)
    runtime = ctx.runtime()
    _require_schema()

    with db.connection_context():
        for state in JobState.select().where(JobState.last_run_for > now):
            click.echo(f"note: {state.name} was recorded as run for {state.last_run_for.isoformat()}, after "
                       f"{now.isoformat()}: it runs as if not run yet", err=True)
        results = run_due_jobs(runtime.jobs(), now, runtime.owner, runtime.config.server.worker.lease)
    for name, summary in results.items():
        click.echo(f"{name}: {summary}")
    if not results:
        click.echo(f"no job due at {now.isoformat()}")
    sys.exit(1 if any(s.startswith("error:") for s in results.values()) else 0)


def _now_option(f):
    return click.option("--now", "now_text", default=None, help="Act as of this instant (default: now).")(f)


def _instant_or_now(text: str | None) -> datetime:
    return _parse_instant(text) if text else datetime.now(timezone.utc)


@main.group()
def ledger() -> None:
    """The money ledger."""


@ledger.command("check")
@pass_context
def ledger_check(ctx: Context) -> None:
    """Prove, per currency, granted = paid + pending + recovered clawbacks; exit 1 otherwise."""
    runtime = ctx.runtime()
    _require_schema()
    with db.connection_context():
        balances, problems = ledger_balances()
        problems += budget_problems(runtime.config)

    for b in balances.values():
        def money(amount, currency=b.currency):
            return format_amount(amount, currency).rsplit(" ", 1)[0]
        click.echo(f"{b.currency}: granted {money(b.granted)} = paid {money(b.paid)} + pending {money(b.pending)}"
                   f" + recovered {money(b.recovered)}" + ("" if b.reconciles else "  MISMATCH"))
    if not balances:
        click.echo("the ledger is empty")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    sys.exit(1 if problems else 0)


@main.group()
def explain() -> None:
    """Why an order or a group got what it got."""


@explain.command("order")
@click.argument("shop")
@click.argument("order_id")
@pass_context
def explain_order_command(ctx: Context, shop: str, order_id: str) -> None:
    """Explain every decision on one order."""
    runtime = ctx.runtime()
    _check_shop(runtime.config, shop)
    with db.connection_context():
        click.echo("\n".join(explain_order(runtime.config, shop, order_id)))


@explain.command("group")
@click.argument("code")
@_now_option
@pass_context
def explain_group_command(ctx: Context, code: str, now_text: str | None) -> None:
    """Explain a group: window, size, tier, and each member's amount."""
    runtime = ctx.runtime()
    with db.connection_context():
        lines = explain_group(runtime.config, code.upper(), _instant_or_now(now_text))
    click.echo("\n".join(lines))
    sys.exit(1 if lines[0].startswith("no group") else 0)


def _check_shop(config, shop: str) -> None:
    try:
        config.shop(shop)
    except KeyError as exc:
        raise click.BadParameter(exc.args[0], param_hint="SHOP") from None


@main.command()
@click.argument("campaign")
@click.argument("order_id")
@click.option("--allow", is_flag=True, help="Let the order join despite a refusal or flag.")
@click.option("--refuse", is_flag=True, help="Keep the order out (after settlement: cancel or claw back its reward).")
@click.option("--note", required=True, help="Why (kept with the decision).")
@_now_option
@pass_context
def override(ctx: Context, campaign: Campaign, order_id: str, allow: bool, refuse: bool, note: str, now_text: str | None) -> None:
    """Override the engine's decision on one order of one campaign, with a note."""
    if allow == refuse:
        raise click.UsageError("say either --allow or --refuse" if allow else "say --allow or --refuse")
    runtime = ctx.runtime()
    with db.connection_context(), refusals_as_errors({"NOTE": "--note"}):
        outcome = override_order(runtime.config, campaign, order_id, "allow" if allow else "refuse", note,
                                 _instant_or_now(now_text))
    for line in outcome.done:
        click.echo(line)


@contextmanager
def refusals_as_errors(hints: dict[str, str] | None = None) -> Iterator[None]:
    """Turn an action's refusal into click's error for the argument it names (exit 2), or a plain one (exit 1)."""
    try:
        yield
    except Refused as exc:
        if exc.argument is None:
            raise click.ClickException(str(exc)) from None
        raise click.BadParameter(str(exc), param_hint=(hints or {}).get(exc.argument, exc.argument)) from None


# The other command groups live in their own modules and register themselves on `main`.
from bridge.cli import coupons, demo, events, payouts, shops, stats, tokens  # noqa: E402,F401
