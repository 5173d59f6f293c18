"""A small admin page behind a login: groups, members, payouts and the reasons of refusals.

Until a full dashboard exists. The password is `server.admin_password` (no password: no admin pages);
the session cookie is signed with the server's secret key, HttpOnly and SameSite=Lax, and every form
carries a CSRF token.
"""

from __future__ import annotations

import hmac
import json
import secrets
from datetime import datetime, timezone

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
)

from bridge.money import format_amount
from bridge.rewards.payouts import group_reward_prefix
from bridge.storage.models import GroupRow, MembershipRow, OrderFact, Payout, Reward
from bridge.web.ratelimit import limited

bp = Blueprint("admin", __name__, template_folder="templates")
LIMIT = 200


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
def login():
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
def logout():
    _check_csrf()
    session.clear()
    return redirect("/admin/login", code=303)


@bp.get("/admin")
def dashboard():
    if _password() is None:
        abort(404)
    if not session.get("admin"):
        return redirect("/admin/login", code=303)
    config = current_app.extensions["bridge"].config
    now = datetime.now(timezone.utc)
    groups = []
    for group in GroupRow.select().order_by(GroupRow.opened_at.desc()).limit(LIMIT):
        members = list(MembershipRow.select().where((MembershipRow.campaign == group.campaign)
                                                    & (MembershipRow.founder_id == group.founder_id)
                                                    & MembershipRow.role.in_(("founder", "member"))))
        orders = {o.order_id: o for o in OrderFact.select().where(
            (OrderFact.shop == group.shop) & OrderFact.order_id.in_([m.order_id for m in members]))}
        rewards = {r.order_id: r for r in Reward.select().where(
            (Reward.campaign == group.campaign) & Reward.key.startswith(group_reward_prefix(group.campaign, group.founder_id)))}
        if not any(m.role == "founder" for m in members):
            state = "void"  # its founding order joined another group later: nobody is in this one
        else:
            state = "settled" if group.settled_at else ("open" if now < group.closes_at else "closed")
        groups.append(dict(group=group, state=state, members=[dict(
            order=m.order_id, role=m.role, email=orders[m.order_id].email if m.order_id in orders else "",
            sponsor=m.sponsor_id, flags=[text for _, _, text in json.loads(m.flags)],
            reward=format_amount(rewards[m.order_id].amount, group.currency) if m.order_id in rewards else "")
            for m in sorted(members, key=lambda m: (m.role != "founder", m.paid_at or now))]))
    # Every refusal, also a refused join whose order then founded a group of its own (a self-referral).
    refusals = [dict(campaign=m.campaign, order=m.order_id,
                     reasons=[text for _, passed, text in json.loads(m.checks) if not passed]
                     + (["founded its own group instead"] if m.role == "founder" else []))
                for m in MembershipRow.select().where((MembershipRow.role == "none")
                                                      | MembershipRow.checks.contains("false"))
                .order_by(MembershipRow.decided_at.desc()).limit(LIMIT)]
    refusals = [r for r in refusals if r["reasons"] and r["reasons"] != ["founded its own group instead"]]
    payouts = [dict(key=p.key, amount=format_amount(p.amount, p.currency), method=p.method, state=p.state,
                    note=p.last_error or p.review or p.external_ref or "")
               for p in Payout.select().order_by(Payout.id.desc()).limit(LIMIT)]
    return render_template("admin.html", groups=groups, refusals=refusals, payouts=payouts, csrf=_csrf(),
                           shops={s.id: s.name for s in config.shops})


@bp.after_request
def private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response
