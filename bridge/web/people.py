"""The page of one person of a shop: orders, groups, the tree of who they brought, rewards, payouts, flags."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from bridge.config.model import Config, Shop, User
from bridge.ledger.people import person_view
from bridge.web.admin import page_context, private, shop_page
from bridge.web.dashboard import formatters

bp = Blueprint("people", __name__, template_folder="templates")
bp.after_request(private)


@bp.get("/admin/shops/<shop_id>/person")
@shop_page
def person(user: User, config: Config, shop: Shop) -> ResponseReturnValue:
    context = page_context(config, user, shop, "stats", ("email",))
    view = person_view(config, shop.id, (request.args.get("email") or "")[:254])
    if view is None:
        abort(404, "no order of this shop was paid with this e-mail")
    return render_template("person.html", **context, person=view, **formatters(shop, context["locale"]))
