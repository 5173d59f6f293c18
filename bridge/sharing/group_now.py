"""A group as people see it now: its outcome at this instant (size, tier, next tier, amounts) and whether it is paid.

Two queries (the group, then its members with their orders): this runs on every widget view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bridge.config.model import Campaign
from bridge.rewards.amounts import TierWords, next_tier, tier_words
from bridge.rewards.groups import group_outcome, group_phase
from bridge.rewards.model import GroupOutcome, Order, counts_as_purchase
from bridge.storage.compiled import select, select_tuples
from bridge.storage.memos import GROUP_FIGURES, Memo
from bridge.storage.models import GroupRow, MembershipRow, OrderFact
from bridge.storage.rows import lines_of

_figures = Memo(GROUP_FIGURES)  # by group id: (counted size or None for a void group, paid out)


@dataclass(frozen=True)
class GroupNow:
    """A group's row, its outcome now, and whether it is paid out (closed whatever the clock says)."""

    campaign: object
    group: GroupRow
    outcome: GroupOutcome
    settled: bool = False  # paid out (read with the members, so that a memoised group row stays right)

    @property
    def words(self) -> TierWords:
        """The group's size and tiers in words (cashback now, next cashback, buyers to go)."""
        return tier_words(self.campaign.tiers, self.outcome.size, self.campaign.currency)

    @property
    def cashback(self) -> str | None:
        """The current tier's cashback in words ("10%", "5,00 €"), or None below the first tier."""
        return self.words.cashback

    @property
    def next_cashback(self) -> str | None:
        """The next tier's cashback in words, None at the top tier."""
        return self.words.next_cashback

    @property
    def buyers_to_next(self) -> int | None:
        """How many more buyers the next tier takes, None at the top tier."""
        return self.words.buyers_to_next

    def amount_of(self, order_id: str) -> Decimal | None:
        """A member's amount now (None for an order outside the group)."""
        return self.outcome.amount_of(order_id)


def group_now(campaign: Campaign, founder_id: str, now: datetime, group: GroupRow | None = None) -> GroupNow | None:
    """The group founded by `founder_id` in `campaign`, as of `now` (None if void or unknown)."""
    group = group or GroupRow.get_or_none((GroupRow.campaign == campaign.id) & (GroupRow.founder_id == founder_id))
    if group is None:
        return None
    # Only what the outcome needs: converting every column of every member costs more than the query.
    rows = select(OrderFact, "group_members", lambda: (
        OrderFact.select(OrderFact.order_id, OrderFact.currency, OrderFact.paid, OrderFact.paid_at, OrderFact.created_at,
                         OrderFact.total, OrderFact.refunded, OrderFact.own_refunded, OrderFact.cancelled,
                         OrderFact.lines, OrderFact.refunded_lines, OrderFact.refunded_shipping,
                         MembershipRow.role,
                         GroupRow.settled_at)
        .join(MembershipRow, on=((MembershipRow.order_id == OrderFact.order_id)
                                 & (MembershipRow.campaign == ":campaign")))
        .join_from(MembershipRow, GroupRow, on=((GroupRow.campaign == MembershipRow.campaign)
                                                & (GroupRow.founder_id == MembershipRow.founder_id)))
        .where((OrderFact.shop == ":shop") & (MembershipRow.founder_id == ":founder")
               & MembershipRow.role.in_(("founder", "member")))), MembershipRow, GroupRow,
        campaign=campaign.id, shop=campaign.shop, founder=founder_id)
    founder, members, settled = None, [], False
    for row in rows:
        settled = settled or row.settled_at is not None
        order = Order(shop=campaign.shop, id=row.order_id, currency=row.currency, paid=row.paid, paid_at=row.paid_at,
                      created_at=row.created_at, total=row.total, refunded=row.refunded,
                      own_refunded=row.own_refunded, cancelled=row.cancelled, lines=lines_of(row.lines),
                      refunded_lines=lines_of(row.refunded_lines), refunded_shipping=row.refunded_shipping)
        if row.role == "founder" and order.id == founder_id:
            founder = order
        else:
            members.append(order)
    if founder is None or founder.paid_at is None:
        return None  # the founding order later joined another group: a void group
    members.sort(key=lambda o: (o.paid_at, o.id))
    return GroupNow(campaign, group, group_outcome(campaign, founder, [founder] + members, now), settled)


@dataclass(frozen=True)
class GroupFigures:
    """What a link's state shows of its group: how many buyers count, the phase, and the tiers in words."""

    size: int
    state: str  # open | closed | due
    closes_at: datetime
    settled: bool
    words: TierWords
    next_tier_buyers: int | None


def figures_of(state: GroupNow) -> GroupFigures:
    """The figures of a group already read whole (the thank-you page reads it for the buyer's amount too)."""
    outcome = state.outcome
    return GroupFigures(outcome.size, outcome.state, outcome.closes_at, state.settled, state.words,
                        outcome.next_tier_buyers)


def group_figures(campaign: Campaign, group: GroupRow, now: datetime) -> GroupFigures | None:
    """The figures of the group now (every view of a share link asks): its counted size, memoised until the
    ledger bumps GROUP_FIGURES, and its phase and tiers worked out for `now`. None for a void group."""
    found = _figures.get(group.id)
    if found is None:
        found = _figures.put(group.id, _size_and_settled(campaign, group))
    size, settled = found
    if size is None:
        return None
    # The group opened when its founder was first paid (a fact that never moves).
    closes_at, _, phase = group_phase(campaign, group.opened_at, now)
    upcoming = next_tier(campaign.tiers, size)
    return GroupFigures(size, phase, closes_at, settled, tier_words(campaign.tiers, size, campaign.currency),
                        upcoming.buyers if upcoming else None)


def _size_and_settled(campaign: Campaign, group: GroupRow) -> tuple[int | None, bool]:
    """How many of the group's orders count now (None for a void group), and whether it is paid out.

    The same rules as `group_now` (rewards: who counts), from the few columns they need: no order lines,
    dates or models are read.
    """
    rows = select_tuples("group_figures", lambda: (
        OrderFact.select(MembershipRow.role, OrderFact.order_id, OrderFact.paid_at.is_null(False), OrderFact.paid,
                         OrderFact.cancelled, OrderFact.total, OrderFact.refunded, OrderFact.own_refunded,
                         GroupRow.settled_at.is_null(False))
        .join(MembershipRow, on=((MembershipRow.order_id == OrderFact.order_id)
                                 & (MembershipRow.campaign == ":campaign")))
        .join_from(MembershipRow, GroupRow, on=((GroupRow.campaign == MembershipRow.campaign)
                                                & (GroupRow.founder_id == MembershipRow.founder_id)))
        .where((OrderFact.shop == ":shop") & (MembershipRow.founder_id == ":founder")
               & MembershipRow.role.in_(("founder", "member")))),
        campaign=campaign.id, shop=campaign.shop, founder=group.founder_id)
    if not any(role == "founder" and order_id == group.founder_id and was_paid for role, order_id, was_paid, *_ in rows):
        return None, False  # the founding order later joined another group (or was never paid): a void group
    size = sum(1 for _, _, _, paid, cancelled, total, refunded, own, _ in rows
               if counts_as_purchase(paid, cancelled, Decimal(total), Decimal(refunded), Decimal(own)))
    return size, any(row[-1] for row in rows)


