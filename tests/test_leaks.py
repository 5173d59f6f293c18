"""Leaks (issue 17): a link or code clicked from a coupon-aggregator site is flagged, its rewards held for review."""

from dataclasses import replace
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.config import ConfigError, load_config_text
from bridge.facts.ingest import ingest
from bridge.ledger.referrals import issue_advocate
from bridge.rewards.leaks import aggregator_of
from bridge.storage.db import db
from bridge.storage.models import Click, GroupRow, MembershipRow, Payout, Reward
from tests.engine_data import T0, claim, order
from tests.test_referral import with_referral_campaign


def shop1(o):
    return replace(o, shop="shop1")


def click(campaign: str, code: str, domain: str | None, minutes: int = 0) -> None:
    Click.create(shop="shop1", campaign=campaign, code=code, at=T0 + timedelta(minutes=minutes), referrer_domain=domain)


def test_aggregator_sites_match_with_their_subdomains_only():
    sites = ("dealabs.com", "ma-reduc.com")
    assert aggregator_of(["www.Dealabs.com"], sites) == "dealabs.com"
    assert aggregator_of(["l.facebook.com", None, "fr.ma-reduc.com."], sites) == "ma-reduc.com"
    assert aggregator_of(["notdealabs.com", "dealabs.com.evil.example", "example.com"], sites) is None
    assert aggregator_of([], sites) is None


def test_the_kept_list_is_the_default_and_a_campaign_may_replace_it(config_text):
    config = load_config_text(config_text)
    assert "dealabs.com" in config.campaigns[0].aggregator_domains
    mine = load_config_text(config_text + "    aggregator_domains: [WWW.Bons-Plans.example, dealabs.com]\n")
    assert mine.campaigns[0].aggregator_domains == ("bons-plans.example", "dealabs.com")
    with pytest.raises(ConfigError) as bad:
        load_config_text(config_text + "    aggregator_domains: [\"https://dealabs.com/x\"]\n")
    assert "aggregator_domains" in str(bad.value) and "expected a domain like dealabs.com" in str(bad.value), bad.value


def test_joins_through_a_leaked_link_are_flagged_and_their_cashback_waits(config_file):
    config, _ = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[shop1(order(1))], now=T0)
        code = GroupRow.get(GroupRow.founder_id == "1").code
        click("group1", code, "l.facebook.com", 1)
        click("group1", code, "www.dealabs.com", 2)  # someone posted the link on a deals site
        ingest(config, orders=[shop1(order(2, minutes=5))], claims=[replace(claim("2", "1", minutes=5), shop="shop1")],
               now=T0)
        member = MembershipRow.get(MembershipRow.order_id == "2")
        assert member.role == "member" and "leak_aggregator" in member.flags and "dealabs.com" in member.flags
        assert "leak_aggregator" not in MembershipRow.get(MembershipRow.order_id == "1").flags  # the founder's own order
    runner = CliRunner()
    runner.invoke(main, ["--config", str(config_file), "tick", "--now", (T0 + timedelta(days=17)).isoformat()])
    with db.connection_context():
        payouts = {r.order_id: p for r in Reward.select() for p in r.payouts}
        assert payouts["2"].state == "pending" and "dealabs.com, a coupon site" in payouts["2"].review
        assert payouts["1"].review is None
    explained = runner.invoke(main, ["--config", str(config_file), "explain", "order", "shop1", "2"]).output
    assert "FLAG leak_aggregator: the link was posted on dealabs.com" in explained, explained


def test_a_leak_seen_after_the_last_join_still_holds_the_cashback_at_closing(config_file):
    config, _ = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[shop1(order(1))], now=T0)
        code = GroupRow.get(GroupRow.founder_id == "1").code
        ingest(config, orders=[shop1(order(2, minutes=5))], claims=[replace(claim("2", "1", minutes=5), shop="shop1")],
               now=T0)
        click("group1", code, "radins.com", 60)  # after every decision was made
    CliRunner().invoke(main, ["--config", str(config_file), "tick", "--now", (T0 + timedelta(days=17)).isoformat()])
    with db.connection_context():
        held = Payout.select().join(Reward).where(Reward.order_id == "2").get()
        assert held.state == "pending" and "radins.com" in held.review


def test_a_referral_code_clicked_from_a_coupon_site_holds_the_referrers_reward(config_file):
    config, camp = with_referral_campaign(config_file)
    with db.connection_context():
        ingest(config, orders=[shop1(order(1, email="marie@example.com"))], now=T0)
        code = issue_advocate(camp, "marie@example.com", "1", T0)
        click("refer", code, "fr.ma-reduc.com", 3)
        ingest(config, orders=[shop1(order(2, minutes=10))], now=T0, referral_claims=[("shop1", "2", code, "widget", T0)])
    CliRunner().invoke(main, ["--config", str(config_file), "tick", "--now", (T0 + timedelta(days=15)).isoformat()])
    with db.connection_context():
        reward = Reward.get(Reward.kind == "referral_referrer")
        payout = reward.payouts.get()
        assert payout.state == "pending" and "posted on ma-reduc.com" in payout.review
