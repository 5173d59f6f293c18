"""Classic referral: the pure decision (table-driven) and the whole flow through `bridge tick`."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.config import load_config
from bridge.config.model import ReferralCampaign, RewardSpec
from bridge.facts.ingest import ingest
from bridge.ledger.referrals import WelcomeRefused, issue_advocate, welcome_coupon
from bridge.rewards.referral import Advocate, decide_referral
from bridge.storage import bind, upgrade
from bridge.storage.db import db
from bridge.storage.models import Advocate as AdvocateRow
from bridge.storage.models import Payout, ReferralDecisionRow, Reward
from tests.engine_data import T0, money, order

HOLD = timedelta(days=14)


def referral(**changes) -> ReferralCampaign:
    base = ReferralCampaign(
        id="r", shop="s", currency="EUR", name="r", starts=None, ends=None,
        friend_reward=RewardSpec("coupon", None, Decimal("0.10"), None, timedelta(days=30)),
        referrer_reward=RewardSpec("coupon", money("10.00"), None, None, None), new_customers_only=True,
        minimum_order=money("30.00"), hold=HOLD, attribution_window=timedelta(days=30), max_rewards_per_referrer=None,
        max_rewards_per_period=None, period=None, payout="coupon")
    return replace(base, **changes)


ADVOCATE = Advocate("CODE", "marie@example.com", (order(1, email="marie@example.com"),))
AFTER_HOLD = T0 + HOLD + timedelta(hours=1)


def decide(friend, camp=None, ordered_before=False, earlier=(), now=AFTER_HOLD):
    return decide_referral(camp or referral(), friend, ADVOCATE, ordered_before, list(earlier), now)


def failed(decision):
    return {c.rule for c in decision.checks if not c.passed}


def test_a_new_friend_earns_the_referrer_a_reward_after_the_hold():
    friend = order(2, minutes=10)
    assert decide(friend, now=T0 + timedelta(days=1)).state == "waiting"
    granted = decide(friend)
    assert (granted.state, granted.amount, granted.due_at) == ("granted", Decimal("10.00"), friend.paid_at + HOLD)


def test_percentage_reward_is_a_share_of_what_the_friend_paid_after_refunds():
    camp = referral(referrer_reward=RewardSpec("cashback", None, Decimal("0.05"), None, None))
    assert decide(order(2, total="80.00", refunded=Decimal("20.00")), camp).amount == Decimal("3.00")


@pytest.mark.parametrize("friend,kwargs,rule", [
    (order(2, total="29.99"), {}, "minimum_order"),
    (order(2), {"ordered_before": True}, "new_customer"),
    (order(2, email="Marie+x@Example.com"), {}, "self_referral_email"),
    (order(2, customer_id="cust1"), {}, "self_referral_customer"),
    (order(2, currency="USD"), {}, "currency"),
    (order(2, paid=False, cancelled=True), {}, "hold"),
])
def test_refusals_are_explained(friend, kwargs, rule):
    decision = decide(friend, **kwargs)
    assert decision.state == "refused" and rule in failed(decision)


def test_caps_per_referrer_and_per_period():
    friend = order(2)
    due = friend.paid_at + HOLD
    capped = referral(max_rewards_per_referrer=2)
    assert decide(friend, capped, earlier=[due - timedelta(days=90), due - timedelta(days=60)]).state == "refused"
    periodic = referral(max_rewards_per_period=1, period=timedelta(days=30))
    assert decide(friend, periodic, earlier=[due - timedelta(days=40)]).state == "granted"
    assert "cap_per_period" in failed(decide(friend, periodic, earlier=[due - timedelta(days=10)]))


def test_a_product_filter_needs_one_of_its_products_and_counts_only_them():
    """Issue 17: `eligible_products` of a referral campaign; a percentage reward is a share of those lines only."""
    two = order(2, total="60.00")
    two = replace(two, lines=(replace(two.lines[0], product_id="p1"), replace(two.lines[0], product_id="p9")))
    camp = referral(eligible_products=("p9",), referrer_reward=RewardSpec("cashback", None, Decimal("0.10"), None, None))
    granted = decide(two, camp)
    assert granted.state == "granted" and granted.amount == Decimal("6.00")  # 10% of the p9 line, 60.00 tax included
    refused = decide(order(2, product="p1"), camp)
    assert refused.state == "refused" and "eligible_product" in failed(refused)
    assert "has none of the campaign's products (p9)" in [c.text for c in refused.checks if not c.passed]


def test_a_budget_refuses_a_reward_it_cannot_pay_whole():
    camp = referral(budget=money("25.00"))
    friend = order(2)
    assert decide_referral(camp, friend, ADVOCATE, False, [], AFTER_HOLD, budget_left=Decimal("10.00")).state == "granted"
    short = decide_referral(camp, friend, ADVOCATE, False, [], AFTER_HOLD, budget_left=Decimal("9.99"))
    assert short.state == "refused" and failed(short) == {"budget"}
    assert "9.99 EUR left of the campaign's budget, less than the reward of 10.00 EUR" in [c.text for c in short.checks]


def test_campaign_dates():
    assert "campaign_dates" in failed(decide(order(2), referral(ends=(T0 - timedelta(days=1)).date())))


REFERRAL_YAML = """  - id: refer
    type: referral
    shop: shop1
    hold: 14d
    minimum_order: "30.00"
    max_rewards_per_referrer: 2
    friend_reward: {type: coupon, value: "10%"}
    referrer_reward: {type: coupon, value: "10.00"}
"""


def with_referral_campaign(config_file):
    """Add the referral campaign to the test config, bind its database at the latest schema."""
    config_file.write_text(config_file.read_text() + REFERRAL_YAML)
    config = load_config(str(config_file))
    bind(config.server.database_url)
    with db.connection_context():
        upgrade()
    return config, next(c for c in config.campaigns if c.id == "refer")


def test_referral_flow_through_ticks(config_file):
    config, camp = with_referral_campaign(config_file)
    with db.connection_context():
        marie = replace(order(1, email="marie@example.com"), shop="shop1")
        ingest(config, orders=[marie], now=T0)
        code = AdvocateRow.get(AdvocateRow.email_norm == "marie@example.com").code  # every paid buyer is an advocate
        assert issue_advocate(camp, "Marie@Example.com", None, T0) == code  # once per person
        friends = [replace(order(i, minutes=i), shop="shop1") for i in (2, 3, 4)]
        ingest(config, orders=friends, now=T0, referral_claims=[("shop1", str(i), code, "widget", T0) for i in (2, 3, 4)])
    runner = CliRunner()
    early = runner.invoke(main, ["--config", str(config_file), "tick", "--now", (T0 + timedelta(days=1)).isoformat()])
    assert "referrals: granted 0, refused 0" in early.output
    later = runner.invoke(main, ["--config", str(config_file), "tick", "--now", (T0 + timedelta(days=15)).isoformat()])
    assert "referrals: granted 2, refused 1" in later.output  # the third friend hits the cap of 2
    again = runner.invoke(main, ["--config", str(config_file), "tick", "--now", (T0 + timedelta(days=16)).isoformat()])
    assert "referrals: granted 0, refused 0" in again.output
    with db.connection_context():
        rewards = list(Reward.select().where(Reward.kind == "referral_referrer"))
        assert {r.email_norm for r in rewards} == {"marie@example.com"}
        assert sorted(r.order_id for r in rewards) == ["1", "1"] and {r.amount for r in rewards} == {Decimal("10")}
        assert {p.method for p in Payout.select().join(Reward).where(Reward.kind == "referral_referrer")} == {"coupon"}
        refused = ReferralDecisionRow.get(ReferralDecisionRow.order_id == "4")
        assert refused.state == "refused" and "cap_per_referrer" in refused.checks
    assert runner.invoke(main, ["--config", str(config_file), "ledger", "check"]).exit_code == 0
    explained = runner.invoke(main, ["--config", str(config_file), "explain", "order", "shop1", "4"]).output
    assert f"campaign refer: referred with code {code}, refused" in explained
    assert "NO  cap_per_referrer: 2 earlier reward(s), cap 2" in explained
    granted = runner.invoke(main, ["--config", str(config_file), "explain", "order", "shop1", "2"]).output
    assert "the referrer (marie@example.com) was granted 10.00 EUR" in granted


def test_the_campaign_budget_is_spent_by_grants_through_ticks(config_file):
    """Issue 17: a referral budget like social buying's: a reward it cannot pay whole is refused, with the reason."""
    config_file.write_text(config_file.read_text() + REFERRAL_YAML.replace("max_rewards_per_referrer: 2", 'budget: "15.00"'))
    config = load_config(str(config_file))
    bind(config.server.database_url)
    with db.connection_context():
        upgrade()
        ingest(config, orders=[replace(order(1, email="marie@example.com"), shop="shop1")], now=T0)
        code = AdvocateRow.get(AdvocateRow.email_norm == "marie@example.com").code
        friends = [replace(order(i, minutes=i), shop="shop1") for i in (2, 3)]
        ingest(config, orders=friends, now=T0, referral_claims=[("shop1", str(i), code, "widget", T0) for i in (2, 3)])
    runner = CliRunner()
    ticked = runner.invoke(main, ["--config", str(config_file), "tick", "--now", (T0 + timedelta(days=15)).isoformat()])
    assert "referrals: granted 1, refused 1" in ticked.output, ticked.output
    explained = runner.invoke(main, ["--config", str(config_file), "explain", "order", "shop1", "3"]).output
    assert "NO  budget: 5.00 EUR left of the campaign's budget, less than the reward of 10.00 EUR" in explained, explained
    assert runner.invoke(main, ["--config", str(config_file), "ledger", "check"]).exit_code == 0


def test_a_referral_campaign_refuses_same_products(config_file):
    from bridge.config import ConfigError

    config_file.write_text(config_file.read_text() + REFERRAL_YAML + "    eligible_products: same\n")
    with pytest.raises(ConfigError, match=r"config.yaml:\d+: campaigns\[1\]\.eligible_products: a referral has no first"):
        load_config(str(config_file))


def test_welcome_coupon_once_per_friend_and_never_for_the_referrer_or_old_customers(config_file):
    config, camp = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[replace(order(1, email="marie@example.com"), shop="shop1"),
                               replace(order(5, email="old@example.com"), shop="shop1")], now=T0)
        code = issue_advocate(camp, "marie@example.com", "1", T0)
        coupon = welcome_coupon(camp, code, " Lea@Example.com ", T0)
        assert (coupon.percent, coupon.amount, coupon.state) == (Decimal("0.1"), None, "to_create")
        assert coupon.expires_at is None and len(coupon.coupon_code) == 10
        assert welcome_coupon(camp, code, "lea@example.com", T0).coupon_code == coupon.coupon_code
        for email, message in [("marie+x@example.com", "not for the person who shared the code"),
                               ("old@example.com", "this e-mail has already ordered"), ("nope", "not an e-mail")]:
            with pytest.raises(WelcomeRefused, match=message):
                welcome_coupon(camp, code, email, T0)
        with pytest.raises(WelcomeRefused, match="unknown referral code"):
            welcome_coupon(camp, "NOPE", "x@example.com", T0)


def test_admin_override_waives_identity_refusals_but_not_caps():
    from bridge.rewards.model import Override

    same_person = order(2, email="marie@example.com")
    allow = Override("s", "2", "allow", "mother and daughter share an e-mail")
    assert decide(same_person).state == "refused"
    allowed = decide_referral(referral(), same_person, ADVOCATE, False, [], AFTER_HOLD, allow)
    assert allowed.state == "granted" and any(c.rule == "admin_override" and c.passed for c in allowed.checks)
    capped = decide_referral(referral(max_rewards_per_referrer=1), same_person, ADVOCATE, False, [T0], AFTER_HOLD, allow)
    assert capped.state == "refused"
    refuse = Override("s", "3", "refuse", "coupon site")
    assert decide_referral(referral(), order(3), ADVOCATE, False, [], AFTER_HOLD, refuse).state == "refused"


def test_override_through_the_cli_and_flags_for_review(config_file):
    config, _ = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[replace(order(1, email="marie@example.com"), shop="shop1")], now=T0)
        code = AdvocateRow.get().code
        sister = replace(order(2, minutes=1, email="marie@example.com"), shop="shop1")
        temp = replace(order(3, minutes=2, email="x@mailinator.com"), shop="shop1")
        ingest(config, orders=[sister, temp], now=T0,
               referral_claims=[("shop1", "2", code, "widget", T0), ("shop1", "3", code, "widget", T0)])
    runner = CliRunner()
    after = (T0 + timedelta(days=15)).isoformat()
    assert "granted 1, refused 1" in runner.invoke(main, ["--config", str(config_file), "tick", "--now", after]).output
    done = runner.invoke(main, ["--config", str(config_file), "override", "refer", "2", "--allow", "--note", "family"])
    assert done.exit_code == 0 and "the next tick decides it again" in done.output
    later = (T0 + timedelta(days=16)).isoformat()
    assert "granted 1, refused 0" in runner.invoke(main, ["--config", str(config_file), "tick", "--now", later]).output
    again = runner.invoke(main, ["--config", str(config_file), "override", "refer", "2", "--refuse", "--note", "no"])
    # A refusal after the reward was granted takes it back: the payout is cancelled while unpaid (issue 14).
    assert again.exit_code == 0 and "order 2: refused (no)" in again.output, again.output
    assert "cancelled" in again.output or "clawback" in again.output, again.output
    checked = runner.invoke(main, ["--config", str(config_file), "ledger", "check"])
    assert checked.exit_code == 0, checked.output
    with db.connection_context():
        held = Payout.get(Payout.key == "payout:refer:referral:3")
        assert held.state == "pending" and "disposable" in held.review
        assert Payout.get(Payout.key == "payout:refer:referral:2").state == "cancelled"  # refused after its grant
