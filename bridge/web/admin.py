"""A small admin page behind a login: groups, members, payouts and the reasons of refusals.

Until a full dashboard exists. The password is `server.admin_password` (no password: no admin pages);
the session cookie is signed with the server's secret key, HttpOnly and SameSite=Lax, and every form
carries a CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timezone

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
)
from flask.typing import ResponseReturnValue

from bridge.ledger.overview import admin_overview
from bridge.web.ratelimit import limited

bp = Blueprint("admin", __name__, template_folder="templates")


def _password() -> str | None:
    return current_app.extensions["bridge"].config.server.admin_password


def _csrf() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def _check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "the form is out of date: reload the page and try again")


@bp.route("/admin/login", methods=["GET", "POST"])
@limited("admin-login", 10)  # per client address and minute: guessing the password takes forever
def login() -> ResponseReturnValue:
    if _password() is None:
        abort(404)
    error = None
    if request.method == "POST":
        _check_csrf()
        if hmac.compare_digest((request.form.get("password") or "").encode(), _password().encode()):
            session.clear()
            session["admin"] = True
            return redirect("/admin", code=303)
        error = "Wrong password."
    return render_template("admin_login.html", csrf=_csrf(), error=error), 401 if error else 200


@bp.post("/admin/logout")
def logout() -> ResponseReturnValue:
    _check_csrf()
    session.clear()
    return redirect("/admin/login", code=303)


@bp.get("/admin")
def dashboard() -> ResponseReturnValue:
    if _password() is None:
        abort(404)
    if not session.get("admin"):
        return redirect("/admin/login", code=303)
    config = current_app.extensions["bridge"].config
    overview = admin_overview(datetime.now(timezone.utc))
    return render_template("admin.html", groups=overview.groups, refusals=overview.refusals, payouts=overview.payouts,
                           referrals=overview.referrals, advocates=overview.advocates, welcome=overview.welcome,
                           csrf=_csrf(), shops={s.id: s.name for s in config.shops},
                           has_referral=any(c.type == "referral" for c in config.campaigns))


@bp.after_request
def private(response: Response) -> ResponseReturnValue:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response
