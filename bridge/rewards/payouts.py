"""Rewards' keys and payouts' states: one format and one state table, used by the ledger, pages and CLI.

    pending --approve--> approved --> sending --> paid
                                          \\--> failed (the shop refused; `bridge payouts retry`)
    sepa:   approved --> awaiting_iban --(claim page)--> ready --(export-sepa)--> in_batch --(sepa-sent)--> paid
    custom: approved --(a payout.requested event asks the shop's system)--> at_shop --(its answer)--> paid | failed
    any state before the money leaves --(cancel, or a refusal after settlement)--> cancelled
"""

from __future__ import annotations

from decimal import Decimal

from bridge.config.model import Campaign

# The states, by name: code says PAID rather than "paid", so that a typo is an error and not a new state.
PENDING, APPROVED, SENDING, AWAITING_IBAN = "pending", "approved", "sending", "awaiting_iban"
READY, IN_BATCH, PAID, FAILED, CANCELLED = "ready", "in_batch", "paid", "failed", "cancelled"
AT_SHOP = "at_shop"  # a hand-coded shop's system was asked to pay it; bridge waits for its answer
STATES = (PENDING, APPROVED, SENDING, AT_SHOP, AWAITING_IBAN, READY, IN_BATCH, PAID, FAILED, CANCELLED)
OPEN = (PENDING, APPROVED, SENDING, AT_SHOP, AWAITING_IBAN, READY, IN_BATCH, FAILED)  # money not left yet
CANCELLABLE = (PENDING, APPROVED, FAILED, AWAITING_IBAN, READY)  # nothing on its way either
CLAIMABLE = (PENDING, APPROVED, AWAITING_IBAN, READY)  # the claim page still takes an account
DELIVERABLE = (APPROVED, SENDING)  # what the delivery job picks up (SENDING: a run that died half-way)


def group_reward_key(campaign_id: str, founder_id: str, order_id: str) -> str:
    """The idempotency key of a social-buying member's reward."""
    return f"{campaign_id}:group:{founder_id}:{order_id}"


def group_reward_prefix(campaign_id: str, founder_id: str) -> str:
    """What every reward key of one group starts with."""
    return f"{campaign_id}:group:{founder_id}:"


def referral_reward_key(campaign_id: str, friend_order_id: str) -> str:
    """The idempotency key of a referrer's reward for one friend's order."""
    return f"{campaign_id}:referral:{friend_order_id}"


def founder_of(key: str) -> str:
    """The founding order of a group reward's key."""
    return key.split(":")[2]


def friend_of(key: str) -> str:
    """The friend's order of a referral reward's key."""
    return key.rsplit(":", 1)[1]


def first_state(left: Decimal, review: str | None, approval: str) -> str:
    """A new payout's state: nothing left to send is paid; a flag or manual approval waits for an admin."""
    if left == 0:
        return PAID
    return PENDING if review or approval == "manual" else APPROVED


def payout_method(campaign: Campaign) -> str:
    """How a reward is delivered: a referral campaign whose referrer reward is a coupon always pays by coupon."""
    if campaign.type == "referral" and campaign.referrer_reward.kind == "coupon":
        return "coupon"
    return campaign.payout


def clawback_state(campaign: Campaign) -> str:
    """A new clawback is open (taken from the person's next rewards) or written off, as the campaign says."""
    return "open" if getattr(campaign, "clawback", "deduct") == "deduct" else "written_off"


def clawback_due(owed: Decimal, already: Decimal) -> Decimal:
    """What a new clawback asks for: what is owed beyond the earlier clawbacks of the same reward (0: none)."""
    return max(owed - already, Decimal(0))


def recovery(amount: Decimal, owed: list[Decimal]) -> list[Decimal]:
    """How much of a new reward goes to each open clawback, oldest first, until the reward is used up."""
    parts, left = [], amount
    for due in owed:
        part = min(due, left)
        if part <= 0:
            break
        parts.append(part)
        left -= part
    return parts
