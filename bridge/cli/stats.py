"""`bridge stats SHOP`: the dashboard's figures for a shop or one campaign, as text or JSON; `bridge users`."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from decimal import Decimal

import click

from bridge.basics.money import display_amount
from bridge.cli import Context, _check_shop, _require_schema, main, pass_context
from bridge.ledger.buyers import refresh_buyers
from bridge.ledger.rollup import roll_up
from bridge.ledger.stats import default_period, shop_stats
from bridge.storage.db import db
from bridge.web.logins import hash_password


@main.command()
@click.argument("shop")
@click.option("--campaign", help="One campaign of the shop (default: all of them).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day, in the shop's time zone [30 days ago].")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included [today].")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (amounts as strings, per currency).")
@pass_context
def stats(ctx: Context, shop: str, campaign: str | None, since: datetime | None, until: datetime | None,
          as_json: bool) -> None:
    """Funnel, channels, money, virality and ambassadors of a shop over a period."""
    runtime = ctx.runtime()
    _check_shop(runtime.config, shop)
    _require_schema()
    the_shop = runtime.config.shop(shop)
    now = datetime.now(timezone.utc)
    period = default_period(the_shop.zone, now, since.date() if since else None, until.date() if until else None)
    if period.since > period.until:
        raise click.BadParameter("--since is after --until", param_hint="--since")
    with db.connection_context():
        roll_up(now)
        refresh_buyers(runtime.config)
        try:
            figures = shop_stats(runtime.config, shop, period, campaign, now)
        except LookupError as exc:
            raise click.BadParameter(str(exc), param_hint="--campaign") from None
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo("\n".join(as_text(figures, the_shop.locale)))


def as_text(figures: dict, locale: str) -> list[str]:
    """The figures as a few readable lines."""
    def pct(rate):
        return "" if rate is None else f" ({rate:.0%})"

    lines = [f"{figures['shop']}{' / ' + figures['campaign'] if figures['campaign'] else ''}: "
             f"{figures['since']} to {figures['until']} ({figures['time_zone']})", "funnel:"]
    lines += [f"  {row['step']:<9} {row['count']:>8}{pct(row['rate'])}" for row in figures["funnel"]]
    lines.append("channels: " + (", ".join(f"{c['channel']} {c['shares']} shares / {c['clicks']} clicks"
                                           for c in figures["channels"]) or "none"))
    lines.append("sites: " + (", ".join(f"{d['domain'] or '(none)'} {d['clicks']}" for d in figures["domains"]) or "none"))
    for currency, money in figures["money"].items():
        def amount(key):
            return display_amount(Decimal(money[key]), currency, locale)
        lines.append(f"money ({currency}): brought {amount('revenue_net')} net of refunds ({amount('revenue_total')} "
                     f"total, {amount('revenue_eligible')} eligible); granted {amount('granted')}, paid {amount('paid')}, "
                     f"pending {amount('pending')}, clawed back {amount('clawed_back')} ({amount('recovered')} recovered); "
                     f"return on cost {money['return_on_cost'] if money['return_on_cost'] is not None else '-'}")
    for budget in figures["budgets"]:
        lines.append(f"budget of {budget['campaign']}: {budget['used']} used of {budget['budget']} {budget['currency']}, "
                     f"{budget['left']} left" + (f", runs out about {budget['runs_out']}" if budget["runs_out"] else ""))
    v = figures["virality"]
    lines.append(f"virality: {v['buyers']} buyers, {v['friends']} brought by friends, K {v['k'] if v['k'] is not None else '-'}, "
                 f"longest chain {v['chain_depth']}, {v['sharing_buyers']} buyers shared{pct(v['share_of_buyers_sharing'])}")
    lines.append("ambassadors: " + (", ".join(f"{a['email']} ({a['friends']})" for a in figures["ambassadors"][:5]) or "none"))
    return lines


@main.group()
def users() -> None:
    """Dashboard users: the hash to put in the configuration's `users:` list."""


@users.command("hash-password")
@click.option("--password-stdin", is_flag=True, help="Read the password from the standard input (scripts).")
def users_hash_password(password_stdin: bool) -> None:
    """Print the argon2 hash of a password, for `password_hash:` (the password itself is never stored)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="password")
    click.echo(hash_password(password))
