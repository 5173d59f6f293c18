"""Render an outbox row into a MIME message: Jinja templates per language, tu/vous, the shop's look.

Templates live in `templates/<kind>.<lang>.txt`: a `Subject:` line (and an optional `Action:` line,
the label of the button that leads to `action_url`), a blank line, then the text. The HTML part wraps the same paragraphs in `layout.html` with the shop's name,
logo and colour (autoescaped); the plain-text part is the text itself.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from email.message import EmailMessage as Mime
from email.utils import format_datetime, formataddr, parseaddr

from babel.dates import format_datetime as local_datetime
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bridge.basics.money import display_amount
from bridge.config.model import Config
from bridge.ledger.decisions import founder_of
from bridge.rewards.amounts import tier_words
from bridge.sharing.group_now import group_now
from bridge.sharing.links import claim_url, share_url
from bridge.storage.models import Advocate, EmailMessage, MemberTag, Payout, Reward, WelcomeCoupon

_text = Environment(loader=PackageLoader("bridge.delivery.mail", "templates"), autoescape=False, undefined=StrictUndefined,
                    keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
_html = Environment(loader=PackageLoader("bridge.delivery.mail", "templates"), autoescape=select_autoescape(["html"]),
                    undefined=StrictUndefined)


class Unrenderable(Exception):
    """The message's subject no longer exists (a void group, a deleted payout): it is dropped, not retried."""


def render(config: Config, row: EmailMessage, now: datetime) -> Mime:
    """Build the message for one outbox row, from the current state of what it is about."""
    shop = config.shop(row.shop)
    campaign = next((c for c in config.campaigns if c.id == row.campaign), None)
    lang = shop.locale if shop.locale in ("fr", "en") else "en"
    ctx = dict(shop=shop, campaign=campaign, lang=lang,
               tv=lambda tu, vous: tu if shop.tone == "tu" else vous,
               money=lambda amount, currency=shop.currency: display_amount(amount, currency, lang),
               when=lambda instant: local_datetime(instant, "d MMMM y, HH:mm", tzinfo=shop.zone, locale=lang),
               pct=lambda fraction: f"{(fraction * 100).normalize():f}\u00a0%" if lang == "fr" else f"{(fraction * 100).normalize():f}%",
               action_url=None, action_label=None)
    ctx.update(_CONTEXT[row.kind](config, campaign, json.loads(row.ref), now))
    text = _text.get_template(f"{row.kind}.{lang}.txt").render(ctx)
    head, _, body = text.partition("\n\n")
    headers = dict(line.split(":", 1) for line in head.splitlines() if ":" in line)
    subject = headers["Subject"].strip()
    ctx["action_label"] = headers.get("Action", "").strip() or None
    paragraphs = [p.strip() for p in body.strip().split("\n\n") if p.strip()]
    message = Mime()
    message["Subject"] = subject
    message["From"] = formataddr((shop.name, parseaddr(config.server.smtp.sender)[1]))
    message["To"] = row.to_email
    message["Date"] = format_datetime(now)
    # Stable per outbox key: a message sent again after a crash carries the same id (receivers may dedupe).
    message["Message-ID"] = f"<{hashlib.sha256(row.key.encode()).hexdigest()[:32]}@bridge>"
    message["Auto-Submitted"] = "auto-generated"
    plain = body.strip() + (f"\n\n{ctx['action_url']}\n" if ctx["action_url"] else "\n")
    message.set_content(plain)
    message.add_alternative(_html.get_template("layout.html").render(
        subject=subject, paragraphs=paragraphs, **ctx), subtype="html")
    return message


def _share(config, campaign, ref, now):
    founder = founder_of(campaign, ref["order"])
    state = group_now(campaign, founder, now) if founder else None
    if state is None:
        raise Unrenderable(f"order {ref['order']} is in no group")
    tag = MemberTag.get_or_none((MemberTag.campaign == campaign.id) & (MemberTag.order_id == ref["order"]))
    url = share_url(config.server.public_url, state.group.code, tag.tag if tag else None)
    first = campaign.tiers[0]
    return dict(url=url, state=state, closes_at=state.group.closes_at, first_tier=first,
                first_cashback=first.cashback.describe(campaign.currency), amount=state.amount_of(ref["order"]),
                action_url=url, action_label=None)


def _joined(config, campaign, ref, now):
    """A friend joined: the group as it was then (stored with the message), its link as it is."""
    ctx = _share(config, campaign, ref, now)
    if "size" not in ref:  # queued by an earlier version: the state now is all there is
        return {**ctx, "size": ctx["state"].outcome.size}
    then = tier_words(campaign.tiers, ref["size"], campaign.currency)
    return {**ctx, "size": ref["size"], "state": then, "amount": Decimal(ref["amount"]) if ref.get("amount") else None}


def _reward(config, campaign, ref, now):
    reward = Reward.get_or_none(Reward.key == ref["reward"])
    if reward is None:
        raise Unrenderable(f"no reward {ref['reward']}")
    payout = reward.payouts.order_by(Payout.id.desc()).first()
    state = group_now(campaign, founder_of(campaign, reward.order_id) or "", now) if campaign.type == "social_buying" else None
    return dict(reward=reward, payout=payout, amount=reward.amount, method=payout.method if payout else None,
                state=state, size=state.outcome.size if state else None)


def _payout(config, campaign, ref, now):
    payout = Payout.get_or_none(Payout.key == ref["payout"])
    if payout is None:
        raise Unrenderable(f"no payout {ref['payout']}")
    shop = config.shop(payout.reward.shop)
    # A refund recorded without the gateway (api_refund: false; cash on delivery) reaches no bank by itself.
    # (a hand-coded shop's system said it made the refund: on the payment itself, as its integration guide asks)
    gateway = bool(shop.woocommerce and shop.woocommerce.api_refund) or shop.platform == "custom"
    ctx = dict(payout=payout, amount=payout.amount, method=payout.method, order_id=payout.reward.order_id,
               coupon=payout.external_ref if payout.method == "coupon" else None, gateway=gateway)
    if payout.method == "sepa":
        url = claim_url(config.server.public_url, config.server.secret_key, payout.id, payout.key)
        ctx.update(action_url=url, claim_url=url)
    return ctx


def _welcome(config, campaign, ref, now):
    coupon = WelcomeCoupon.get_or_none(WelcomeCoupon.coupon_code == ref["coupon"])
    if coupon is None:
        raise Unrenderable(f"no welcome coupon {ref['coupon']}")
    return dict(coupon=coupon, code=coupon.coupon_code, percent=coupon.percent, amount=coupon.amount,
                minimum=coupon.minimum_order, expires_at=coupon.expires_at, action_url=campaign and config.shop(campaign.shop).url)


def _referral_link(config, campaign, ref, now):
    """A buyer's own referral link, with what a friend gets and what the buyer earns per friend."""
    advocate = Advocate.get_or_none((Advocate.campaign == campaign.id) & (Advocate.code == ref["code"]))
    if advocate is None:
        raise Unrenderable(f"no advocate {ref['code']}")
    url = share_url(config.server.public_url, advocate.code)
    return dict(url=url, code=advocate.code, friend=campaign.friend_reward, referrer=campaign.referrer_reward,
                action_url=url)


def _endpoint(config, campaign, ref, now):
    """An event endpoint paused after a day of failures (the owner's alert e-mail)."""
    endpoint = next((e for e in config.shop(ref["shop_id"]).events if e.name == ref["endpoint"]), None)
    if endpoint is None:
        raise Unrenderable(f"no event endpoint {ref['endpoint']}")
    return dict(endpoint=endpoint, error=ref.get("error") or "none")


def _codes_low(config, campaign, ref, now):
    """Uploaded coupon codes of one amount running low (the owner's alert e-mail)."""
    return dict(amount=Decimal(ref["amount"]), left=ref["left"])


_CONTEXT = {"endpoint_paused": _endpoint, "codes_low": _codes_low, "referral_link": _referral_link, "share_link": _share, "friend_joined": _joined, "group_closed": _reward, "referral_reward": _reward,
            "payout_sent": _payout, "claim_iban": _payout, "welcome_coupon": _welcome}
