"""Grants: due groups become rewards and payouts (once), refunds after that become clawbacks.

Identity, per currency, that `bridge ledger check` proves:
    rewards granted = payouts paid + payouts pending (pending, approved, failed) + clawbacks recovered
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bridge.basics.money import format_amount
from bridge.config.model import Campaign, Config
from bridge.ledger import events, news
from bridge.ledger.decisions import Facts
from bridge.ledger.leaks import leaked_groups
from bridge.rewards.amounts import amount_at_rate
from bridge.rewards.groups import group_outcome
from bridge.rewards.identity import normalise_email
from bridge.rewards.leaks import RULE as LEAK
from bridge.rewards.leaks import leak_check
from bridge.rewards.payouts import (
    CANCELLABLE,
    CANCELLED,
    OPEN,
    PAID,
    clawback_due,
    clawback_state,
    first_state,
    founder_of,
    friend_of,
    group_reward_key,
    payout_method,
    recovery,
    referral_reward_key,
)
from bridge.rewards.referral import referral_owed
from bridge.storage.bulk import chunks, execute_many, insert_rows
from bridge.storage.compiled import select_in
from bridge.storage.db import db, is_postgresql
from bridge.storage.memos import GROUP_FIGURES, bump
from bridge.storage.models import Clawback, GroupRow, OrderFact, Payout, Reward
from bridge.storage.rows import row_to_order

ZERO = Decimal(0)
OPEN_PAYOUT_STATES = OPEN  # every state of a payout whose money has not left yet


def granted_in(campaign_id: str) -> Decimal:
    """Sum what a campaign has granted so far (its budget is spent by grants)."""
    rows = Reward.select(Reward.amount).where((Reward.campaign == campaign_id) & (Reward.state == "granted"))
    return sum((r.amount for r in rows), ZERO)


def settle_due_groups(config: Config, now: datetime) -> str:
    """Grant the rewards of every group whose hold has ended, oldest first; return a summary."""
    settled = granted = 0
    for campaign in (c for c in config.campaigns if c.type == "social_buying"):
        due = [r.id for r in GroupRow.select(GroupRow.id).where(
            (GroupRow.campaign == campaign.id) & GroupRow.settled_at.is_null() & (GroupRow.due_at <= now))
            .order_by(GroupRow.due_at, GroupRow.founder_id)]
        facts = Facts(campaign)
        for part in chunks(due, 200):
            with db.atomic():
                groups, rewards = settle_groups(campaign, facts, part, now)
            settled, granted = settled + groups, granted + rewards
    return f"settled {settled} groups, granted {granted} rewards"


def settle_groups(campaign: Campaign, facts: Facts, group_ids: list[int], now: datetime) -> tuple[int, int]:
    """Settle some groups inside the caller's transaction (skipping any another process settled)."""
    groups = select_in("groups to settle", [GroupRow.id, GroupRow.founder_id],
                       lambda ids: GroupRow.id.in_(ids) & GroupRow.settled_at.is_null(), group_ids,
                       order_by=(GroupRow.due_at, GroupRow.founder_id), for_update=is_postgresql())
    founders = [founder_id for _, founder_id in groups]
    facts.load(founders)
    facts.load_groups(founders)
    budget_left = campaign.budget.amount - granted_in(campaign.id) if campaign.budget else None
    leaked = leaked_groups(campaign, founders) if founders else {}  # clicks after the last join count too
    grants, updates = [], []
    for group_id, founder_id in groups:
        view = facts.view(founder_id)
        if view is None:  # the founder later turned out to be a member elsewhere: a void group
            updates.append((group_id, 0, None, None))
            continue
        outcome = group_outcome(campaign, view.founder, view.members, now, budget_left)
        for member in outcome.members:
            if member.amount > 0:
                flags = json.loads(facts.decided[member.order_id].flags)
                if founder_id in leaked and member.order_id != founder_id and LEAK not in {rule for rule, _, _ in flags}:
                    leak = leak_check(leaked[founder_id])
                    flags.append([leak.rule, leak.passed, leak.text])
                grants.append((group_reward_key(campaign.id, founder_id, member.order_id), facts.orders[member.order_id],
                               member.amount, member.reason, "; ".join(text for _, _, text in flags) or None))
        if budget_left is not None:
            budget_left -= outcome.total
        updates.append((group_id, outcome.size, outcome.rate, outcome.fixed))
    if campaign.endpoints:  # (before its rewards: a receiver learns of the group's end, then of what it earned)
        events.store(campaign.endpoints, _closed_events(campaign, groups, updates, grants, now))
    created = grant_many(campaign, "group_cashback", grants, now)
    _update_groups(updates, now)
    return len(groups), created


def _closed_events(campaign, groups: list, updates: list[tuple], grants: list[tuple], now: datetime) -> list[dict]:
    """group.closed for each settled group that was not void: its size, rate and what its members earned."""
    total: dict[str, Decimal] = defaultdict(Decimal)
    for key, _, amount, _, _ in grants:
        total[founder_of(key)] += amount
    return [events.event(f"{campaign.id}:{founder_id}", "group.closed", campaign.shop, now,
                         events.group_of(campaign.id, founder_id), campaign=campaign.id, founder_order_id=founder_id,
                         size=size, rate=rate, fixed=fixed and events.amount(fixed, campaign.currency),
                         granted=events.amount(total[founder_id], campaign.currency), currency=campaign.currency)
            for (_, founder_id), (_, size, rate, fixed) in zip(groups, updates) if size]


def _update_groups(updates: list[tuple], now: datetime) -> None:
    """Mark groups settled with their size and rate, with one statement run for them all."""
    if not updates:
        return
    sql, _ = GroupRow.update(settled_at=now, size=0, rate=ZERO, fixed=ZERO).where(GroupRow.id == 0).sql()
    at = GroupRow.settled_at.db_value(now)
    params = [(at, size, GroupRow.rate.db_value(rate), GroupRow.fixed.db_value(fixed), gid)
              for gid, size, rate, fixed in updates]
    execute_many(sql, params)
    bump(GROUP_FIGURES)  # settled groups show as closed on their links


def grant_many(campaign: Campaign, kind: str, grants: list[tuple], now: datetime) -> int:
    """Create rewards and their payouts once (by key); recover open clawbacks of the same person first.

    `grants` holds (key, order, amount, reason, review) tuples; returns how many rewards were new.
    """
    existing = {key for key, in select_in("rewards by key", [Reward.key], Reward.key.in_, [g[0] for g in grants])}
    fresh = [g for g in grants if g[0] not in existing]
    if not fresh:
        return 0
    rewards = [dict(key=key, campaign=campaign.id, shop=campaign.shop, order_id=order.id,
                    email_norm=normalise_email(order.email), kind=kind, currency=campaign.currency,
                    amount=amount, state="granted", reason=reason, created_at=now)
               for key, order, amount, reason, _ in fresh]
    insert_rows(Reward, rewards)
    ids = dict(select_in("reward ids by key", [Reward.key, Reward.id], Reward.key.in_, [g[0] for g in fresh]))
    owing = _emails_owing(campaign)
    payouts = []
    for key, order, amount, reason, review in fresh:
        email = normalise_email(order.email)
        deducted = _recover_clawbacks(campaign, email, amount, now) if email in owing else ZERO
        left = amount - deducted
        state = first_state(left, review, campaign.approval)
        payouts.append(dict(key=f"payout:{key}", reward=ids[key], method=payout_method(campaign), currency=campaign.currency,
                            amount=left, deducted=deducted, state=state, review=review, created_at=now, updated_at=now,
                            # everything went to settle earlier clawbacks: nothing to send
                            external_ref="settled by clawback deduction" if left == 0 else None))
    insert_rows(Payout, payouts)
    news.store(news.reward_news(campaign, kind, fresh, now))
    if campaign.endpoints:
        events.store(campaign.endpoints, [
            row for reward, payout, (_, order, *_) in zip(rewards, payouts, fresh)
            for row in (events.reward_event(reward, order.email, now),
                        events.payout_event("payout.requested", payout, reward, now, state=payout["state"], execute=False,
                                            deducted=events.amount(payout["deducted"], campaign.currency), review=payout["review"]))])
    return len(fresh)


def _emails_owing(campaign) -> set[str]:
    """The people of this shop who still owe a clawback in this currency."""
    return {c.email_norm for c in Clawback.select(Clawback.email_norm).where(
        (Clawback.shop == campaign.shop) & (Clawback.currency == campaign.currency) & (Clawback.state == "open"))}


def _recover_clawbacks(campaign, email: str | None, amount: Decimal, now: datetime) -> Decimal:
    """Take what this person owes from a new reward, oldest clawback first; return the amount taken."""
    if not email:
        return ZERO
    open_ = list(Clawback.select().where((Clawback.shop == campaign.shop) & (Clawback.email_norm == email)
                                         & (Clawback.currency == campaign.currency) & (Clawback.state == "open"))
                 .order_by(Clawback.created_at, Clawback.id))
    taken = ZERO
    for clawback, part in zip(open_, recovery(amount, [c.amount - c.recovered for c in open_])):
        recovered = clawback.recovered + part
        state = "recovered" if recovered == clawback.amount else "open"
        Clawback.update(recovered=recovered, state=state).where(Clawback.id == clawback.id).execute()
        taken += part
        if state == "recovered" and part:
            events.store(campaign.endpoints, [events.clawback_event("clawback.recovered", clawback, clawback.reward, now,
                                                                    recovered=events.amount(recovered, campaign.currency))])
    return taken


def record_clawbacks(config: Config, changed: set[tuple[str, str]], now: datetime) -> int:
    """For orders refunded or cancelled after their reward was granted, record what must come back."""
    return _group_clawbacks(config, changed, now) + _referral_clawbacks(config, changed, now)


def _referral_clawbacks(config, changed: set[tuple[str, str]], now: datetime) -> int:
    """A friend's qualifying order refunded after the referrer's reward: the referrer owes it back."""
    created = 0
    for campaign in (c for c in config.campaigns if c.type == "referral"):
        ids = [o for s, o in changed if s == campaign.shop]
        for part in chunks(ids):
            keys = [referral_reward_key(campaign.id, order_id) for order_id in part]
            for reward in Reward.select().where(Reward.key.in_(keys) & (Reward.state == "granted")):
                friend_id = friend_of(reward.key)
                row = OrderFact.get_or_none((OrderFact.shop == campaign.shop) & (OrderFact.order_id == friend_id))
                if row is None:
                    continue
                owed = referral_owed(campaign, row_to_order(row), reward.amount)
                created += _open_clawback(campaign, reward, owed, now)
    return created


def _open_clawback(campaign, reward: Reward, owed: Decimal, now: datetime, why: str = "") -> int:
    """Record what a reward owes beyond its earlier clawbacks (recovered later, or written off); 1 if new."""
    due = clawback_due(owed, sum((c.amount for c in reward.clawbacks), ZERO))
    if due == 0:
        return 0
    clawback = Clawback.create(key=f"clawback:{reward.key}:{owed}{why}", reward=reward, shop=reward.shop,
                               email_norm=reward.email_norm, currency=reward.currency, amount=due, recovered=ZERO,
                               state=clawback_state(campaign), created_at=now)
    events.store(campaign.endpoints, [events.clawback_event("clawback.opened", clawback, reward, now,
                                                            state=clawback.state)])
    return 1


def _group_clawbacks(config, changed: set[tuple[str, str]], now: datetime) -> int:
    """Members refunded after their group was settled."""
    created = 0
    rewards = []
    for shop in {s for s, _ in changed}:
        ids = sorted(o for s, o in changed if s == shop)
        for part in chunks(ids):
            rewards += list(Reward.select().where((Reward.shop == shop) & Reward.order_id.in_(part)
                                                  & (Reward.kind == "group_cashback") & (Reward.state == "granted")))
    for reward in rewards:
        campaign = next(c for c in config.campaigns if c.id == reward.campaign)
        founder_id = founder_of(reward.key)
        group = GroupRow.get((GroupRow.campaign == campaign.id) & (GroupRow.founder_id == founder_id))
        facts = Facts(campaign)
        facts.load([reward.order_id, founder_id])
        owed = reward.amount - amount_at_rate(campaign, facts.orders[reward.order_id], facts.orders[founder_id],
                                             group.rate, reward.amount)
        created += _open_clawback(campaign, reward, owed, now)
    return created


class CannotRevoke(Exception):
    """A reward that cannot be taken back now, with the reason in words."""


def revoke_reward(campaign: Campaign, reward: Reward, note: str, now: datetime) -> str:
    """Take a granted reward back: cancel its payout while no money has left, else open a clawback of it.

    The admin's refusal after settlement, and `bridge payouts cancel`, both come here; returns what was done.
    """
    live = [p for p in reward.payouts if p.state != CANCELLED]
    if reward.state != "granted" or not live:
        raise CannotRevoke(f"reward {reward.key} is not granted")
    payout = live[0]
    if payout.state in CANCELLABLE:
        if payout.deducted > 0:
            raise CannotRevoke(f"payout {payout.key} already settled {payout.deducted} {payout.currency} of earlier "
                               "clawbacks; it can no longer be cancelled (record a clawback with a refund instead)")
        Payout.update(state=CANCELLED, last_error=f"cancelled by an admin: {note}", updated_at=now).where(
            Payout.id == payout.id).execute()
        Reward.update(state="cancelled", reason=f"{reward.reason}; cancelled by an admin: {note}").where(
            Reward.id == reward.id).execute()
        events.store(campaign.endpoints, [events.payout_event("payout.cancelled", payout, reward, now, note=note)])
        return f"payout {payout.key} cancelled"
    if payout.state == PAID:
        created = _open_clawback(campaign, reward, reward.amount, now, ":revoked")
        return (f"payout {payout.key} was already paid: a clawback of {format_amount(reward.amount, reward.currency)} is "
                + ("recorded" if created else "already recorded"))
    raise CannotRevoke(f"payout {payout.key} is {payout.state.replace('_', ' ')} (on its way to the shop or in a SEPA "
                       "file): wait until it is paid or failed, then try again")


@dataclass
class Balance:
    currency: str
    granted: Decimal = ZERO
    paid: Decimal = ZERO
    pending: Decimal = ZERO
    recovered: Decimal = ZERO

    @property
    def reconciles(self) -> bool:
        return self.granted == self.paid + self.pending + self.recovered


def ledger_balances() -> tuple[dict[str, Balance], list[str]]:
    """Sum the ledger per currency and list every inconsistency found."""
    balances: dict[str, Balance] = defaultdict(lambda: Balance(""))
    problems = []
    for reward in Reward.select().where(Reward.state == "granted"):
        balance = balances[reward.currency]
        balance.currency = reward.currency
        balance.granted += reward.amount
        live = [p for p in reward.payouts if p.state != CANCELLED]
        if len(live) != 1:
            problems.append(f"reward {reward.key} has {len(live)} live payouts (expected 1)")
        for payout in live:
            if payout.amount + payout.deducted != reward.amount:
                problems.append(f"payout {payout.key}: {payout.amount} + {payout.deducted} deducted != {reward.amount}")
    for payout in Payout.select().where(Payout.state != CANCELLED):
        balance = balances[payout.currency]
        if payout.amount < 0:
            problems.append(f"payout {payout.key} is negative")
        if payout.state == PAID:
            balance.paid += payout.amount
        elif payout.state in OPEN_PAYOUT_STATES:
            balance.pending += payout.amount
    for clawback in Clawback.select():
        balances[clawback.currency].recovered += clawback.recovered
    for currency, balance in balances.items():
        balance.currency = currency
        if not balance.reconciles:
            problems.append(f"{currency}: granted {balance.granted} != paid {balance.paid} + pending {balance.pending}"
                            f" + recovered {balance.recovered}")
    return dict(balances), problems


def budget_problems(config: Config) -> list[str]:
    """List campaigns whose grants exceed their budget."""
    out = []
    for campaign in config.campaigns:
        budget = getattr(campaign, "budget", None)
        if budget is not None and granted_in(campaign.id) > budget.amount:
            out.append(f"campaign {campaign.id} granted {granted_in(campaign.id)} over its budget {budget}")
    return out
