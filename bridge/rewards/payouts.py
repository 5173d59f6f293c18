"""Rewards' keys and payouts' states: one format and one state table, used by the ledger, pages and CLI.

    pending --approve--> approved --> sending --> paid
                                          \\--> failed (the shop refused; `bridge payouts retry`)
    sepa:   approved --> awaiting_iban --(claim page)--> ready --(export-sepa)--> in_batch --(sepa-sent)--> paid
    any state before the money leaves --(cancel, or a refusal after settlement)--> cancelled
"""

from __future__ import annotations

from decimal import Decimal

STATES = ("pending", "approved", "sending", "awaiting_iban", "ready", "in_batch", "paid", "failed", "cancelled")
OPEN = ("pending", "approved", "sending", "awaiting_iban", "ready", "in_batch", "failed")  # money not left yet
CANCELLABLE = ("pending", "approved", "failed", "awaiting_iban", "ready")  # nothing on its way either
CLAIMABLE = ("pending", "approved", "awaiting_iban", "ready")  # the claim page still takes an account


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
        return "paid"
    return "pending" if review or approval == "manual" else "approved"
