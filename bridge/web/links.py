"""GET /r/<code>[/<tag>]: count the click and send the visitor to the shop's own site, code in hand."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue

from bridge.sharing.clicks import is_preview, record_click
from bridge.sharing.products import landing_url
from bridge.sharing.targets import PARAM, resolve, resolve_for_click, tag_of
from bridge.sharing.widget import link_state
from bridge.web.ratelimit import limited

bp = Blueprint("links", __name__, template_folder="templates")


@bp.get("/r/<code>")
@bp.get("/r/<code>/<tag>")
@limited("links", 240)
def follow(code: str, tag: str | None = None) -> ResponseReturnValue:
    """Redirect (302) to the product page on the shop's configured site; never anywhere else."""
    config = current_app.extensions["bridge"].config
    now = datetime.now(timezone.utc)
    target = resolve_for_click(config, code)
    agent = request.headers.get("User-Agent", "")
    if target is None:
        return _unknown(config)
    tag = tag_of(target, tag)
    if is_preview(agent):
        return _preview(config, resolve(config, code), now)  # fresh: the state may have changed
    shop = config.shop(target.campaign.shop)
    if target.kind == "group" and now >= target.group.closes_at:
        # A closed link still leads to the shop, which can show a friendly word through the widget.
        return redirect(f"{shop.url}/?{PARAM}_notice=closed", code=302)
    record_click(target, tag, request.remote_addr, agent, request.referrer, request.args.get("via"), now)
    response = redirect(landing_url(config, target, tag, now), code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response


def _unknown(config):
    """An unknown code: the shop's home page when there is one shop, else a friendly page (404)."""
    if len(config.shops) == 1:
        return redirect(f"{config.shops[0].url}/?{PARAM}_notice=unknown", code=302)
    return render_template("link_unknown.html"), 404


def _preview(config, target, now):
    """Open Graph tags for chat apps' link previews: the product, its image, "up to 12% back"."""
    state = link_state(config, target, now)
    shop = config.shop(target.campaign.shop)
    product = state.get("product") or {}
    french = shop.locale == "fr"
    best = state["campaign"].get("max_cashback") or state["campaign"].get("welcome")
    title = product.get("name") or shop.name
    description = (f"Jusqu'à {best} remboursés chez {shop.name}" if french else f"Up to {best} back at {shop.name}") \
        if target.kind == "group" else (f"{best} offerts chez {shop.name}" if french else f"{best} off at {shop.name}")
    return render_template("link_preview.html", title=title, description=description, shop=shop,
                           image=product.get("image") or shop.brand.logo_url, url=request.url,
                           lang=shop.locale)
