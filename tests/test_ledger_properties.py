"""Property: whatever happens (refunds after payout, deductions, payout states), the ledger reconciles."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bridge.facts.ingest import ingest
from bridge.ledger.grants import budget_problems, ledger_balances, settle_due_groups
from bridge.storage.db import db
from bridge.storage.models import Clawback, Payout, Reward
from tests.engine_data import T0, campaign, claim, money, order

amount_st = st.decimals(min_value=Decimal("1.00"), max_value=Decimal("300.00"), places=2)


@st.composite
def history(draw):
    """Two waves of purchases by the same few people, refunds in between, and payout outcomes."""
    people = draw(st.integers(2, 4))
    waves = []
    for wave in range(2):
        start = T0 + timedelta(days=40 * wave)
        orders, claims = [], []
        for i in range(draw(st.integers(1, 8))):
            person = draw(st.integers(0, people - 1))
            oid = f"{wave}-{i}"
            o = replace(order(1, total=str(draw(amount_st)), email=f"p{person}@example.com"), id=oid,
                        customer_id=f"c{person}-{wave}-{i}", billing_address=f"{oid} road", ip=f"10.{wave}.{i}.1",
                        paid_at=start + timedelta(minutes=i), created_at=start + timedelta(minutes=i),
                        modified_at=start + timedelta(minutes=i))
            if i and draw(st.integers(0, 3)) > 0:  # most orders come through a link, so groups form
                founder = f"{wave}-{draw(st.integers(0, i - 1))}"
                claims.append(replace(claim(1, 1), order_id=oid, founder_id=founder, at=o.paid_at))
            orders.append(o)
        refunds = [(draw(st.integers(0, len(orders) - 1)), draw(st.sampled_from(["full", "part", "cancel"])))
                   for _ in range(draw(st.integers(0, 3)))]
        waves.append((orders, claims, refunds))
    outcomes = draw(st.lists(st.sampled_from(["paid", "failed", "approved"]), min_size=20, max_size=20))
    return waves, outcomes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history(), st.sampled_from(["deduct", "write_off"]), st.one_of(st.none(), amount_st),
       st.one_of(st.none(), st.sampled_from(["5.00", "20.00"])))
def test_the_ledger_always_reconciles_and_budgets_hold(migrated, data, policy, budget, cap):
    waves, outcomes = data
    camp = campaign(clawback=policy, budget=money(budget) if budget else None, member_cap=money(cap) if cap else None)
    config = SimpleNamespace(campaigns=[camp])
    with db.atomic() as transaction:
        for orders, claims, refunds in waves:
            ingest(config, orders=orders, claims=claims, now=orders[0].paid_at)
            settle_due_groups(config, orders[-1].paid_at + timedelta(days=17))
            for payout, outcome in zip(Payout.select().where(Payout.state == "approved"), outcomes):
                Payout.update(state=outcome).where(Payout.id == payout.id).execute()
            for index, kind in refunds:
                o = orders[index]
                later = o.paid_at + timedelta(days=20, minutes=index)
                if kind == "full":
                    changed = replace(o, refunded=o.total, modified_at=later)
                elif kind == "part":
                    changed = replace(o, refunded=(o.total / 2).quantize(Decimal("0.01")), modified_at=later)
                else:
                    changed = replace(o, paid=False, cancelled=True, modified_at=later)
                ingest(config, orders=[changed], now=later)
        event(f"clawbacks: {'some' if Clawback.select().exists() else 'none'}")
        event(f"deductions: {'some' if Payout.select().where(Payout.deducted > Decimal(0)).exists() else 'none'}")
        event(f"rewards: {'some' if balances_nonzero() else 'none'}")
        balances, problems = ledger_balances()
        assert problems == []
        assert budget_problems(config) == []
        assert all(b.reconciles for b in balances.values())
        transaction.rollback()


def balances_nonzero() -> bool:
    return Reward.select().exists()
