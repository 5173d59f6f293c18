"""`bridge tokens`: the read API's tokens, one shop each: create (shown once), list, revoke."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import click

from bridge.cli import Context, _check_shop, _require_schema, main, pass_context
from bridge.storage.db import db
from bridge.storage.models import ApiToken
from bridge.storage.tokens import create_token, revoke_token

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


@main.group()
def tokens() -> None:
    """Tokens of the read API (/api/v1/shops/SHOP/...): create, list, revoke."""


@tokens.command("create")
@click.argument("shop")
@click.argument("name")
@pass_context
def tokens_create(ctx: Context, shop: str, name: str) -> None:
    """Make a token for SHOP named NAME (who uses it); it is printed once: keep it in that system's secrets."""
    _check_shop(ctx.runtime().config, shop)
    if not NAME.fullmatch(name):
        raise click.BadParameter("1 to 32 lowercase letters, digits, - or _ (say who uses it: crm, accounting)",
                                 param_hint="NAME")
    _require_schema()
    with db.connection_context():
        try:
            token = create_token(shop, name, datetime.now(timezone.utc))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo(token)
    click.echo(f"(the token of {shop}/{name}; bridge keeps only its SHA-256: it cannot show it again)", err=True)


@tokens.command("list")
@click.argument("shop", required=False)
@pass_context
def tokens_list(ctx: Context, shop: str | None) -> None:
    """Every token (of one shop, or all): name, created, last used, revoked."""
    if shop is not None:
        _check_shop(ctx.runtime().config, shop)
    else:
        ctx.runtime()
    _require_schema()
    with db.connection_context():
        rows = list(ApiToken.select().where(ApiToken.shop == shop if shop else ApiToken.id > 0).order_by(ApiToken.id))
    for row in rows:
        used = f"last used {row.last_used_at:%Y-%m-%d %H:%M} UTC" if row.last_used_at else "never used"
        click.echo(f"{row.shop}/{row.name}  created {row.created_at:%Y-%m-%d %H:%M} UTC  {used}"
                   + ("  REVOKED" if row.revoked_at else ""))
    if not rows:
        click.echo("no token yet: `bridge tokens create SHOP NAME`")


@tokens.command("revoke")
@click.argument("shop")
@click.argument("name")
@pass_context
def tokens_revoke(ctx: Context, shop: str, name: str) -> None:
    """Make a token useless at once."""
    _check_shop(ctx.runtime().config, shop)
    _require_schema()
    with db.connection_context():
        if not revoke_token(shop, name, datetime.now(timezone.utc)):
            raise click.BadParameter(f"shop {shop!r} has no token named {name!r}", param_hint="NAME")
    click.echo(f"{shop}/{name} revoked")
