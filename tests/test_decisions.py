"""Stored decisions: facts arriving one by one, in any order and twice, end where a full recompute does."""

import time
from datetime import timedelta
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.basics.codes import ALPHABET
from bridge.facts.ingest import ingest
from bridge.ledger.decisions import load_membership
from bridge.rewards.facts import keep_latest
from bridge.rewards.groups import assign_orders
from bridge.storage import statistics
from bridge.storage.db import db, is_postgresql
from bridge.storage.models import BuyerMark, ClaimFact, GroupRow, MembershipRow, MemberTag, OrderFact
from tests.engine_data import T0, campaign, claim, order
from tests.test_engine_properties import scenario

NOW = T0 + timedelta(days=1)


def _clear():
    for model in (OrderFact, ClaimFact, MembershipRow, GroupRow, MemberTag):
        model.delete().execute()


def _stored():
    return {r.order_id: (r.role, r.founder_id, r.sponsor_id) for r in MembershipRow.select()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scenario(), st.randoms(use_true_random=False))
def test_incremental_decisions_equal_a_full_recompute(migrated, data, rnd):
    orders, versions, claims = data
    config = SimpleNamespace(campaigns=[campaign()])
    events = [("order", o) for o in orders + versions] + [("claim", c) for c in claims]
    events += rnd.sample(events, min(3, len(events)))
    rnd.shuffle(events)
    with db.atomic() as transaction:
        _clear()
        for kind, fact in events:
            ingest(config, orders=[fact] if kind == "order" else [], claims=[fact] if kind == "claim" else [], now=NOW)
        latest = [o for o in keep_latest(orders + versions).values()]
        expected = {oid: (m.role, m.founder_id, m.sponsor_id) for oid, m in assign_orders(campaign(), latest, claims).items()}
        assert _stored() == expected
        transaction.rollback()


def test_founder_gets_a_group_code_and_members_get_tags(migrated):
    config = SimpleNamespace(campaigns=[campaign()])
    ingest(config, orders=[order(1), order(2, minutes=5)], claims=[claim(2, 1)], now=NOW)
    group = GroupRow.get()
    assert group.founder_id == "1" and len(group.code) == 14
    assert group.closes_at == T0 + timedelta(hours=48) and group.due_at == T0 + timedelta(hours=48, days=14)
    assert MemberTag.select().count() == 2
    member = load_membership(MembershipRow.get(MembershipRow.order_id == "2"))
    assert member.role == "member" and any(c.rule == "joins_group" for c in member.checks)


def test_one_ingest_marks_each_order_once_and_its_codes_sit_together(migrated):
    """Stored then decided, an order is marked for the statistics once; the tags (and codes) of one batch share
    their first two characters, the rest of each is its own."""
    config = SimpleNamespace(campaigns=[campaign()])
    BuyerMark.delete().execute()
    ingest(config, orders=[order(i, minutes=i) for i in range(1, 7)], claims=[claim(2, 1), claim(3, 1), claim(5, 4)],
           now=NOW)
    assert sorted(m.order_id for m in BuyerMark.select()) == ["1", "2", "3", "4", "5", "6"]
    for codes in ([t.tag for t in MemberTag.select()], [g.code for g in GroupRow.select()]):
        assert len(set(codes)) == len(codes) and len({c[:2] for c in codes}) == 1
        assert all(len(c) == 14 and set(c) <= set(ALPHABET) for c in codes)
        assert len({c[2:] for c in codes}) == len(codes)
    assert (MemberTag.select().count(), GroupRow.select().count()) == (6, 3)  # groups of 1, 4 and 6


def test_a_late_claim_moves_an_order_from_founder_to_member(migrated):
    config = SimpleNamespace(campaigns=[campaign()])
    ingest(config, orders=[order(1), order(2, minutes=5), order(3, minutes=6)], claims=[claim(3, 2)], now=NOW)
    assert _stored()["3"] == ("member", "2", "2")
    ingest(config, claims=[claim(2, 1, source="coupon")], now=NOW)  # order 2 came through order 1's link after all
    stored = _stored()
    assert stored["2"] == ("member", "1", "1")
    assert stored["3"][0] == "founder"  # its group (2's) no longer exists, so 3 founds its own


def test_an_older_snapshot_never_overwrites_a_newer_one(migrated):
    config = SimpleNamespace(campaigns=[campaign()])
    newer = order(1, modified_at=T0 + timedelta(hours=2), cancelled=True, paid=False)
    older = order(1, modified_at=T0)
    assert ingest(config, orders=[newer], now=NOW) == {("s", "1")}
    assert ingest(config, orders=[older], now=NOW) == set()
    assert OrderFact.get().cancelled is True


def test_a_database_growing_fast_gets_fresh_planner_statistics(migrated, monkeypatch):
    """On PostgreSQL, ingestion analyzes its tables each time they changed by half (autovacuum looks once a minute)."""
    monkeypatch.setattr(statistics, "CHECK_EVERY", 100)
    monkeypatch.setattr(statistics, "AT_LEAST", 150)
    monkeypatch.setattr(statistics, "_stored", 0)
    config = SimpleNamespace(campaigns=[campaign()])
    if is_postgresql():  # only this test's own ANALYZEs
        for table in statistics.TABLES:
            db.execute_sql(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
    analyzed = []
    for page in range(4):
        if is_postgresql():
            time.sleep(1.1)  # a backend publishes its counts of changed rows at a commit at most once a second
        ingest(config, orders=[order(i, minutes=i) for i in range(page * 100, page * 100 + 100)], now=NOW)
        if is_postgresql():
            analyzed.append(db.execute_sql(
                "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'membership'").fetchone()[0])
    if not is_postgresql():
        assert statistics._stored == 0 and MembershipRow.select().count() == 400  # nothing to do, nothing counted
        return
    # 200 rows changed: analyzed; 100 more on 200: not yet; 200 on 200: analyzed again
    assert analyzed == [0, 1, 1, 2]
