"""`bridge coupons`: coupon codes a custom shop's owner created and uploads for bridge to hand out (upload, left)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TextIO

import click

from bridge.basics.money import format_amount
from bridge.cli import Context, _check_shop, _require_schema, main, pass_context
from bridge.delivery.coupon_codes import read_code_list, upload_codes
from bridge.ledger.health import LOW_CODES, codes_left
from bridge.storage.db import db


@main.group()
def coupons() -> None:
    """Coupon codes made in a custom shop's own system, for bridge to hand out: upload, left."""


def _custom_shop(ctx: Context, shop: str):
    config = ctx.runtime().config
    _check_shop(config, shop)
    if config.shop(shop).platform != "custom":
        raise click.BadParameter(f"shop {shop!r} is a {config.shop(shop).platform} shop: bridge creates its coupons "
                                 "through its API", param_hint="SHOP")
    _require_schema()
    return config.shop(shop)


@coupons.command("upload")
@click.argument("shop")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@pass_context
def coupons_upload(ctx: Context, shop: str, file: TextIO) -> None:
    """Add the single-use codes of FILE (CSV: CODE,AMOUNT per line, in the shop's currency); all or none."""
    the_shop = _custom_shop(ctx, shop)
    try:
        text = file.read()
    except UnicodeDecodeError:
        raise click.BadParameter("the file is not UTF-8 text", param_hint="FILE") from None
    pairs, problems = read_code_list(text, the_shop.currency)
    if problems:
        for problem in problems[:50]:
            click.echo(f"{file.name}: {problem}", err=True)
        raise click.ClickException(f"{len(problems)} problem(s) in {file.name}: nothing uploaded")
    if not pairs:
        raise click.ClickException(f"{file.name} has no code (CODE,AMOUNT per line)")
    with db.connection_context(), db.atomic():
        added, already = upload_codes(the_shop, pairs, datetime.now(timezone.utc))
    click.echo(f"{added} codes added" + (f", {already} already uploaded" if already else ""))
    _echo_left(the_shop)


@coupons.command("left")
@click.argument("shop")
@pass_context
def coupons_left(ctx: Context, shop: str) -> None:
    """How many uploaded codes are left of each amount."""
    the_shop = _custom_shop(ctx, shop)
    _echo_left(the_shop)


def _echo_left(shop) -> None:
    with db.connection_context():
        left = codes_left(shop.id)
    if not left:
        click.echo("no code uploaded: bridge makes the codes itself and the shop's system creates them when asked")
    for amount, count in sorted(left.items()):
        click.echo(f"{format_amount(amount, shop.currency)}: {count} left" + ("  (running low)" if count < LOW_CODES else ""))
