"""The widget's JSON API (CORS limited to the configured shops' origins), rate limited, JSON errors only."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from bridge.basics import bodies
from bridge.connectors.errors import ConnectorError, NotFound, RetriableError
from bridge.delivery.payouts import create_welcome_coupon
from bridge.ledger.referrals import WelcomeRefused, request_link, welcome_coupon
from bridge.rewards.identity import normalise_email
from bridge.sharing.conversions import report_conversion
from bridge.sharing.events import BadEvent, record_event
from bridge.sharing.targets import resolve, resolve_for_click
from bridge.sharing.widget import link_state, referral_offer, running_referral, shop_public
from bridge.storage.db import db
from bridge.web.errors import error_response
from bridge.web.ratelimit import limited

WELCOME_TIMEOUT = 8.0  # seconds the friend's request waits for the shop to create the coupon

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PREFLIGHT = (("Access-Control-Allow-Methods", "GET, POST"), ("Access-Control-Allow-Headers", "Content-Type"),
             ("Access-Control-Max-Age", "600"))
log = logging.getLogger("bridge.api")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@lru_cache(maxsize=8)
def _origins(config) -> frozenset[str]:
    """The configured shops' origins (the only ones allowed to read the API from a browser)."""
    return frozenset(_origin(s.url) for s in config.shops)


@bp.after_request
def cors(response: Response) -> ResponseReturnValue:
    """Let the shops' own pages (and only them) read the answers; the preflight says what they may send."""
    headers = response.headers
    origin = request.headers.get("Origin")
    if origin and origin.lower() in _origins(current_app.extensions["bridge"].config):
        headers["Access-Control-Allow-Origin"] = origin
        if request.method == "OPTIONS":  # only a preflight reads these
            headers.extend(PREFLIGHT)
    headers["Vary"] = "Origin"
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


def _fields(*names: str) -> dict[str, str]:
    """Read fields from a form or a JSON object; anything else counts as missing."""
    try:
        data = bodies.loads(request.get_data(cache=True)) if request.is_json else request.form
    except (bodies.BadBody, UnicodeDecodeError):
        data = {}  # answered as missing fields, with a 400 that names them
    if not hasattr(data, "get"):
        data = {}
    values = {}
    for name in names:
        value = data.get(name)
        values[name] = value.strip()[:200] if isinstance(value, str) else ""
    return values


def _shop(shop_id: str):
    config = current_app.extensions["bridge"].config
    try:
        return config, config.shop(shop_id)
    except KeyError:
        return config, None


@bp.get("/links/<code>")
@limited("api-read", 120)
def link(code: str) -> ResponseReturnValue:
    """The public state of a share link."""
    config = current_app.extensions["bridge"].config
    target = resolve_for_click(config, code)  # what the state needs of the group never changes
    if target is None:
        return error_response(404, "unknown_link", "no link with this code")
    return jsonify(link_state(config, target, datetime.now(timezone.utc)))


@bp.get("/shops/<shop_id>")
@limited("api-read", 120)
def shop_info(shop_id: str) -> ResponseReturnValue:
    """What the widget needs to speak as the shop: name, language, tone, colour."""
    config, shop = _shop(shop_id)
    if shop is None:
        return error_response(404, "unknown_shop", f"no shop {shop_id!r}")
    if request.args.get("use") == "ask":  # the "get my link" form: the referral offer, if one runs today
        campaign = running_referral(config, shop.id, datetime.now(timezone.utc))
        return jsonify(shop=shop_public(shop, "ask"), referral=referral_offer(campaign, shop.locale) if campaign else None)
    return jsonify(shop=shop_public(shop, "notice"))


@bp.get("/shops/<shop_id>/orders/<order_id>")
@limited("api-read", 120)
def order_view(shop_id: str, order_id: str) -> ResponseReturnValue:
    """The thank-you view of an order, for whoever holds its key."""
    return _conversion(shop_id, order_id, request.args.get("key", "")[:200], None)


@bp.post("/shops/<shop_id>/conversions")
@limited("api-write", 30)
def conversion(shop_id: str) -> ResponseReturnValue:
    """An order reported by the thank-you page with the code kept since landing."""
    fields = _fields("order_id", "key", "code")
    if not fields["order_id"] or not fields["key"]:
        return error_response(400, "missing_fields", "order_id and key are required")
    return _conversion(shop_id, fields["order_id"], fields["key"], fields["code"] or None)


def _conversion(shop_id: str, order_id: str, key: str, code: str | None):
    config, shop = _shop(shop_id)
    if shop is None:
        return error_response(404, "unknown_shop", f"no shop {shop_id!r}")
    if not key:
        return error_response(403, "key_required", "the order's key is required")
    try:
        view = report_conversion(config, shop.id, order_id, key, code, datetime.now(timezone.utc))
    except NotFound:
        return error_response(404, "unknown_order", "no order with this id and key")
    except RetriableError as exc:
        log.warning("order not checked", extra={"shop": shop.id, "order": order_id, "reason": str(exc)})
        response = error_response(503, "shop_unavailable", "the shop cannot be reached; try again shortly")
        response.headers["Retry-After"] = "10"
        return response
    except (ConnectorError, NotImplementedError, LookupError) as exc:
        log.warning("order not checked", extra={"shop": shop.id, "order": order_id, "reason": str(exc)})
        return error_response(502, "shop_error", "the shop could not confirm this order")
    return jsonify(view)


@bp.post("/shops/<shop_id>/referral-links")
@limited("api-ask", 10)
def referral_link(shop_id: str) -> ResponseReturnValue:
    """The "get my link" form: the referral link goes by e-mail to that address, if it is a customer's; the
    answer is the same either way, so that nobody learns who is a customer or gets someone else's link."""
    config, shop = _shop(shop_id)
    campaign = running_referral(config, shop.id, datetime.now(timezone.utc)) if shop else None
    if campaign is None:
        return error_response(404, "no_referral", f"no referral campaign runs on shop {shop_id!r}")
    email = _fields("email")["email"]
    if normalise_email(email) is None:
        response = jsonify(error={"code": "bad_email", "message": "not an e-mail address", "reason": "bad_email"})
        response.status_code = 422
        return response
    with db.atomic():
        request_link(campaign, email, datetime.now(timezone.utc))
    response = jsonify(state="sent")
    response.status_code = 202
    return response


@bp.post("/shops/<shop_id>/events")
@limited("api-events", 60)
def link_event(shop_id: str) -> ResponseReturnValue:
    """A link shown, shared or landed on, sent by the widget as a beacon (a form body, whatever its type)."""
    config, shop = _shop(shop_id)
    if shop is None:
        return error_response(404, "unknown_shop", f"no shop {shop_id!r}")
    body = request.get_data(cache=False)[:1000]
    try:
        fields = {k: v[0][:80] for k, v in parse_qs(body.decode(), max_num_fields=5).items()}
        record_event(config, shop.id, fields.get("k", ""), fields.get("c", ""), fields.get("via"),
                     datetime.now(timezone.utc))
    except (UnicodeDecodeError, ValueError) as exc:  # BadEvent, and a form with too many fields
        return error_response(400, "bad_event", str(exc) if isinstance(exc, BadEvent) else "not a form body")
    return Response(status=204)


@bp.post("/shops/<shop_id>/welcome")
@limited("api-write", 30)
def welcome(shop_id: str) -> ResponseReturnValue:
    """A friend who came through a referral code asks for the welcome coupon (sent by e-mail too)."""
    config, shop = _shop(shop_id)
    if shop is None:
        return error_response(404, "unknown_shop", f"no shop {shop_id!r}")
    fields = _fields("code", "email")
    target = resolve(config, fields["code"])
    if target is None or target.kind != "advocate" or target.campaign.shop != shop.id:
        return error_response(404, "unknown_code", "no referral code like this in this shop")
    now = datetime.now(timezone.utc)
    try:
        coupon = welcome_coupon(target.campaign, target.code, fields["email"], now)
    except WelcomeRefused as exc:
        # `reason` lets the widget say why in the shop's language (the message is for developers)
        response = jsonify(error={"code": "welcome_refused", "message": str(exc), "reason": exc.reason})
        response.status_code = 422
        return response
    state = coupon.state
    if state == "to_create":  # created now, while the friend waits: a code is shown only once the shop has it
        state = create_welcome_coupon(config, coupon, now, timeout=WELCOME_TIMEOUT)
    return jsonify(coupon=coupon.coupon_code if state == "created" else None,
                   state={"created": "created", "to_create": "pending"}.get(state, "failed"),
                   value=link_state(config, target, now)["campaign"]["welcome"])
