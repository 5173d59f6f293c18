"""Leaks: a share link or referral code posted on a coupon-aggregator site reaches strangers, not friends."""

from __future__ import annotations

from typing import Iterable

from bridge.rewards.model import Check

RULE = "leak_aggregator"


def aggregator_of(domains: Iterable[str | None], aggregators: Iterable[str]) -> str | None:
    """The aggregator site among the referring domains of a link's clicks (a domain covers its subdomains)."""
    sites = tuple(aggregators)
    for domain in sorted({d.strip().lower().rstrip(".") for d in domains if d}):
        site = next((s for s in sites if domain == s or domain.endswith("." + s)), None)
        if site is not None:
            return site
    return None


def leak_check(site: str) -> Check:
    """The review flag of a join or a referral through a link that was posted on `site`."""
    return Check(RULE, False, f"the link was posted on {site}, a coupon site: its buyers are strangers, not friends")
