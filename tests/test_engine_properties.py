"""Property tests of the social-buying engine (hypothesis): order, duplication, rates, caps, budgets."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.config.model import Cashback, Tier
from bridge.rewards.amounts import round_half_up
from bridge.rewards.facts import keep_latest
from bridge.rewards.groups import assign_orders, figures_as_joined, group_members, group_outcome
from tests.engine_data import T0, campaign, claim, money, order

NOW = T0 + timedelta(days=60)
amount_st = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)


@st.composite
def scenario(draw):
    """Orders over a few days, some claims to earlier orders, and later versions of some orders."""
    n = draw(st.integers(1, 12))
    orders, claims, versions = [], [], []
    for i in range(1, n + 1):
        minutes = draw(st.integers(0, 5 * 24 * 60))
        o = order(i, minutes=minutes, total=str(draw(amount_st)), ip=f"10.1.{i}.1",
                  modified_at=T0 + timedelta(minutes=minutes))
        orders.append(o)
        if i > 1 and draw(st.booleans()):
            claims.append(claim(i, draw(st.integers(1, i - 1)), source=draw(st.sampled_from(["coupon", "widget", "meta"]))))
        change = draw(st.sampled_from(["none", "cancel", "refund", "partial"]))
        later = o.modified_at + timedelta(hours=draw(st.integers(1, 100)))
        if change == "cancel":
            versions.append(replace(o, paid=False, cancelled=True, modified_at=later))
        elif change == "refund":
            versions.append(replace(o, refunded=o.total, modified_at=later))
        elif change == "partial":
            versions.append(replace(o, refunded=(o.total / 3).quantize(Decimal("0.01")), modified_at=later))
    return orders, versions, claims


def outcome(camp, snapshots, claims, budget_left=None):
    """Groups and amounts as comparable plain data."""
    latest = {k[1]: v for k, v in keep_latest(snapshots).items()}
    memberships = assign_orders(camp, list(latest.values()), claims)
    groups = group_members(memberships, latest)
    settled = {fid: group_outcome(camp, members[0], members, NOW, budget_left) for fid, members in groups.items()}
    return ({oid: (m.role, m.founder_id, m.sponsor_id) for oid, m in memberships.items()},
            {fid: tuple((m.order_id, m.amount) for m in s.members) for fid, s in settled.items()}, settled)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), st.randoms(use_true_random=False), st.integers(0, 3))
def test_any_permutation_and_duplication_gives_the_same_groups_and_amounts(data, rnd, copies):
    orders, versions, claims = data
    expected = outcome(campaign(), orders + versions, claims)[:2]
    events = orders + versions + rnd.sample(orders + versions, min(copies, len(orders)))
    shuffled_claims = claims + claims[:copies]
    rnd.shuffle(events)
    rnd.shuffle(shuffled_claims)
    assert outcome(campaign(), events, shuffled_claims)[:2] == expected


@settings(max_examples=150)
@given(scenario(), st.one_of(st.none(), amount_st), st.one_of(st.none(), amount_st))
def test_same_rate_for_everyone_and_caps_and_budget_hold(data, cap, budget):
    orders, versions, claims = data
    camp = campaign(member_cap=money(cap) if cap is not None else None)
    _, _, settled = outcome(camp, orders + versions, claims, budget_left=budget)
    for group in settled.values():
        assert budget is None or group.total <= budget
        for member in group.members:
            assert member.amount >= 0
            assert cap is None or member.amount <= cap
            if not member.counted:
                assert member.amount == 0
        if group.rate is not None and budget is None:
            for member in group.members:
                if member.counted:
                    expected = round_half_up(member.eligible * group.rate, "EUR")
                    assert member.amount == (min(expected, cap) if cap is not None else expected)


@settings(max_examples=150)
@given(st.lists(amount_st, min_size=1, max_size=8), amount_st)
def test_a_joining_member_never_lowers_the_rate(totals, newcomer_total):
    camp = campaign()
    members = [order(i + 1, minutes=i, total=str(t)) for i, t in enumerate(totals)]
    before = group_outcome(camp, members[0], members, NOW)
    newcomer = order(len(members) + 1, minutes=len(members), total=str(newcomer_total))
    after = group_outcome(camp, members[0], members + [newcomer], NOW)
    assert (after.rate or 0) >= (before.rate or 0)
    assert after.size == before.size + 1


FIXED_TIERS = (Tier(2, Cashback("fixed", Decimal("3.00"))), Tier(4, Cashback("fixed", Decimal("7.50"))))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), st.one_of(st.none(), amount_st), st.booleans())
def test_the_figures_as_each_member_joined_are_those_of_the_group_up_to_that_member(data, cap, fixed):
    """What a "friend joined" e-mail states (one pass over the group) equals group_outcome of the group up to the joiner."""
    orders, versions, claims = data
    camp = campaign(member_cap=money(cap) if cap is not None else None, **({"tiers": FIXED_TIERS} if fixed else {}))
    latest = {k[1]: v for k, v in keep_latest(orders + versions).items()}
    groups = group_members(assign_orders(camp, list(latest.values()), claims), latest)
    for members in groups.values():
        figures = figures_as_joined(camp, members, {m.id for m in members})
        assert set(figures) == {m.id for m in members}
        for k, member in enumerate(members):
            then = group_outcome(camp, members[0], members[:k + 1], NOW)
            assert figures[member.id] == (then.size, {m.order_id: m.amount for m in then.members if m.counted})
