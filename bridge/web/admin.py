"""The dashboard behind a login: statistics per shop, and the groups, payouts and refusals of every shop.

Users come from the YAML (`users:`, argon2 hashes; an owner sees only their shops) or the legacy
`server.admin_password` (an administrator). The session cookie is signed with the server's secret key,
HttpOnly and SameSite=Lax, lasts `logins.SESSION_HOURS`, and every form carries a CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import date, datetime, timezone
from functools import wraps
from typing import Callable

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

from bridge.config.model import Config, Shop, User
from bridge.ledger.buyers import refresh_buyers
from bridge.ledger.overview import admin_overview
from bridge.ledger.rollup import roll_up
from bridge.ledger.stats import Period, shop_stats
from bridge.web.dashboard import page_model, stats_csv
from bridge.web.dashboard_texts import LANGUAGES, texts_for
from bridge.web.logins import check_login, current_user, has_logins, start_session
from bridge.web.ratelimit import count, limited

bp = Blueprint("admin", __name__, template_folder="templates")
DEFAULT_DAYS = 30
LONGEST_DAYS = 400
TRIES_PER_NAME = 10  # a minute, whatever the address: guessing one user's password from many addresses is slow too


def _config():
    return current_app.extensions["bridge"].config


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
    config = _config()
    if not has_logins(config):
        abort(404)
    error = None
    if request.method == "POST":
        _check_csrf()
        name = (request.form.get("name") or "").strip()[:64]
        if count("admin-login-name", name, int(time.time() // 60)) > TRIES_PER_NAME:
            abort(429, "too many tries for this user; try again in a minute")
        user = check_login(config, name, request.form.get("password") or "")
        if user is not None:
            csrf = session.get("csrf")
            start_session(user)
            session["csrf"] = csrf or secrets.token_urlsafe(24)
            return redirect("/admin", code=303)
        error = "Wrong user or password." if config.users else "Wrong password."
    return render_template("admin_login.html", csrf=_csrf(), error=error, names=bool(config.users)), 401 if error else 200


@bp.post("/admin/logout")
def logout() -> ResponseReturnValue:
    _check_csrf()
    session.clear()
    return redirect("/admin/login", code=303)


def _user_or_login():
    config = _config()
    if not has_logins(config):
        abort(404)
    return current_user(config)


@bp.get("/admin")
def home() -> ResponseReturnValue:
    user = _user_or_login()
    if user is None:
        return redirect("/admin/login", code=303)
    visible = [s for s in _config().shops if user.may_see(s.id)]
    if not visible:
        abort(403, "you may see no shop")
    return redirect(f"/admin/shops/{visible[0].id}", code=303)


def _shop_for(user, shop_id: str):
    config = _config()
    try:
        shop = config.shop(shop_id)
    except KeyError:
        abort(404, f"no shop {shop_id!r}")
    if not user.may_see(shop.id):
        abort(403, "this shop is not one of yours")
    return config, shop


def _period(shop) -> Period:
    """The period asked for in the query (`since`, `until`, days of the shop), by default the last 30 days."""
    today = datetime.now(timezone.utc).astimezone(shop.zone).date()
    try:
        until = date.fromisoformat(request.args["until"]) if request.args.get("until") else today
        since = date.fromisoformat(request.args["since"]) if request.args.get("since") else None
    except ValueError:
        abort(400, "since and until are days written YYYY-MM-DD")
    since = since or date.fromordinal(until.toordinal() - DEFAULT_DAYS + 1)
    if since > until or (until - since).days >= LONGEST_DAYS:
        abort(400, f"the period runs from since to until, at most {LONGEST_DAYS} days")
    return Period(since, until, shop.zone)


def _figures(config, shop):
    campaign = request.args.get("campaign") or None
    if campaign is not None and campaign not in {c.id for c in config.campaigns_of(shop.id)}:
        abort(400, f"shop {shop.id} has no campaign {campaign!r}")
    period = _period(shop)
    now = datetime.now(timezone.utc)
    # the latest reports and orders; a large backlog (no worker running) is the worker's job
    roll_up(now, batches=1)
    refresh_buyers(config, batches=1)
    return period, campaign, shop_stats(config, shop.id, period, campaign, now)


def page_context(config: Config, user: User, shop: Shop, tab: str, kept: tuple[str, ...]) -> dict:
    """What every dashboard page shows around its content: language, tabs, the user's shops, the last action's result."""
    if request.args.get("lang") in LANGUAGES:
        session["lang"] = request.args["lang"]
    language = session.get("lang") or (shop.locale if shop.locale in LANGUAGES else "en")
    return dict(words=texts_for(language), lang=language, locale=f"{language}_{'FR' if language == 'fr' else 'GB'}",
                shop=shop, user=user, csrf=_csrf(), tab=tab, shops=[s for s in config.shops if user.may_see(s.id)],
                query={k: v for k, v in request.args.items() if k in kept and v},
                other_language="fr" if language == "en" else "en", done=session.pop("done", None))


def shop_page(view: Callable) -> Callable:
    """A dashboard page of one shop: called with the logged-in user, the configuration and the shop (403 for
    a shop that is not the user's); nobody logged in goes to the login page."""
    @wraps(view)
    def wrapper(shop_id: str, *args, **kwargs):
        user = _user_or_login()
        if user is None:
            return redirect("/admin/login", code=303)
        config, shop = _shop_for(user, shop_id)
        return view(user, config, shop, *args, **kwargs)

    return wrapper


@bp.get("/admin/shops/<shop_id>")
@shop_page
def shop_dashboard(user: User, config: Config, shop: Shop) -> ResponseReturnValue:
    context = page_context(config, user, shop, "stats", ("campaign", "since", "until"))
    period, campaign, figures = _figures(config, shop)
    return render_template("dashboard.html", **context, campaigns=config.campaigns_of(shop.id), campaign=campaign,
                           since=period.since.isoformat(), until=period.until.isoformat(),
                           page=page_model(figures, context["words"], context["locale"]))


@bp.get("/admin/shops/<shop_id>/stats.csv")
@shop_page
def shop_csv(user: User, config: Config, shop: Shop) -> ResponseReturnValue:
    period, campaign, figures = _figures(config, shop)
    name = f"bridge-{shop.id}-{campaign + '-' if campaign else ''}{period.since}-{period.until}.csv"
    return Response(stats_csv(figures), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/admin/activity")
def activity() -> ResponseReturnValue:
    """Every shop's groups, payouts and refusals: for administrators (the lists are not split by shop yet)."""
    user = _user_or_login()
    if user is None:
        return redirect("/admin/login", code=303)
    if user.role != "admin":
        abort(403, "only an administrator sees every shop's lists")
    config = _config()
    overview = admin_overview(datetime.now(timezone.utc))
    return render_template("admin.html", groups=overview.groups, refusals=overview.refusals, payouts=overview.payouts,
                           referrals=overview.referrals, advocates=overview.advocates, welcome=overview.welcome,
                           csrf=_csrf(), shops={s.id: s.name for s in config.shops},
                           has_referral=any(c.type == "referral" for c in config.campaigns))


@bp.after_request
def private(response: Response) -> ResponseReturnValue:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                                   "script-src 'self'; "
                                                   "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return response
