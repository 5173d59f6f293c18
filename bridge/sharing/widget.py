"""The JSON the widget reads: a link's public state, and what the buyer of an order sees after paying."""

from __future__ import annotations

from datetime import datetime

from bridge.basics.money import display_amount
from bridge.config.model import Config, Shop
from bridge.sharing.group_now import GroupNow, figures_of, founder_of, group_figures, group_now
from bridge.sharing.links import share_url
from bridge.sharing.products import founder_product, product_info
from bridge.sharing.targets import Target
from bridge.sharing.widget_texts import texts_for
from bridge.storage.models import GroupRow, MemberTag, Reward


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
        reward = campaign.friend_reward
        body["campaign"]["welcome"] = (f"{(reward.percent * 100).normalize():f}%" if reward.percent is not None
                                       else display_amount(reward.amount.amount, reward.amount.currency, lang))
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


def thank_you(config: Config, shop_id: str, order_id: str, now: datetime) -> dict:
    """What the buyer of an order sees after paying: their own share link and the group's state."""
    shop = config.shop(shop_id)
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
