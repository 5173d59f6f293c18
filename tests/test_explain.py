"""Explanations say exactly what happened (issue 14): granted amounts after settlement, kept payment
instants, and addresses the shop never gave."""

from dataclasses import replace
from datetime import timedelta

from click.testing import CliRunner

from bridge.cli import main
from bridge.facts.ingest import ingest
from bridge.rewards.groups import decide_order, forming_group
from bridge.storage.db import db
from bridge.storage.models import GroupRow
from tests.engine_data import T0, campaign, claim, order
from tests.test_lifecycle import HOLD_END, settle_pair, setup, shop_order


def cli(config_file, *args):
    return CliRunner().invoke(main, ["--config", str(config_file), *args], catch_exceptions=False)


def test_after_settlement_a_group_shows_what_was_granted_and_the_clawback(config_file):
    config = setup(config_file)
    settle_pair(config, config_file)
    with db.connection_context():
        code = GroupRow.get().code
        refunded = replace(shop_order(2, minutes=1), refunded=shop_order(2).total, modified_at=HOLD_END)
        ingest(config, orders=[refunded], now=HOLD_END + timedelta(hours=1))
    shown = cli(config_file, "explain", "group", code, "--now", (HOLD_END + timedelta(hours=2)).isoformat()).output
    assert "order 2, brought by 1: granted 5.00 EUR" in shown, shown
    assert "clawback 5.00 EUR: open" in shown and "order 1: granted 5.00 EUR" in shown


def test_a_refunded_order_keeps_the_instant_it_was_paid(config_file):
    config = setup(config_file)
    with db.connection_context():
        ingest(config, orders=[shop_order(1)], now=T0)
        # a later read where the shop no longer says paid nor gives the date (a refunded state)
        gone = replace(shop_order(1), paid=False, paid_at=None, refunded=shop_order(1).total,
                       modified_at=T0 + timedelta(days=1))
        ingest(config, orders=[gone], now=T0 + timedelta(days=1))
    shown = cli(config_file, "explain", "order", "shop1", "1").output
    assert f"paid at {T0.isoformat()}" in shown and "never paid" not in shown, shown
    assert "opened its own group" in shown


def test_an_address_the_shop_never_gave_is_not_checked_and_says_so():
    founder = replace(order(1), billing_address=None)
    friend = replace(order(2, minutes=5), billing_address=None)
    decided = decide_order(campaign(), friend, claim(2, 1), forming_group(campaign(), founder), None)
    texts = {c.rule: c.text for c in decided.checks}
    assert texts["self_referral_address"] == "billing address not checked (the shop gave none)"


def test_a_link_of_another_campaign_is_said_so(config_file):
    config = setup(config_file, extra="""
  - id: group2
    type: social_buying
    shop: shop1
    window: 48h
    hold: 14d
    eligible_products: [p2]
    tiers:
      - buyers: 2
        cashback: 5%
""")
    with db.connection_context():
        ingest(config, orders=[shop_order(1)], now=T0)
        ingest(config, orders=[shop_order(2, minutes=1, product="p2")],
               claims=[replace(claim(2, 1, minutes=1), shop="shop1")], now=T0)
    shown = cli(config_file, "explain", "order", "shop1", "2").output
    assert "is not one of this campaign's: never opened in it" in shown, shown
