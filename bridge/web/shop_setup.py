"""The setup page of a shop: the snippet to paste, and whether the widget, webhooks, sync, jobs and e-mails work."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from bridge.config.model import Config, Shop, User
from bridge.ledger.health import shop_health
from bridge.web.admin import page_context, private, shop_page
from bridge.web.dashboard import formatters

bp = Blueprint("shop_setup", __name__, template_folder="templates")
bp.after_request(private)
# The copy button's few lines, served from here so that the pages' policy allows no inline script.
COPY_JS = """document.querySelectorAll("[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.getAttribute("data-copy")), done = function () {
      button.textContent = button.getAttribute("data-done"); };
    field.select();
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(field.value).then(done, done); }
    else { try { document.execCommand("copy"); } catch (e) {} done(); }
  });
});
"""


@bp.get("/admin/shops/<shop_id>/setup")
@shop_page
def setup(user: User, config: Config, shop: Shop) -> ResponseReturnValue:
    context = page_context(config, user, shop, "setup", ())
    snippet = f'<script src="{config.server.public_url}/widget.js" data-shop="{shop.id}" async></script>'
    webhook_url = f"{config.server.public_url}/webhooks/{shop.id}"
    return render_template("setup.html", **context, snippet=snippet, webhook_url=webhook_url,
                           checks=shop_health(config, shop.id, datetime.now(timezone.utc)),
                           **formatters(shop, context["locale"]))


@bp.get("/admin/assets/copy.js")
def copy_script() -> ResponseReturnValue:
    return Response(COPY_JS, mimetype="text/javascript", headers={"Cache-Control": "max-age=3600"})
