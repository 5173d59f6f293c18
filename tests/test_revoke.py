"""Taking rewards back: a refusal after settlement, `bridge payouts cancel`, and referral clawbacks (issue 14)."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from click.testing import CliRunner

from bridge.cli import main
from bridge.facts.ingest import ingest
from bridge.storage.db import db
from bridge.storage.models import Advocate as AdvocateRow
from bridge.storage.models import Clawback, MembershipRow, Payout, Reward
from tests.engine_data import T0, order
from tests.test_lifecycle import settle_pair, setup, shop_order
from tests.test_referral import with_referral_campaign


def cli(config_file, *args):
    return CliRunner().invoke(main, ["--config", str(config_file), *args])


def test_refusing_a_settled_member_cancels_the_unpaid_payout_and_the_ledger_holds(config_file):
    config = setup(config_file)
    settle_pair(config, config_file)
    with db.connection_context():
        assert Payout.get(Payout.key == "payout:group1:group:1:2").state == "approved"
    refused = cli(config_file, "override", "group1", "2", "--refuse", "--note", "same family, one address")
    assert refused.exit_code == 0, refused.output
    assert "order 2: refused (same family, one address)" in refused.output
    assert "payout payout:group1:group:1:2 cancelled" in refused.output
    with db.connection_context():
        payout = Payout.get(Payout.key == "payout:group1:group:1:2")
        assert payout.state == "cancelled" and "same family" in payout.last_error
        assert Reward.get(Reward.key == "group1:group:1:2").state == "cancelled"
        checks = MembershipRow.get(MembershipRow.order_id == "2").checks
        assert "admin refused: same family" in checks and "refuseed" not in checks
    assert cli(config_file, "ledger", "check").exit_code == 0


def test_refusing_after_the_money_left_opens_a_clawback(config_file):
    config = setup(config_file)
    settle_pair(config, config_file)
    with db.connection_context():  # the shop confirmed the refund (what deliver_payouts records)
        Payout.update(state="paid", external_ref="r1").where(Payout.key == "payout:group1:group:1:2").execute()
    refused = cli(config_file, "override", "group1", "2", "--refuse", "--note", "fraud")
    assert refused.exit_code == 0, refused.output
    assert "already paid: a clawback of 5.00 EUR is recorded" in refused.output
    with db.connection_context():
        [clawback] = Clawback.select()
        assert (clawback.amount, clawback.state) == (Decimal("5.00"), "open")
    assert cli(config_file, "override", "group1", "2", "--refuse", "--note", "fraud").exit_code == 0
    with db.connection_context():
        assert Clawback.select().count() == 1  # refusing twice claws back once
    assert cli(config_file, "ledger", "check").exit_code == 0


def test_payouts_cancel_needs_a_note_and_says_what_cannot_be_cancelled(config_file):
    config = setup(config_file)
    settle_pair(config, config_file)
    assert cli(config_file, "payouts", "cancel", "payout:group1:group:1:1", "--note", " ").exit_code == 2
    done = cli(config_file, "payouts", "cancel", "payout:group1:group:1:1", "--note", "asked by the customer")
    assert done.exit_code == 0 and "cancelled" in done.output
    again = cli(config_file, "payouts", "cancel", "payout:group1:group:1:1", "payout:nope", "--note", "twice")
    assert again.exit_code == 1
    assert "is not granted" in again.output and "payout:nope: no such payout" in again.output
    with db.connection_context():
        Payout.update(state="paid").where(Payout.key == "payout:group1:group:1:2").execute()
    paid = cli(config_file, "payouts", "cancel", "payout:group1:group:1:2", "--note", "late")
    assert paid.exit_code == 1 and "already paid" in paid.output
    assert cli(config_file, "ledger", "check").exit_code == 0


def test_contradictory_or_unknown_arguments_are_errors(config_file):
    config = setup(config_file)
    with db.connection_context():
        ingest(config, orders=[shop_order(1)], now=T0)
    both = cli(config_file, "override", "group1", "1", "--allow", "--refuse", "--note", "x")
    assert both.exit_code == 2 and "either --allow or --refuse" in both.output
    assert cli(config_file, "override", "group1", "1", "--allow", "--note", "").exit_code == 2
    unknown = cli(config_file, "payouts", "approve", "--campaign", "nope")
    assert unknown.exit_code == 2 and "no campaign 'nope'" in unknown.output


def test_a_referrers_reward_is_clawed_back_when_the_friends_order_is_refunded(config_file):
    config, campaign = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[replace(order(1, email="marie@example.com"), shop="shop1")], now=T0)
        code = AdvocateRow.get().code
        friend = replace(order(2, minutes=1), shop="shop1")
        ingest(config, orders=[friend], now=T0, referral_claims=[("shop1", "2", code, "widget", T0)])
    assert "granted 1" in cli(config_file, "tick", "--now", (T0 + timedelta(days=15)).isoformat()).output
    with db.connection_context():
        refunded = replace(friend, refunded=friend.total, modified_at=T0 + timedelta(days=16))
        ingest(config, orders=[refunded], now=T0 + timedelta(days=16))
        [clawback] = Clawback.select()
        assert clawback.amount == Reward.get(Reward.kind == "referral_referrer").amount
        assert clawback.email_norm == "marie@example.com"
    assert cli(config_file, "ledger", "check").exit_code == 0
