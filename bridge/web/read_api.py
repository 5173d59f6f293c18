"""The read API for other systems, per shop, with a bearer token: groups, rewards, payouts, statistics; approving
and cancelling payouts (through the same functions as the CLI and the review queue, and recorded as they are)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from functools import wraps
from typing import Callable

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from bridge.config.model import Config
from bridge.ledger.actions import Refused, approve_payouts, cancel_payouts
from bridge.ledger.buyers import refresh_buyers
from bridge.ledger.listing import (
    GROUP_STATES,
    MAX_LIMIT,
    group_detail,
    groups_page,
    payout_item,
    payouts_page,
    rewards_page,
)
from bridge.ledger.review import record_action
from bridge.ledger.rollup import roll_up
from bridge.ledger.stats import default_period, shop_stats
from bridge.rewards.payouts import STATES
from bridge.storage.db import db
from bridge.storage.models import ApiToken, Payout, Reward
from bridge.storage.tokens import TokenRefused, check_token
from bridge.web.errors import error_response

bp = Blueprint("read_api", __name__, url_prefix="/api/v1/shops/<shop_id>")


class BadParameter(Exception):
    """A query parameter or body field that is wrong: a 400 naming it."""


def with_token(view: Callable) -> Callable:
    """Open the view only to a token of this very shop (401 or 403 otherwise); JSON errors for bad parameters."""
    @wraps(view)
    def wrapped(shop_id: str, **kwargs):
        config = current_app.extensions["bridge"].config
        if shop_id not in {s.id for s in config.shops}:
            return error_response(404, "unknown_shop", f"no shop {shop_id!r}")
        now = datetime.now(timezone.utc)
        try:
            with db.atomic():
                token = check_token(request.headers.get("Authorization"), shop_id, now)
            answer = view(config, shop_id, token, now, **kwargs)
        except TokenRefused as exc:
            return error_response(exc.status, exc.code, str(exc))
        except BadParameter as exc:
            return error_response(400, "bad_parameter", str(exc))
        response = jsonify(answer) if isinstance(answer, dict) else answer
        response.headers["Cache-Control"] = "no-store"
        return response
    return wrapped


def _int(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadParameter(f"{name}: expected a whole number from {low} to {high}, got {text!r}")
    return int(text)


def _choice(name: str, choices: tuple) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in choices:
        raise BadParameter(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _day(name: str) -> date | None:
    text = request.args.get(name)
    try:
        return date.fromisoformat(text) if text is not None else None
    except ValueError:
        raise BadParameter(f"{name}: expected a day like 2026-12-01, got {text!r}") from None


def _paging() -> tuple[int, int]:
    return _int("limit", 50, 1, MAX_LIMIT), _int("after", 0, 0, 2 ** 62)


@bp.get("/groups")
@with_token
def groups(config: Config, shop_id: str, token: ApiToken, now: datetime) -> dict:
    """The shop's groups (?state=open|closed|settled, ?limit, ?after)."""
    state = _choice("state", GROUP_STATES)
    return groups_page(shop_id, state, *_paging(), now)


@bp.get("/groups/<code>")
@with_token
def group(config: Config, shop_id: str, token: ApiToken, now: datetime, code: str) -> ResponseReturnValue:
    """One group by its share code, with its buyers and what each earned."""
    found = group_detail(shop_id, code, now)
    return found if found is not None else error_response(404, "unknown_group", f"shop {shop_id!r} has no group {code!r}")


@bp.get("/rewards")
@with_token
def rewards(config: Config, shop_id: str, token: ApiToken, now: datetime) -> dict:
    """The shop's rewards (?limit, ?after)."""
    return rewards_page(shop_id, *_paging())


@bp.get("/payouts")
@with_token
def payouts(config: Config, shop_id: str, token: ApiToken, now: datetime) -> dict:
    """The shop's payouts (?state=..., ?limit, ?after)."""
    state = _choice("state", STATES)
    return payouts_page(shop_id, state, *_paging())


@bp.get("/stats")
@with_token
def stats(config: Config, shop_id: str, token: ApiToken, now: datetime) -> dict:
    """The dashboard's figures for whole days of the shop (?since, ?until: default the last 30 days; ?campaign)."""
    zone = config.shop(shop_id).zone
    period = default_period(zone, now, _day("since"), _day("until"))
    if period.since > period.until:
        raise BadParameter("since: is after until")
    if (period.until - period.since).days > 731:
        raise BadParameter("since: a period is at most two years")
    roll_up(now, batches=1)  # the latest reports and orders, as the dashboard does
    refresh_buyers(config, batches=1)
    try:
        return shop_stats(config, shop_id, period, request.args.get("campaign"), now)
    except LookupError as exc:
        raise BadParameter(f"campaign: {exc}") from None


@bp.post("/payouts/<key>/approve")
@with_token
def approve(config: Config, shop_id: str, token: ApiToken, now: datetime, key: str) -> ResponseReturnValue:
    """Approve one pending payout of this shop."""
    return _act(shop_id, token, key, "approve", "", now, lambda: f"{approve_payouts(config, [key], None, now)} approved")


@bp.post("/payouts/<key>/cancel")
@with_token
def cancel(config: Config, shop_id: str, token: ApiToken, now: datetime, key: str) -> ResponseReturnValue:
    """Cancel one payout whose money has not left, with a note saying why (`{"note": "..."}`)."""
    note = _note()

    def carry_out():
        outcome = cancel_payouts(config, [key], note, now)
        if outcome.problems:
            raise Refused("; ".join(outcome.problems))
        return "; ".join(outcome.done)
    return _act(shop_id, token, key, "cancel", note, now, carry_out)


def _note() -> str:
    try:
        body = json.loads(request.get_data(cache=False) or b"{}")
    except ValueError:
        raise BadParameter("the body: expected JSON like {\"note\": \"why\"}") from None
    note = body.get("note") if isinstance(body, dict) else None
    if not isinstance(note, str) or not note.strip() or len(note) > 500:
        raise BadParameter("note: say why in a few words (text of 1 to 500 characters)")
    return note.strip()


def _act(shop_id: str, token, key: str, action: str, note: str, now: datetime, carry_out) -> ResponseReturnValue:
    payout = Payout.select(Payout, Reward).join(Reward).where((Payout.key == key) & (Reward.shop == shop_id)).first()
    if payout is None:
        return error_response(404, "unknown_payout", f"shop {shop_id!r} has no payout {key!r}")
    who = f"api token {token.name}"
    try:
        with db.atomic():  # the action and its record: both or neither
            result = carry_out()
            record_action(shop_id, who, action, key, note, result, now)
    except Refused as exc:
        record_action(shop_id, who, action, key, note, f"refused: {exc}", now)
        return error_response(409, "refused", str(exc))
    return dict(result=result, payout=payout_item(Payout.select(Payout, Reward).join(Reward).where(Payout.key == key).get()))
