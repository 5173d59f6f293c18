"""The JSON the widget reads: a link's public state, and what the buyer of an order sees after paying."""

from __future__ import annotations

from datetime import datetime

from bridge.basics.money import display_amount
from bridge.config.model import Config, ReferralCampaign, RewardSpec, Shop
from bridge.ledger.decisions import founder_of
from bridge.rewards.conditions import in_dates
from bridge.sharing.group_now import GroupNow, figures_of, group_figures, group_now
from bridge.sharing.links import share_url
from bridge.sharing.products import founder_product, product_info
from bridge.sharing.targets import Target
from bridge.sharing.widget_texts import texts_for
from bridge.storage.models import Advocate, GroupRow, MemberTag, OrderFact, Reward


def shop_public(shop: Shop, use: str = "landing") -> dict:
    """What anyone may know of a shop: name, site, language, tone, colour, and the widget's words for `use`."""
    return {"id": shop.id, "name": shop.name, "url": shop.url, "locale": shop.locale, "tone": shop.tone,
            "colour": shop.brand.colour, "texts": texts_for(shop.locale, shop.tone, use)}


def link_state(config: Config, target: Target, now: datetime, locale: str | None = None, state: GroupNow | None = None) -> dict:
    """The public state of a link: the shop, the tiers, members, current and next cashback, time left.

    `state` is the group now when the caller has read it whole already (the thank-you page does, for the
    buyer's amount); else only the figures a link shows are read.
    """
    shop = config.shop(target.campaign.shop)
    campaign = target.campaign
    lang = locale or shop.locale
    body = {"code": target.code, "kind": target.kind, "shop": shop_public(shop), "campaign": {"id": campaign.id}}
    if target.kind == "advocate":
        body["campaign"]["welcome"] = reward_words(campaign.friend_reward, lang)
        if campaign.show_referrer_name and target.advocate is not None and target.advocate.first_name:
            body["referrer"] = target.advocate.first_name  # only where the campaign says so: personal data
        body["attribution_days"] = campaign.attribution_window.days
        return body
    figures = figures_of(state) if state is not None else group_figures(campaign, target.group, now)
    tiers = [{"buyers": t.buyers, "cashback": t.cashback.describe(campaign.currency)} for t in campaign.tiers]
    body["campaign"].update(tiers=tiers, max_cashback=tiers[-1]["cashback"])
    body["attribution_days"] = campaign.attribution_window.days
    product = product_info(config, shop.id, founder_product(target), now)
    body["product"] = {"name": product.name, "image": product.image_url, "url": product.url} if product else None
    body["share_url"] = share_url(config.server.public_url, target.code)
    if figures is None:
        body.update(state="closed", members=0, cashback=None, next=None, closes_at=None, seconds_left=0)
        return body
    settled, words = figures.settled, figures.words  # paid out: closed whatever the clock says
    open_now = figures.state == "open" and not settled
    body.update(state="closed" if settled and figures.state == "open" else figures.state,
                members=figures.size, cashback=words.cashback,
                next=({"buyers": figures.next_tier_buyers, "cashback": words.next_cashback,
                       "missing": words.buyers_to_next} if words.buyers_to_next and open_now else None),
                closes_at=figures.closes_at.isoformat(),
                seconds_left=0 if settled else max(0, int((figures.closes_at - now).total_seconds())))
    return body


def reward_words(reward: RewardSpec, locale: str) -> str:
    """A reward as people write it: `10%`, or `5,00 €` in the shop's language."""
    return (f"{(reward.percent * 100).normalize():f}%" if reward.percent is not None
            else display_amount(reward.amount.amount, reward.amount.currency, locale))


def referral_offer(campaign: ReferralCampaign, locale: str) -> dict:
    """What a referral campaign offers: the friend's welcome reward and the referrer's reward per friend."""
    return {"welcome": reward_words(campaign.friend_reward, locale), "reward": reward_words(campaign.referrer_reward, locale)}


def running_referral(config: Config, shop_id: str, now: datetime) -> ReferralCampaign | None:
    """The shop's referral campaign running today (the first, if several), or None."""
    return next((c for c in config.campaigns_of(shop_id) if c.type == "referral" and in_dates(c, now).passed), None)


def own_referral(config: Config, shop: Shop, order_id: str, now: datetime) -> dict | None:
    """The buyer's own referral link after a paid order (their advocate code), with the offer; else None."""
    campaign = running_referral(config, shop.id, now)
    if campaign is None:
        return None
    email = OrderFact.select(OrderFact.email_norm).where((OrderFact.shop == shop.id) & (OrderFact.order_id == order_id)
                                                         & OrderFact.paid).scalar()
    advocate = Advocate.get_or_none((Advocate.campaign == campaign.id) & (Advocate.email_norm == email)) if email else None
    if advocate is None:
        return None
    return {"url": share_url(config.server.public_url, advocate.code), "code": advocate.code,
            **referral_offer(campaign, shop.locale)}


def thank_you(config: Config, shop_id: str, order_id: str, now: datetime) -> dict:
    """What the buyer of an order sees after paying: their group's share link and state, their referral link."""
    shop = config.shop(shop_id)
    view = _group_view(config, shop, order_id, now)
    referral = own_referral(config, shop, order_id, now)
    if referral is not None:  # both offers when the shop runs both kinds of campaign
        view.update(referral=referral, shop=shop_public(shop, "group+referral" if "share_url" in view else "referral"))
        view["state"] = view.get("state") if "share_url" in view else "referral"
    return view


def _group_view(config: Config, shop: Shop, order_id: str, now: datetime) -> dict:
    """The buyer's group: its share link (with their tag), its state, and what they get."""
    shop_id = shop.id
    for campaign in config.campaigns_of(shop_id):
        if campaign.type != "social_buying":
            continue
        founder = founder_of(campaign, order_id)
        if founder is None:
            continue
        group = GroupRow.get_or_none((GroupRow.campaign == campaign.id) & (GroupRow.founder_id == founder))
        if group is None:
            continue
        state = group_now(campaign, founder, now, group)
        body = link_state(config, Target("group", campaign, group.code, group=group), now, state=state)
        body["shop"] = shop_public(shop, "group")
        tag = MemberTag.get_or_none((MemberTag.campaign == campaign.id) & (MemberTag.order_id == order_id))
        body["share_url"] = share_url(config.server.public_url, group.code, tag.tag if tag else None)
        amount = state.amount_of(order_id) if state else None
        if group.settled_at is not None:  # once granted, what was granted (a later refund is a clawback)
            granted = Reward.get_or_none((Reward.campaign == campaign.id) & (Reward.order_id == order_id)
                                         & (Reward.kind == "group_cashback"))
            amount = granted.amount if granted is not None and granted.state == "granted" else None
        body["you"] = {"role": "founder" if founder == order_id else "member",
                       "amount": display_amount(amount, campaign.currency, shop.locale) if amount else None}
        return body
    return {"state": "none", "shop": shop_public(shop)}
