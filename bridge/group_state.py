"""A group as people see it now: size, tier, next tier, time left and each member's projected amount."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bridge.decisions import Facts
from bridge.rewards.amounts import next_tier, tier_for
from bridge.rewards.groups import settle_group
from bridge.rewards.model import Settlement
from bridge.storage.models import GroupRow, MembershipRow


@dataclass(frozen=True)
class GroupState:
    campaign: object
    group: GroupRow
    settlement: Settlement

    @property
    def cashback(self) -> str | None:
        """The current tier's cashback in words ("10%", "5,00 €"), or None below the first tier."""
        tier = tier_for(self.campaign.tiers, self.settlement.size)
        return tier.cashback.describe(self.campaign.currency) if tier else None

    @property
    def next_cashback(self) -> str | None:
        tier = next_tier(self.campaign.tiers, self.settlement.size)
        return tier.cashback.describe(self.campaign.currency) if tier else None

    @property
    def buyers_to_next(self) -> int | None:
        tier = next_tier(self.campaign.tiers, self.settlement.size)
        return tier.buyers - self.settlement.size if tier else None

    def amount_of(self, order_id: str):
        return next((m.amount for m in self.settlement.members if m.order_id == order_id), None)


def state_of_group(campaign, founder_id: str, now: datetime) -> GroupState | None:
    """The group founded by `founder_id` in `campaign`, as of `now` (None if void or unknown)."""
    group = GroupRow.get_or_none((GroupRow.campaign == campaign.id) & (GroupRow.founder_id == founder_id))
    if group is None:
        return None
    view = Facts(campaign).view(founder_id)
    if view is None:
        return None
    return GroupState(campaign, group, settle_group(campaign, view.founder, view.members, now))


def founder_of(campaign, order_id: str) -> str | None:
    """The founder of the group an order belongs to (itself for a founder), or None."""
    row = MembershipRow.get_or_none((MembershipRow.campaign == campaign.id) & (MembershipRow.order_id == order_id))
    if row is None or row.role not in ("founder", "member"):
        return None
    return row.order_id if row.role == "founder" else row.founder_id
