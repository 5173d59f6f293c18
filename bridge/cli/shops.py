"""Commands about one shop: `bridge sync`, `bridge webhooks install`."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from bridge.basics.durations import format_duration
from bridge.cli import Context, _check_shop, _require_schema, main, pass_context
from bridge.connectors import connector_for
from bridge.connectors.errors import ConnectorError
from bridge.facts.sync import sync_shop
from bridge.storage.db import db
from bridge.storage.secrets import ensure_shop_secret


@main.command()
@click.argument("shop")
@pass_context
def sync(ctx: Context, shop: str) -> None:
    """Read the shop's orders changed since the last sync (a first sync backfills from backfill_from)."""
    runtime = ctx.runtime()
    _check_shop(runtime.config, shop)
    _require_schema()
    now = datetime.now(timezone.utc)
    with db.connection_context():
        try:
            counter = ReadCounter(shop)
            try:
                result = sync_shop(runtime.config, shop, now, progress=counter.add)
            finally:
                counter.done()
        except ConnectorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    click.echo(f"{shop}: read {result.orders} order(s) in {result.pages} page(s) changed since "
               f"{result.since.isoformat()}; cursor at {result.cursor.isoformat() if result.cursor else 'none'}")


class ReadCounter:
    """How many orders a sync has read so far, on one terminal line (the shop tells no total in advance)."""
    def __init__(self, shop: str) -> None:
        self.shop, self.read, self.shown = shop, 0, sys.stderr.isatty()

    def add(self, orders: int) -> None:
        self.read += orders
        if self.shown:
            click.echo(f"\rsyncing {self.shop}: {self.read} order(s) read", nl=False, err=True)

    def done(self) -> None:
        if self.shown and self.read:
            click.echo("", err=True)


@main.group()
def webhooks() -> None:
    """The shop's webhooks towards bridge."""


@webhooks.command("install")
@click.argument("shop")
@click.option("--url", "delivery_url", help="Where the shop delivers (default: server.public_url/webhooks/SHOP).")
@pass_context
def webhooks_install(ctx: Context, shop: str, delivery_url: str | None) -> None:
    """Create or update the shop's order webhooks, signed with a secret bridge generates and keeps."""
    from urllib.parse import urlsplit


    runtime = ctx.runtime()
    _check_shop(runtime.config, shop)
    _require_schema()
    found = runtime.config.shop(shop)
    connector = connector_for(found)
    if "webhooks" not in connector.capabilities:

        every = format_duration(found.sync.poll_every) if found.sync.poll_every else None
        raise click.UsageError(
            f"{found.platform} shops have no webhooks; bridge polls them "
            + (f"every {every}" if every else "each time you run bridge sync")
            + ("; for news at once, install the bridgehints module (prestashop-module/README.md) with "
               "prestashop.hint_secret" if found.platform == "prestashop" else ""))
    url = delivery_url or f"{runtime.config.server.public_url.rstrip('/')}/webhooks/{shop}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"not an http(s) URL: {url}", param_hint="--url")
    with db.connection_context():
        secret = ensure_shop_secret(shop)
        try:
            done = connector.install_webhooks(url, secret)
        except ConnectorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    for topic, action, webhook_id in done:
        click.echo(f"{topic}: {action} (webhook {webhook_id})")
    click.echo(f"deliveries go to {url}")
    warning = connector.delivery_url_warning(url)
    if warning:
        click.echo(f"warning: {warning}", err=True)


@main.command()
@click.argument("shop")
@pass_context
def snippet(ctx: Context, shop: str) -> None:
    """Print the one line to paste into every page of the shop (before </body>)."""
    config = ctx.config()
    _check_shop(config, shop)
    the_shop = config.shop(shop)
    click.echo(f"Paste this line into every page of {the_shop.name}, before </body>:", err=True)
    click.echo(f'<script src="{config.server.public_url}/widget.js" data-shop="{shop}" async></script>')
    if the_shop.platform == "custom":
        click.echo("On the thank-you page, also give the order's id and the key your server sent with it, and a "
                   "place for the widget:\n  <div data-order-id=\"1042\" data-order-key=\"k7f3a9c2e1\"></div> "
                   "<div data-bridge-widget></div>\nAt checkout, send the code the widget keeps in the cookie "
                   f"bridge_{shop} (before the \"|\") as the order's referral_code (README: \"Hand-coded shops\").",
                   err=True)
