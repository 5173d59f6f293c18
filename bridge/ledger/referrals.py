"""Referral around the engine: advocates get codes, friends' orders are decided, referrers are rewarded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bridge.basics.codes import new_code, new_codes
from bridge.config.model import Campaign, Config, ReferralCampaign
from bridge.ledger import news
from bridge.ledger.decisions import checks_json
from bridge.ledger.grants import grant_many, granted_in
from bridge.ledger.leaks import leaked_codes
from bridge.rewards.groups import BURST_WINDOW
from bridge.rewards.identity import normalise_email
from bridge.rewards.leaks import leak_check
from bridge.rewards.model import SOURCES, Override
from bridge.rewards.payouts import referral_reward_key
from bridge.rewards.referral import Advocate as AdvocateView
from bridge.rewards.referral import decide_referral, review_flags, welcome_refusal
from bridge.storage.bulk import insert_ignoring_many
from bridge.storage.db import db
from bridge.storage.models import (
    Advocate,
    OrderFact,
    OverrideFact,
    ReferralClaim,
    ReferralDecisionRow,
    WelcomeCoupon,
)
from bridge.storage.rows import row_to_order

FINAL = ("granted", "refused")
# A buyer is e-mailed their referral link after an order paid this recently: a backfill of old orders e-mails nobody.
LINK_MAIL_WITHIN = timedelta(days=7)
_NEVER = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Beneficiary:
    """Who receives a reward: an order id (for refunds) and an e-mail (for coupons and e-mails)."""

    id: str
    email: str | None


def referral_campaigns(config: Config, shop: str | None = None) -> list[ReferralCampaign]:
    return [c for c in config.campaigns if c.type == "referral" and (shop is None or c.shop == shop)]


def issue_advocate(campaign: Campaign, email: str, order_id: str | None, now: datetime) -> str:
    """Return the advocate code of this e-mail in the campaign, creating it once."""
    normal = normalise_email(email)
    if normal is None:
        raise ValueError(f"not an e-mail address: {email!r}")
    Advocate.insert(campaign=campaign.id, code=new_code(), email_norm=normal, email=email.strip(), order_id=order_id,
                    created_at=now).on_conflict_ignore().execute()
    return Advocate.get((Advocate.campaign == campaign.id) & (Advocate.email_norm == normal)).code


def issue_advocates_for_orders(config: Config, changed: set[tuple[str, str]], now: datetime) -> None:
    """Every paid customer of a shop with a referral campaign gets an advocate code (once)."""
    for shop in {s for s, _ in changed}:
        campaigns = referral_campaigns(config, shop)
        if not campaigns:
            continue
        ids = sorted(o for s, o in changed if s == shop)
        rows = list(OrderFact.select(OrderFact.order_id, OrderFact.email, OrderFact.email_norm, OrderFact.paid_at,
                                     OrderFact.first_name).where(
            (OrderFact.shop == shop) & OrderFact.order_id.in_(ids) & OrderFact.paid & OrderFact.email_norm.is_null(False)))
        for campaign in campaigns:
            if rows:
                insert_ignoring_many(Advocate, [dict(campaign=campaign.id, code=code, email_norm=r.email_norm,
                                                     email=r.email.strip(), order_id=r.order_id, created_at=now,
                                                     first_name=r.first_name) for r, code in zip(rows, new_codes(len(rows)))])
                _mail_links(campaign, [r for r in rows if r.paid_at and now - r.paid_at <= LINK_MAIL_WITHIN], now)


def _mail_links(campaign: ReferralCampaign, rows: list, now: datetime) -> None:
    """E-mail each recent buyer their referral link, once per person and campaign (by the outbox key)."""
    if not rows:
        return
    codes = {a.email_norm: a.code for a in Advocate.select(Advocate.email_norm, Advocate.code).where(
        (Advocate.campaign == campaign.id) & Advocate.email_norm.in_(sorted({r.email_norm for r in rows})))}
    news.store([m for m in (news.message(f"referral_link:{campaign.id}:{codes[r.email_norm]}", "referral_link",
                                         campaign.shop, campaign.id, r.email, now, code=codes[r.email_norm])
                            for r in rows if r.email_norm in codes) if m])


def request_link(campaign: ReferralCampaign, email: str, now: datetime) -> bool:
    """Someone asked for their referral link by e-mail: queue it to that address if they are a referrer
    (a paid customer), at most once a day; tell whether one was queued (never shown to the asker)."""
    advocate = Advocate.get_or_none((Advocate.campaign == campaign.id) & (Advocate.email_norm == normalise_email(email)))
    if advocate is None:
        return False
    row = news.message(f"referral_link:{campaign.id}:{advocate.code}:asked:{now.date().isoformat()}", "referral_link",
                       campaign.shop, campaign.id, advocate.email, now, code=advocate.code)
    news.store([row])
    return True


class WelcomeRefused(ValueError):
    """The friend cannot have a welcome coupon; the message says why, `reason` names it for the widget."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def welcome_coupon(campaign: Campaign, advocate_code: str, friend_email: str, now: datetime) -> WelcomeCoupon:
    """Decide the friend's welcome coupon once per e-mail (the delivery job creates it in the shop)."""
    advocate = Advocate.get_or_none((Advocate.campaign == campaign.id) & (Advocate.code == advocate_code))
    if advocate is None:
        raise WelcomeRefused(f"unknown referral code {advocate_code!r}", "unknown_code")
    email = normalise_email(friend_email)
    existing = WelcomeCoupon.get_or_none((WelcomeCoupon.campaign == campaign.id) & (WelcomeCoupon.email_norm == email))
    if existing is not None and email != advocate.email_norm:
        return existing
    already = email is not None and OrderFact.select().where(
        (OrderFact.shop == campaign.shop) & (OrderFact.email_norm == email) & OrderFact.paid_at.is_null(False)).exists()
    refusal = welcome_refusal(campaign, advocate.email, friend_email, already)
    if refusal is not None:
        raise WelcomeRefused(*refusal)
    reward = campaign.friend_reward
    WelcomeCoupon.insert(
        campaign=campaign.id, advocate_code=advocate_code, email_norm=email, email=friend_email.strip(),
        coupon_code=new_code(10), percent=reward.percent, amount=reward.amount.amount if reward.amount else None,
        currency=campaign.currency, minimum_order=reward.minimum_order.amount if reward.minimum_order else None,
        expires_at=now + reward.valid_for if reward.valid_for else None, created_at=now).on_conflict_ignore().execute()
    return WelcomeCoupon.get((WelcomeCoupon.campaign == campaign.id) & (WelcomeCoupon.email_norm == email))


def store_referral_claim(shop: str, order_id: str, code: str, source: str, at: datetime) -> None:
    """Record that an order came through an advocate's code (once)."""
    ReferralClaim.insert(shop=shop, order_id=order_id, code=code, source=source, at=at).on_conflict_ignore().execute()


def settle_referrals(config: Config, now: datetime) -> str:
    """Decide every pending friend's order, in order of due time, and reward referrers once."""
    granted = refused = 0
    for campaign in referral_campaigns(config):
        for order_id in _pending(campaign):
            with db.atomic():
                state = _settle_one(campaign, order_id, now)
            granted += state == "granted"
            refused += state == "refused"
    return f"referrals: granted {granted}, refused {refused}"


def _pending(campaign) -> list[str]:
    """Friends' orders with a claim and no final decision yet, by payment time."""
    final = {r.order_id for r in ReferralDecisionRow.select(ReferralDecisionRow.order_id).where(
        (ReferralDecisionRow.campaign == campaign.id) & ReferralDecisionRow.state.in_(FINAL))}
    claimed = (OrderFact.select(OrderFact.order_id, OrderFact.paid_at).join(
        ReferralClaim, on=((ReferralClaim.shop == OrderFact.shop) & (ReferralClaim.order_id == OrderFact.order_id)))
        .where(OrderFact.shop == campaign.shop).distinct())
    rows = sorted({(r.paid_at or _NEVER, r.order_id) for r in claimed})
    return [order_id for _, order_id in rows if order_id not in final]


def _settle_one(campaign, order_id: str, now: datetime) -> str:
    friend = row_to_order(OrderFact.get((OrderFact.shop == campaign.shop) & (OrderFact.order_id == order_id)))
    claims = sorted(ReferralClaim.select().where((ReferralClaim.shop == campaign.shop) & (ReferralClaim.order_id == order_id)),
                    key=lambda c: (SOURCES.index(c.source), c.at, c.code))
    advocate = next((a for c in claims if (a := Advocate.get_or_none((Advocate.campaign == campaign.id)
                                                                     & (Advocate.code == c.code)))), None)
    if advocate is None:
        return "unknown"
    own = tuple(row_to_order(r) for r in OrderFact.select().where(
        (OrderFact.shop == campaign.shop) & (OrderFact.email_norm == advocate.email_norm)).limit(20))
    ordered_before = friend.paid_at is not None and OrderFact.select().where(
        (OrderFact.shop == campaign.shop) & (OrderFact.email_norm == normalise_email(friend.email))
        & (OrderFact.order_id != friend.id) & OrderFact.paid_at.is_null(False) & (OrderFact.paid_at < friend.paid_at)).exists()
    earlier = sorted(r.due_at for r in ReferralDecisionRow.select(ReferralDecisionRow.due_at).where(
        (ReferralDecisionRow.campaign == campaign.id) & (ReferralDecisionRow.code == advocate.code)
        & (ReferralDecisionRow.state == "granted") & (ReferralDecisionRow.order_id != order_id)))
    row = OverrideFact.get_or_none((OverrideFact.campaign == campaign.id) & (OverrideFact.order_id == order_id))
    override = Override(row.shop, row.order_id, row.action, row.note) if row else None
    budget_left = campaign.budget.amount - granted_in(campaign.id) if campaign.budget else None
    decision = decide_referral(campaign, friend, AdvocateView(advocate.code, advocate.email, own),
                               bool(normalise_email(friend.email)) and ordered_before, earlier, now, override,
                               budget_left)
    ReferralDecisionRow.insert(campaign=campaign.id, order_id=order_id, code=advocate.code, state=decision.state,
                               due_at=decision.due_at, checks=checks_json(decision.checks), decided_at=now).on_conflict(
        conflict_target=[ReferralDecisionRow.campaign, ReferralDecisionRow.order_id],
        preserve=[ReferralDecisionRow.code, ReferralDecisionRow.state, ReferralDecisionRow.due_at,
                  ReferralDecisionRow.checks, ReferralDecisionRow.decided_at]).execute()
    if decision.state == "granted":
        beneficiary = Beneficiary(advocate.order_id or "", advocate.email)
        review = None if override is not None else _review_flags(campaign, friend, claims[0])
        grant_many(campaign, "referral_referrer", [(referral_reward_key(campaign.id, order_id), beneficiary, decision.amount,
                                                    f"friend's order {order_id} cleared the hold", review)], now)
    return decision.state


def _review_flags(campaign, friend, claim: ReferralClaim) -> str | None:
    """Why a referrer's reward should wait for an admin: a disposable e-mail, or a burst through one code."""
    burst = ReferralClaim.select().where((ReferralClaim.shop == campaign.shop) & (ReferralClaim.code == claim.code)
                                         & (ReferralClaim.at >= claim.at - BURST_WINDOW)
                                         & (ReferralClaim.at <= claim.at + BURST_WINDOW)).count()
    site = leaked_codes(campaign, [claim.code]).get(claim.code)
    flags = [text for text in (review_flags(friend, burst), leak_check(site).text if site else None) if text]
    return "; ".join(flags) or None
