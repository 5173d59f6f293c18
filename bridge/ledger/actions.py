"""What an admin does to decisions and payouts: override an order, approve, retry and cancel payouts.

The CLI and the web pages both call these, inside no transaction of their own: each function opens
its own. A request that cannot be carried out raises `Refused`, naming the argument at fault, with
nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bridge.config.model import Campaign, Config
from bridge.ledger.decisions import refresh
from bridge.ledger.grants import CannotRevoke, revoke_reward
from bridge.rewards.model import PAST
from bridge.rewards.payouts import APPROVED, FAILED, PAID, PENDING, referral_reward_key
from bridge.storage.db import db
from bridge.storage.models import OrderFact, OverrideFact, Payout, ReferralDecisionRow, Reward


class Refused(ValueError):
    """An action that cannot be carried out; `argument` names what was wrong (CAMPAIGN, ORDER_ID, KEYS...)."""

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


@dataclass
class Outcome:
    """What an action did, line by line, and what it could not do (each problem with its key)."""

    done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def campaign_of(config: Config, campaign_id: str) -> Campaign:
    """The configured campaign with this id; Refused when there is none."""
    found = next((c for c in config.campaigns if c.id == campaign_id), None)
    if found is None:
        raise Refused(f"no campaign {campaign_id!r}", "CAMPAIGN")
    return found


def override_order(config: Config, campaign_id: str, order_id: str, action: str, note: str, now: datetime) -> Outcome:
    """Allow or refuse one order of one campaign against the engine's decision, with a note kept.

    A refusal after settlement takes back each reward already granted for the order (or claws it
    back); a referral is decided again at the next tick.
    """
    if action not in ("allow", "refuse"):
        raise Refused("say either allow or refuse", "ACTION")
    note = note.strip()
    if not note:
        raise Refused("say why, in a few words", "NOTE")
    campaign = campaign_of(config, campaign_id)
    with db.atomic():
        if not OrderFact.select().where((OrderFact.shop == campaign.shop) & (OrderFact.order_id == order_id)).exists():
            raise Refused(f"order {order_id} of shop {campaign.shop} is unknown", "ORDER_ID")
        revoked = _revoke_granted(campaign, order_id, note, now) if action == "refuse" else []
        if campaign.type == "referral" and not revoked:
            _reopen_referral(campaign, order_id)
        OverrideFact.delete().where((OverrideFact.campaign == campaign.id) & (OverrideFact.order_id == order_id)).execute()
        OverrideFact.create(campaign=campaign.id, shop=campaign.shop, order_id=order_id, action=action, note=note,
                            created_at=now)
        refresh(config, {(campaign.shop, order_id)}, now)
    again = "; the next tick decides it again" if campaign.type == "referral" and not revoked else ""
    return Outcome([f"order {order_id}: {PAST[action]} ({note}){again}"] + revoked)


def _revoke_granted(campaign, order_id: str, note: str, now: datetime) -> list[str]:
    """Each reward already granted for the order taken back (or clawed back); Refused if one cannot be."""
    keys = (Reward.key == referral_reward_key(campaign.id, order_id)) if campaign.type == "referral" else (
        (Reward.order_id == order_id) & (Reward.kind == "group_cashback"))
    done = []
    for reward in Reward.select().where((Reward.campaign == campaign.id) & (Reward.state == "granted") & keys):
        try:
            done.append(revoke_reward(campaign, reward, f"order refused: {note}", now))
        except CannotRevoke as exc:
            raise Refused(str(exc)) from None
    return done


def _reopen_referral(campaign, order_id: str) -> None:
    """Let the next settlement decide a referral again; a granted reward cannot be taken back this way."""
    decision = ReferralDecisionRow.get_or_none((ReferralDecisionRow.campaign == campaign.id)
                                               & (ReferralDecisionRow.order_id == order_id))
    if decision is not None and decision.state == "granted":
        raise Refused(f"order {order_id} already earned its referrer a reward; an override cannot take it back with "
                      "--allow (refuse it, or cancel its payout with bridge payouts cancel)", "ORDER_ID")
    if decision is not None:
        decision.delete_instance()


def approve_payouts(config: Config, keys: list[str], campaign_id: str | None, now: datetime) -> int:
    """Approve pending payouts, by key or all of one campaign; return how many."""
    if not keys and not campaign_id:
        raise Refused("name payout keys or a campaign")
    if keys and campaign_id:
        raise Refused("name payout keys or a campaign, not both")
    if campaign_id:
        campaign_of(config, campaign_id)
    with db.atomic():
        query = Payout.select().join(Reward).where(Payout.state == PENDING)
        query = query.where(Payout.key.in_(keys)) if keys else query.where(Reward.campaign == campaign_id)
        chosen = [p.id for p in query]
        missing = set(keys) - {p.key for p in Payout.select().where(Payout.id.in_(chosen))}
        if missing:
            raise Refused(f"not pending or unknown: {', '.join(sorted(missing))}", "KEYS")
        Payout.update(state=APPROVED, updated_at=now).where(Payout.id.in_(chosen)).execute()
    return len(chosen)


def cancel_payouts(config: Config, keys: list[str], note: str, now: datetime) -> Outcome:
    """Cancel payouts whose money has not left, each in its own transaction; say what could not be cancelled."""
    note = note.strip()
    if not note:
        raise Refused("say why, in a few words", "NOTE")
    outcome = Outcome()
    for key in keys:
        payout = Payout.get_or_none(Payout.key == key)
        if payout is None:
            outcome.problems.append(f"{key}: no such payout")
            continue
        if payout.state == PAID:
            outcome.problems.append(f"{key}: already paid; refuse the order (bridge override --refuse) to record a "
                                    "clawback")
            continue
        reward = payout.reward
        campaign = next((c for c in config.campaigns if c.id == reward.campaign), None)
        try:
            with db.atomic():
                outcome.done.append(revoke_reward(campaign, reward, note, now))
        except CannotRevoke as exc:
            outcome.problems.append(f"{key}: {exc}")
    return outcome


def retry_payouts(keys: list[str], now: datetime) -> int:
    """Put failed payouts back in the queue (after fixing what the shop refused); return how many."""
    with db.atomic():
        failed = {p.key for p in Payout.select(Payout.key).where(Payout.key.in_(keys) & (Payout.state == FAILED))}
        missing = set(keys) - failed
        if missing:
            raise Refused(f"not failed or unknown: {', '.join(sorted(missing))}", "KEYS")
        Payout.update(state=APPROVED, attempts=0, updated_at=now).where(Payout.key.in_(failed)).execute()
    return len(failed)
