"""A group's whole life through `bridge tick --now`, and the ledger around it (SQLite and PostgreSQL)."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from click.testing import CliRunner

from bridge.cli import main
from bridge.config import load_config
from bridge.facts.ingest import ingest
from bridge.storage import bind, upgrade
from bridge.storage.db import db
from bridge.storage.models import Clawback, GroupRow, Payout, Reward
from tests.engine_data import T0, claim, order

HOLD_END = T0 + timedelta(hours=48, days=14)


def cli(config_file, *args):
    return CliRunner().invoke(main, ["--config", str(config_file), *args], catch_exceptions=False)


def shop_order(oid, **kw):
    return replace(order(oid, **kw), shop="shop1")


def shop_claim(oid, founder, **kw):
    return replace(claim(oid, founder, **kw), shop="shop1")


def setup(config_file, extra=""):
    if extra:
        config_file.write_text(config_file.read_text() + extra)
    config = load_config(str(config_file))
    bind(config.server.database_url)
    with db.connection_context():
        upgrade()
    return config


def settle_pair(config, config_file):
    """A founder and one friend (5% each on 100.00), settled at the end of the hold."""
    with db.connection_context():
        ingest(config, orders=[shop_order(1), shop_order(2, minutes=1)], claims=[shop_claim(2, 1)], now=T0)
    cli(config_file, "tick", "--now", HOLD_END.isoformat())


def test_full_group_lifecycle_through_ticks(config_file):
    config = setup(config_file)
    with db.connection_context():
        ingest(config, orders=[shop_order(1)], now=T0)
        ingest(config, orders=[shop_order(2, minutes=60)], claims=[shop_claim(2, 1)], now=T0 + timedelta(hours=1))
        ingest(config, orders=[shop_order(3, minutes=120)], claims=[shop_claim(3, 1, sponsor_id=2)])
        ingest(config, orders=[shop_order(3, minutes=120)], claims=[shop_claim(3, 1, sponsor_id=2)])  # duplicate webhook
        code = GroupRow.get().code

    forming_group = cli(config_file, "explain", "group", code, "--now", (T0 + timedelta(hours=3)).isoformat())
    assert "open: 3 buyer(s), 3-buyer tier, top tier" in forming_group.output
    assert "order 3, brought by 2: 10.00 EUR (10% of 100.00)" in forming_group.output

    assert "settled 0 groups" in cli(config_file, "tick", "--now", (T0 + timedelta(hours=49)).isoformat()).output
    with db.connection_context():  # a refund during the hold: the member leaves, the tier drops for everyone
        ingest(config, orders=[shop_order(3, minutes=120, refunded=Decimal("100.00"), modified_at=T0 + timedelta(days=3))])
    assert "settled 1 groups, granted 2 rewards" in cli(config_file, "tick", "--now", HOLD_END.isoformat()).output
    assert "settled 0 groups" in cli(config_file, "tick", "--now", (HOLD_END + timedelta(hours=1)).isoformat()).output

    with db.connection_context():
        assert sorted((r.order_id, r.amount) for r in Reward.select()) == [("1", Decimal("5.00")), ("2", Decimal("5.00"))]
        assert {p.state for p in Payout.select()} == {"approved"}
    check = cli(config_file, "ledger", "check")
    assert check.exit_code == 0 and "EUR: granted 10.00 = paid 0.00 + pending 10.00 + recovered 0.00" in check.output

    explained = cli(config_file, "explain", "order", "shop1", "3").output
    assert "joined group 1 (brought by order 2)" in explained and "fully refunded" not in explained
    closed = cli(config_file, "explain", "group", code, "--now", HOLD_END.isoformat()).output
    assert "left the group: order fully refunded" in closed and "settled at" in closed


def test_refund_after_settlement_becomes_a_clawback_recovered_from_the_next_reward(config_file):
    config = setup(config_file)
    settle_pair(config, config_file)
    with db.connection_context():
        late = T0 + timedelta(days=20)
        ingest(config, orders=[shop_order(2, minutes=1, refunded=Decimal("40.00"), modified_at=late)], now=late)
        ingest(config, orders=[shop_order(2, minutes=1, refunded=Decimal("40.00"), modified_at=late)], now=late)
        clawback = Clawback.get()
        assert (clawback.amount, clawback.state) == (Decimal("2.00"), "open")  # 5% of 40 refunded
        # the same buyer founds a new group later; its first reward pays the clawback back first
        again = T0 + timedelta(days=30)
        ingest(config, orders=[shop_order(20, minutes=0, email="buyer2@example.com", customer_id="cust2",
                                          paid_at=again, created_at=again, modified_at=again),
                               shop_order(21, paid_at=again + timedelta(hours=1), created_at=again + timedelta(hours=1),
                                          modified_at=again)],
               claims=[replace(shop_claim(21, 20), at=again)], now=again)
    cli(config_file, "tick", "--now", (T0 + timedelta(days=50)).isoformat())
    with db.connection_context():
        payout = Payout.get(Payout.key == "payout:group1:group:20:20")
        assert (payout.amount, payout.deducted) == (Decimal("3.00"), Decimal("2.00"))
        assert Clawback.get().state == "recovered"
    check = cli(config_file, "ledger", "check")
    assert check.exit_code == 0, check.output
    assert "EUR: granted 20.00 = paid 0.00 + pending 18.00 + recovered 2.00" in check.output


def test_write_off_policy_and_manual_approval(config_file):
    config = setup(config_file)
    text = config_file.read_text().replace("    eligible_products: any", "    eligible_products: any\n"
                                           "    clawback: write_off\n    approval: manual")
    config_file.write_text(text)
    config = load_config(str(config_file))
    settle_pair(config, config_file)
    listed = cli(config_file, "payouts", "list", "--state", "pending").output
    assert "payout:group1:group:1:1  5.00 EUR  coupon  pending" in listed
    assert "approved 2 payout(s)" in cli(config_file, "payouts", "approve", "--campaign", "group1").output
    unknown = CliRunner().invoke(main, ["--config", str(config_file), "payouts", "approve", "payout:nope"])
    assert unknown.exit_code == 2 and "not pending or unknown: payout:nope" in unknown.output
    with db.connection_context():
        late = T0 + timedelta(days=20)
        ingest(config, orders=[shop_order(1, cancelled=True, paid=False, modified_at=late)], now=late)
        assert Clawback.get().state == "written_off" and Clawback.get().amount == Decimal("5.00")
    assert cli(config_file, "ledger", "check").exit_code == 0


def test_budget_is_never_exceeded_across_groups(config_file):
    config = setup(config_file)
    config_file.write_text(config_file.read_text().replace("    eligible_products: any",
                                                           '    eligible_products: any\n    budget: "12.00"'))
    config = load_config(str(config_file))
    with db.connection_context():
        for founder in (1, 3, 5):
            ingest(config, orders=[shop_order(founder, minutes=founder), shop_order(founder + 1, minutes=founder + 1)],
                   claims=[shop_claim(founder + 1, founder)], now=T0)
    assert "settled 3 groups, granted 4 rewards" in cli(config_file, "tick", "--now", (HOLD_END + timedelta(hours=1)).isoformat()).output
    with db.connection_context():
        assert sum(r.amount for r in Reward.select()) == Decimal("12.00")
    assert cli(config_file, "ledger", "check").exit_code == 0


def test_flagged_members_wait_for_review_and_override_lets_a_refused_join_in(config_file):
    config = setup(config_file)
    with db.connection_context():
        ingest(config, orders=[shop_order(1), shop_order(2, minutes=1, email="friend@mailinator.com"),
                               shop_order(3, minutes=2, email="buyer1@example.com")],
               claims=[shop_claim(2, 1), shop_claim(3, 1)], now=T0)
    refused = cli(config_file, "explain", "order", "shop1", "3").output
    assert "NO  self_referral_email: same e-mail as the person who shared the link" in refused
    done = cli(config_file, "override", "group1", "3", "--allow", "--note", "two sisters, one family e-mail",
               "--now", T0.isoformat())
    assert done.exit_code == 0
    assert "joined group 1" in cli(config_file, "explain", "order", "shop1", "3").output
    cli(config_file, "tick", "--now", HOLD_END.isoformat())
    with db.connection_context():
        flagged = Payout.get(Payout.key == "payout:group1:group:1:2")
        assert flagged.state == "pending" and "disposable" in flagged.review
        assert Payout.get(Payout.key == "payout:group1:group:1:1").state == "approved"


def test_ledger_check_fails_on_a_broken_ledger(config_file):
    config = setup(config_file)
    settle_pair(config, config_file)
    with db.connection_context():
        Payout.update(amount=Decimal("1.00")).where(Payout.key == "payout:group1:group:1:1").execute()
    broken = CliRunner().invoke(main, ["--config", str(config_file), "ledger", "check"])
    assert broken.exit_code == 1 and "MISMATCH" in broken.output


def test_explain_unknowns(config_file):
    setup(config_file)
    assert "unknown to bridge" in cli(config_file, "explain", "order", "shop1", "999").output
    missing = CliRunner().invoke(main, ["--config", str(config_file), "explain", "group", "NOPE"])
    assert missing.exit_code == 1 and "no group with code NOPE" in missing.output
    bad_shop = CliRunner().invoke(main, ["--config", str(config_file), "explain", "order", "nope", "1"])
    assert bad_shop.exit_code == 2 and "no shop 'nope'" in bad_shop.output
