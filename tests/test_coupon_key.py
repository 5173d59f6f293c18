"""The coupon key (issue 17): a code bridge gave out, used at the checkout, attributes the order on its own."""

from dataclasses import replace
from datetime import timedelta

from click.testing import CliRunner

from bridge.cli import main
from bridge.connectors.woocommerce_orders import normalise_order
from bridge.facts.ingest import ingest
from bridge.ledger.referrals import issue_advocate, welcome_coupon
from bridge.storage.db import db
from bridge.storage.models import ClaimFact, GroupRow, MembershipRow, OrderFact, ReferralClaim, Reward
from bridge.storage.rows import read_orders
from tests.engine_data import T0, claim, order
from tests.test_referral import with_referral_campaign
from tests.wc_fixtures import rest_json


def shop1(o):
    return replace(o, shop="shop1")


def test_woocommerce_orders_carry_their_coupon_codes_upper_case_and_back_from_storage(config_file):
    data = rest_json("19-order-get-after-refund.response.json")
    data = {**data, "coupon_lines": [{"id": 1, "code": "qw3rtyx9ab", "discount": "5.00"}, {"id": 2, "code": " Summer "},
                                     {"id": 3, "code": ""}, "junk"]}
    parsed = normalise_order("shop1", data)
    assert parsed.coupons == ("QW3RTYX9AB", "SUMMER")
    assert normalise_order("shop1", {**data, "coupon_lines": []}).coupons == ()
    config, _ = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[parsed], now=T0)
        assert read_orders("shop1", [parsed.id])[parsed.id].coupons == ("QW3RTYX9AB", "SUMMER")
        assert OrderFact.get(OrderFact.order_id == parsed.id).coupons == '["QW3RTYX9AB", "SUMMER"]'


def test_a_welcome_coupon_used_on_another_device_earns_the_referrer_the_reward(config_file):
    config, camp = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[shop1(order(1, email="marie@example.com"))], now=T0)
        code = issue_advocate(camp, "marie@example.com", "1", T0)
        coupon = welcome_coupon(camp, code, "lea@example.com", T0).coupon_code
        # No widget report, no cookie: only the coupon the friend typed at the checkout.
        friend = shop1(order(2, minutes=30, email="lea@example.com", coupons=(coupon,)))
        stranger = replace(order(3, minutes=31, email="x@example.com", coupons=(coupon,)), shop="shop2")
        ingest(config, orders=[friend, stranger], now=T0)
        claims = [(c.order_id, c.code, c.source) for c in ReferralClaim.select()]
        assert claims == [("2", code, "coupon")]  # another shop's order with the same text claims nothing
    runner = CliRunner()
    ticked = runner.invoke(main, ["--config", str(config_file), "tick", "--now", (T0 + timedelta(days=15)).isoformat()])
    assert "referrals: granted 1, refused 0" in ticked.output, ticked.output
    with db.connection_context():
        assert Reward.get(Reward.kind == "referral_referrer").email_norm == "marie@example.com"
    explained = runner.invoke(main, ["--config", str(config_file), "explain", "order", "shop1", "2"]).output
    assert f"attributed by coupon to code {code}: a code bridge gave out, used as a coupon" in explained, explained
    assert runner.invoke(main, ["--config", str(config_file), "ledger", "check"]).exit_code == 0


def test_a_group_code_used_as_a_coupon_outranks_the_widget_report(config_file):
    config, _ = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[shop1(order(1)), shop1(order(2, minutes=1))], now=T0)
        first, second = (GroupRow.get(GroupRow.founder_id == i).code for i in ("1", "2"))
        # The browser reported group 2's link, but the friend typed group 1's code at the checkout.
        friend = shop1(order(3, minutes=5, coupons=(first,)))
        ingest(config, orders=[friend], claims=[replace(claim("3", "2", minutes=5), shop="shop1")], now=T0)
        decided = MembershipRow.get(MembershipRow.order_id == "3")
        assert (decided.role, decided.founder_id) == ("member", "1")
        assert {(c.founder_id, c.source) for c in ClaimFact.select().where(ClaimFact.order_id == "3")} == {
            ("1", "coupon"), ("2", "widget")}
        # A founder typing their own group's code claims nothing.
        ingest(config, orders=[replace(shop1(order(1)), coupons=(first,), modified_at=T0 + timedelta(hours=1))], now=T0)
        assert not ClaimFact.select().where(ClaimFact.order_id == "1").exists()
        assert second
    explained = CliRunner().invoke(main, ["--config", str(config_file), "explain", "order", "shop1", "3"]).output
    assert "attributed by coupon to group 1" in explained and "also present, weaker: widget to group 2" in explained, explained
