"""Which links leaked: the codes whose clicks came from a campaign's coupon-aggregator sites."""

from __future__ import annotations

from typing import Iterable

from bridge.config.model import Campaign
from bridge.rewards.leaks import aggregator_of
from bridge.storage.compiled import select_in, sentinel
from bridge.storage.models import Click, GroupRow


def leaked_codes(campaign: Campaign, codes: Iterable[str]) -> dict[str, str]:
    """Each of these codes that was clicked from an aggregator site, with that site."""
    seen: dict[str, set[str]] = {}
    for code, domain in select_in("referring domains of codes", [Click.code, Click.referrer_domain],
                                  lambda ids: (Click.campaign == sentinel("campaign")) & Click.code.in_(ids)
                                  & Click.referrer_domain.is_null(False), sorted(set(codes)), campaign=campaign.id):
        seen.setdefault(code, set()).add(domain)
    found = {code: aggregator_of(domains, campaign.aggregator_domains) for code, domains in seen.items()}
    return {code: site for code, site in found.items() if site}


def leaked_groups(campaign: Campaign, founders: Iterable[str]) -> dict[str, str]:
    """Each of these founders' groups whose link was clicked from an aggregator site, with that site."""
    codes = dict(select_in("codes of groups", [GroupRow.code, GroupRow.founder_id],
                           lambda ids: (GroupRow.campaign == sentinel("campaign")) & GroupRow.founder_id.in_(ids),
                           sorted(set(founders)), campaign=campaign.id))
    return {codes[code]: site for code, site in leaked_codes(campaign, codes).items()}
