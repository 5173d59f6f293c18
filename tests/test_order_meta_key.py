"""The order-meta key (issue 17): the share code a shop stored on the order (bridge's WordPress plugin, the
PrestaShop module) attributes it on its own, weaker than a coupon or the widget's report."""

from dataclasses import replace
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bridge.basics.codes import share_code
from bridge.cli import main
from bridge.connectors.woocommerce_orders import CODE_META, normalise_order
from bridge.facts.ingest import ingest
from bridge.ledger.referrals import issue_advocate
from bridge.storage.db import db
from bridge.storage.models import ClaimFact, GroupRow, MembershipRow, MemberTag, OrderFact, ReferralClaim, Reward
from bridge.storage.rows import read_orders
from tests.engine_data import T0, claim, order
from tests.test_referral import with_referral_campaign
from tests.wc_fixtures import rest_json


def shop1(o):
    return replace(o, shop="shop1")


@pytest.mark.parametrize("value, code", [
    ("K9RTX7MNPQ4CDE", "K9RTX7MNPQ4CDE"), (" k9rtx7mnpq4cde.w3af6ghj9kmn4p ", "K9RTX7MNPQ4CDE.W3AF6GHJ9KMN4P"),
    ("K9RTX7MNPQ4CDE.W3AF6GHJ9KMN4P.X7", None), ("<script>", None), ("", None), (12345678, None), (None, None),
    ("K" * 33, None), ("K9RTX7MNPQ4CDE|1799999999999", None),
])
def test_a_stored_share_code_is_read_only_when_it_is_one(value, code):
    assert share_code(value) == code


def test_woocommerce_orders_carry_the_code_the_plugin_stored_and_back_from_storage(config_file):
    data = rest_json("19-order-get-after-refund.response.json")
    metas = [{"id": 7, "key": "_other", "value": "x"}, {"id": 8, "key": CODE_META, "value": "k9rtx7mnpq4cde.w3af6ghj9kmn4p"}]
    parsed = normalise_order("shop1", {**data, "meta_data": metas})
    assert parsed.stored_code == "K9RTX7MNPQ4CDE.W3AF6GHJ9KMN4P"
    assert parsed.first_name == data["billing"]["first_name"].strip() and parsed.first_name  # for a named banner
    assert normalise_order("shop1", {**data, "meta_data": [{"key": CODE_META, "value": ["not", "text"]}]}).stored_code is None
    assert normalise_order("shop1", {**data, "meta_data": None}).stored_code is None
    config, _ = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[parsed], now=T0)
        assert read_orders("shop1", [parsed.id])[parsed.id].stored_code == "K9RTX7MNPQ4CDE.W3AF6GHJ9KMN4P"
        assert OrderFact.get(OrderFact.order_id == parsed.id).stored_code == "K9RTX7MNPQ4CDE.W3AF6GHJ9KMN4P"


def test_a_stored_group_code_with_a_members_tag_makes_the_order_a_member_brought_by_them(config_file):
    config, _ = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[shop1(order(1)), shop1(order(2, minutes=5, coupons=()))], now=T0)
        code = GroupRow.get(GroupRow.founder_id == "1").code
        ingest(config, orders=[shop1(order(2, minutes=5)), shop1(order(3, minutes=6))],
               claims=[replace(claim("3", "1", minutes=6), shop="shop1")], now=T0)
        tag = MemberTag.get(MemberTag.order_id == "3").tag
        other_tag = MemberTag.get(MemberTag.order_id == "2").tag  # a founder of another group: not this group's
        friend = shop1(order(4, minutes=10, stored_code=f"{code}.{tag}"))
        stranger = shop1(order(5, minutes=11, stored_code=f"{code}.{other_tag}"))
        elsewhere = replace(order(6, minutes=12, stored_code=code), shop="shop2")  # another shop's order
        ingest(config, orders=[friend, stranger, elsewhere], now=T0)
        claims = {(c.order_id, c.founder_id, c.sponsor_id, c.source) for c in ClaimFact.select().where(
            ClaimFact.source == "meta")}
        assert claims == {("4", "1", "3", "meta"), ("5", "1", "", "meta")}  # a foreign tag: the plain link
        decided = MembershipRow.get(MembershipRow.order_id == "4")
        assert (decided.role, decided.founder_id, decided.sponsor_id) == ("member", "1", "3")
        # Read again (a webhook twice, a poll): nothing more.
        ingest(config, orders=[replace(friend, modified_at=T0 + timedelta(hours=1))], now=T0)
        assert ClaimFact.select().where(ClaimFact.source == "meta").count() == 2
    explained = CliRunner().invoke(main, ["--config", str(config_file), "explain", "order", "shop1", "4"]).output
    assert "attributed by meta to group 1" in explained and "the referral code the shop stored on the order" in explained


def test_a_stored_advocate_code_claims_the_referral_and_the_widget_report_outranks_it(config_file):
    config, camp = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[shop1(order(1, email="marie@example.com")), shop1(order(2, email="paul@example.com"))],
               now=T0)
        marie, paul = (issue_advocate(camp, e, i, T0) for e, i in (("marie@example.com", "1"), ("paul@example.com", "2")))
        ingest(config, orders=[shop1(order(3, minutes=30, email="lea@example.com", stored_code=marie.lower()))],
               referral_claims=[("shop1", "3", paul, "widget", T0 + timedelta(minutes=31))], now=T0)
        assert {(c.order_id, c.code, c.source) for c in ReferralClaim.select()} == {("3", marie, "meta"), ("3", paul, "widget")}
    runner = CliRunner()
    ticked = runner.invoke(main, ["--config", str(config_file), "tick", "--now", (T0 + timedelta(days=15)).isoformat()])
    assert "referrals: granted 1, refused 0" in ticked.output, ticked.output
    with db.connection_context():
        assert Reward.get(Reward.kind == "referral_referrer").email_norm == "paul@example.com"  # the stronger key
    explained = runner.invoke(main, ["--config", str(config_file), "explain", "order", "shop1", "3"]).output
    assert f"attributed by widget to code {paul}" in explained and f"also present, weaker: meta to code {marie}" in explained, explained
    assert CliRunner().invoke(main, ["--config", str(config_file), "ledger", "check"]).exit_code == 0
