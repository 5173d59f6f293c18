"""The review queue's page and its actions: each action calls the same function as the CLI, inside one
transaction with the record of who did it, and answers with what came of it."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, abort, redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from bridge.config.model import Config, Shop, User
from bridge.delivery.sepa import batch_xml, export_batch, mark_sent
from bridge.ledger.actions import Refused, approve_payouts, cancel_payouts, override_order, retry_payouts
from bridge.ledger.review import PAGE, Search, record_action, review_queue
from bridge.storage.db import db
from bridge.storage.models import Payout, Reward, SepaBatch
from bridge.web.admin import _check_csrf, page_context, private, shop_page
from bridge.web.dashboard import formatters

bp = Blueprint("review", __name__, template_folder="templates")
bp.after_request(private)
ACTIONS = ("approve", "reject", "allow", "retry", "cancel", "export_sepa", "sepa_sent")
NEEDS_NOTE = ("reject", "allow", "cancel")


@bp.get("/admin/shops/<shop_id>/review")
@shop_page
def review(user: User, config: Config, shop: Shop) -> ResponseReturnValue:
    context = page_context(config, user, shop, "review", ("q", "page", "campaign"))
    page = request.args.get("page", "0")
    page = int(page) if page.isdigit() and len(page) < 6 else 0
    search = Search((request.args.get("q") or "").strip()[:100])
    campaign = request.args.get("campaign") or None
    if campaign is not None and campaign not in {c.id for c in config.campaigns_of(shop.id)}:
        abort(400, f"shop {shop.id} has no campaign {campaign!r}")
    queue = review_queue(config, shop.id, search, page, campaign)
    more = any(len(queue[k]) == PAGE for k in ("waiting", "failed", "refused"))
    return render_template("review.html", **context, queue=queue, search=search.text, page_number=page, more=more,
                           campaigns=config.campaigns_of(shop.id), campaign=campaign, person=search.email(),
                           **formatters(shop, context["locale"]))


@bp.post("/admin/shops/<shop_id>/review")
@shop_page
def act(user: User, config: Config, shop: Shop) -> ResponseReturnValue:
    _check_csrf()
    action, target = request.form.get("action", ""), (request.form.get("target") or "").strip()[:200]
    note = (request.form.get("note") or "").strip()[:500]
    if action not in ACTIONS:
        abort(400, f"action must be one of {', '.join(ACTIONS)}")
    now = datetime.now(timezone.utc)
    words = page_context(config, user, shop, "review", ())["words"]
    try:
        with db.atomic():  # the action and its record: both or neither
            result = _carry_out(config, shop.id, action, target, note, now, words)
            record_action(shop.id, user.name, action, target, note, result, now)
    except Refused as exc:
        result = f"{words['refused']}: {exc}"
        record_action(shop.id, user.name, action, target, note, result, now)
    session["done"] = result
    back = request.form.get("back", "")
    return redirect(back if back.startswith(f"/admin/shops/{shop.id}/") else f"/admin/shops/{shop.id}/review", code=303)


def _carry_out(config, shop_id: str, action: str, target: str, note: str, now: datetime, words: dict) -> str:
    """Do one action of the queue after checking that its target belongs to this shop; say what was done."""
    if action in NEEDS_NOTE and not note:
        raise Refused(words["say_why"])
    if action in ("approve", "retry", "cancel"):
        _payout_of(shop_id, target)
        if action == "approve":
            return f"{approve_payouts(config, [target], None, now)} {words['approved']}: {target}"
        if action == "retry":
            return f"{retry_payouts([target], now)} {words['retried']}: {target}"
        outcome = cancel_payouts(config, [target], note, now)
        if outcome.problems:
            raise Refused("; ".join(outcome.problems))
        return "; ".join(outcome.done)
    if action in ("reject", "allow"):
        campaign_id, _, order_id = target.partition(":")
        if campaign_id not in {c.id for c in config.campaigns_of(shop_id)}:
            abort(403, "this campaign is not one of this shop's")
        outcome = override_order(config, campaign_id, order_id, "refuse" if action == "reject" else "allow", note, now)
        return "; ".join(outcome.done)
    if action == "export_sepa":
        if config.shop(shop_id).sepa is None:
            raise Refused(words["no_sepa"])
        batch = export_batch(config, shop_id, now.date(), now)
        if batch is None:
            raise Refused(words["no_sepa_ready"])
        return words["batch_made"].format(id=batch.id, count=batch.count)
    batch = _batch_of(shop_id, target)
    changed = mark_sent(config, batch, now)
    return words["batch_sent"].format(id=batch.id, count=changed)


def _payout_of(shop_id: str, key: str) -> Payout:
    payout = Payout.select(Payout, Reward).join(Reward).where(Payout.key == key).first()
    if payout is None:
        raise Refused(f"no payout {key}")
    if payout.reward.shop != shop_id:
        abort(403, "this payout is not one of this shop's")
    return payout


def _batch_of(shop_id: str, batch_id: str) -> SepaBatch:
    batch = SepaBatch.get_or_none(SepaBatch.id == int(batch_id)) if batch_id.isdigit() and len(batch_id) < 12 else None
    if batch is None:
        raise Refused(f"no batch {batch_id}")
    if batch.shop != shop_id:
        abort(403, "this batch is not one of this shop's")
    return batch


@bp.get("/admin/shops/<shop_id>/sepa/<int:batch_id>.xml")
@shop_page
def sepa_file(user: User, config: Config, shop: Shop, batch_id: int) -> ResponseReturnValue:
    """A batch's pain.001 file, as many times as needed (the same message id each time)."""
    try:
        batch = _batch_of(shop.id, str(batch_id))
    except Refused:
        abort(404, f"no batch {batch_id}")
    return Response(batch_xml(config, batch), mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{batch.message_id}.xml"'})
