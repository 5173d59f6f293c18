"""The `bridge` command: check, db, serve, worker, tick."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from bridge.config import ConfigError, load_config
from bridge.durations import format_duration
from bridge.runtime import Runtime, start
from bridge.storage import SchemaOutOfDate, current_version, latest_version, require_current, upgrade
from bridge.storage.db import db


class Context:
    """Lazily loaded configuration and runtime for the subcommands."""

    def __init__(self, config_path: str):
        self.config_path = config_path
        self._runtime: Runtime | None = None

    def config(self):
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


@click.group()
@click.option("--config", "config_path", envvar="BRIDGE_CONFIG", default="config.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="The YAML configuration (or BRIDGE_CONFIG).")
@click.pass_context
def main(ctx, config_path):
    """bridge: referral and social-buying engine for small shops."""
    ctx.obj = Context(config_path)


@main.command()
@pass_context
def check(ctx: Context):
    """Validate the configuration and summarise its shops and campaigns."""
    config = ctx.config()
    click.echo(f"{config.path}: OK")
    click.echo(f"server: {config.server.public_url}, database {config.server.database_url.split(':')[0]}")
    for shop in config.shops:
        click.echo(f"shop {shop.id}: {shop.name} ({shop.platform}, {shop.url}, {shop.currency}, "
                   f"{shop.timezone}, {shop.locale}/{shop.tone}), polled every {format_duration(shop.sync.poll_every)}")
    for campaign in config.campaigns:
        click.echo(f"campaign {campaign.id} on {campaign.shop}: {_describe(campaign)}")


def _describe(campaign) -> str:
    """Say a campaign in one line."""
    if campaign.type == "social_buying":
        tiers = ", ".join(f"{t.buyers} buyers {t.cashback.describe(campaign.currency)}" for t in campaign.tiers)
        return (f"social buying, window {format_duration(campaign.window)}, hold {format_duration(campaign.hold)}, "
                f"tiers {tiers}, paid by {campaign.payout}")
    return (f"referral, friend gets a {campaign.friend_reward.kind}, referrer gets a "
            f"{campaign.referrer_reward.kind} after {format_duration(campaign.hold)}")


@main.group("db")
def db_group():
    """Database schema."""


@db_group.command("upgrade")
@pass_context
def db_upgrade(ctx: Context):
    """Apply pending schema migrations."""
    ctx.runtime()
    with db.connection_context():
        applied = upgrade()
        for migration in applied:
            click.echo(f"applied {migration.version}: {migration.description}")
        click.echo(f"schema at version {current_version()} (latest {latest_version()})")


@db_group.command("status")
@pass_context
def db_status(ctx: Context):
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
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
@click.option("--with-worker", is_flag=True, help="Also run the worker's jobs in this process (small shops).")
@pass_context
def serve(ctx: Context, host, port, threads, with_worker):
    """Run the web app on the production WSGI server (waitress)."""
    import waitress

    from bridge.web import create_app
    from bridge.worker import background_worker

    runtime = ctx.runtime()
    _require_schema()
    app = create_app(runtime.config, runtime)
    scheduler = background_worker(runtime) if with_worker else None
    click.echo(f"bridge serving on http://{host}:{port}" + (" with its worker" if with_worker else ""))
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="bridge")
    finally:
        if scheduler:
            scheduler.shutdown(wait=True)


@main.command()
@pass_context
def worker(ctx: Context):
    """Run the scheduled jobs (polling, closing groups, payouts) until stopped."""
    from bridge.worker import run_worker

    runtime = ctx.runtime()
    _require_schema()
    run_worker(runtime)


def _parse_instant(value: str) -> datetime:
    """Parse an ISO instant; a time without an offset is taken as UTC."""
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"expected an ISO time like 2026-07-01T12:00:00Z, got {value!r}") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)


@main.command()
@click.option("--now", "now_text", required=True, help="The instant to act as, e.g. 2026-07-01T12:00:00Z.")
@pass_context
def tick(ctx: Context, now_text):
    """Run every job that is due at --now once, as if it were that time."""
    now = _parse_instant(now_text)
    runtime = ctx.runtime()
    _require_schema()
    from bridge.jobs import run_due_jobs

    with db.connection_context():
        results = run_due_jobs(runtime.jobs(), now, runtime.owner, runtime.config.server.worker.lease)
    for name, summary in results.items():
        click.echo(f"{name}: {summary}")
    if not results:
        click.echo(f"no job due at {now.isoformat()}")
    sys.exit(1 if any(s.startswith("error:") for s in results.values()) else 0)
