"""The read API for other systems: tokens per shop (created once, kept hashed, revoked), groups with their buyers,
rewards, payouts, statistics, approving and cancelling payouts; and every wrong call a clear 4xx changing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from bridge.cli import main as cli
from bridge.ledger.grants import settle_due_groups
from bridge.storage.db import db
from bridge.storage.models import AdminAction, ApiToken, GroupRow, Payout
from bridge.web import create_app
from tests.conftest import migrated_config
from tests.test_custom_shop import CAMPAIGN, hand_text
from tests.test_events import SETTLE, a_group

MANUAL = CAMPAIGN.replace("payout: sepa", "payout: sepa\n    approval: manual")


@pytest.fixture
def api(config_text, tmp_path):
    config = migrated_config(hand_text(config_text, MANUAL), tmp_path)
    client = create_app(config).test_client()
    db.connect(reuse_if_open=True)
    a_group(client)
    a_group(client, "2001", "2002", minutes=5)
    settle_due_groups(config, SETTLE)
    assert send_order_of_an_open_group(client)
    runner = CliRunner()

    def token(shop="hand", name="crm"):
        done = runner.invoke(cli, ["--config", str(tmp_path / "config.yaml"), "tokens", "create", shop, name])
        assert done.exit_code == 0, done.output
        return done.stdout.strip().splitlines()[0]
    yield config, client, token, runner, tmp_path / "config.yaml"
    db.close()


def send_order_of_an_open_group(client) -> bool:
    from tests.test_custom_shop import order, send

    return send(client, order("3001", minutes=100)).status_code == 200


def get(client, path, token, **params):
    return client.get(f"/api/v1/shops/hand/{path}", query_string=params, headers={"Authorization": f"Bearer {token}"})


def test_a_token_reads_the_shops_groups_rewards_payouts_and_figures(api):
    config, client, token, runner, path = api
    secret = token()
    assert secret.startswith("bt_") and len(secret) > 40
    row = ApiToken.get()
    assert row.token_hash != secret and secret not in row.token_hash

    page = get(client, "groups", secret, limit=2)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert [g["founder_order_id"] for g in page.json["groups"]] == ["1001", "2001"] and page.json["next_after"]
    rest = get(client, "groups", secret, limit=2, after=page.json["next_after"]).json
    assert [g["founder_order_id"] for g in rest["groups"]] == ["3001"] and rest["next_after"] is None
    assert [g["founder_order_id"] for g in get(client, "groups", secret, state="settled").json["groups"]] == ["1001", "2001"]
    assert [g["state"] for g in get(client, "groups", secret, state="open").json["groups"]] == ["open"]

    code = GroupRow.get(GroupRow.founder_id == "1001").code
    group = get(client, f"groups/{code.lower()}", secret).json
    assert (group["state"], group["size"], group["rate"]) == ("settled", 2, "0.1")
    assert [(b["order_id"], b["role"], b["reward"]["amount"]) for b in group["buyers"]] == [
        ("1001", "founder", "4.80"), ("1002", "member", "4.80")]
    assert group["buyers"][1]["brought_by_order_id"] == "1001" and group["buyers"][1]["email"] == "buyer1002@example.test"

    rewards = get(client, "rewards", secret).json["rewards"]
    assert len(rewards) == 4 and {r["state"] for r in rewards} == {"granted"}
    payouts = get(client, "payouts", secret, state="pending").json["payouts"]
    assert len(payouts) == 4 and {(p["method"], p["amount"]) for p in payouts} == {("sepa", "4.80")}

    figures = get(client, "stats", secret, since=(SETTLE - timedelta(days=60)).date().isoformat(),
                  until=SETTLE.date().isoformat()).json
    funnel = {s["step"]: s["count"] for s in figures["funnel"]}
    assert (funnel["orders"], funnel["joins"]) == (2, 2) and figures["money"]["EUR"]["granted"] == "19.20"
    listed = runner.invoke(cli, ["--config", str(path), "tokens", "list", "hand"])
    assert "hand/crm" in listed.output and "last used" in listed.output and secret not in listed.output


def test_approving_and_cancelling_through_the_api_are_the_review_queues_actions(api):
    config, client, token, runner, path = api
    secret = token()
    keys = [p.key for p in Payout.select().order_by(Payout.key)]
    headers = {"Authorization": f"Bearer {secret}"}
    done = client.post(f"/api/v1/shops/hand/payouts/{keys[0]}/approve", headers=headers)
    assert done.status_code == 200 and done.json["payout"]["state"] == "approved", done.json
    again = client.post(f"/api/v1/shops/hand/payouts/{keys[0]}/approve", headers=headers)
    assert again.status_code == 409 and "not pending" in again.json["error"]["message"]
    cancelled = client.post(f"/api/v1/shops/hand/payouts/{keys[1]}/cancel", json=dict(note="a test order"), headers=headers)
    assert cancelled.status_code == 200 and cancelled.json["payout"]["state"] == "cancelled"
    assert Payout.get(Payout.key == keys[1]).last_error == "cancelled by an admin: a test order"
    for body in (None, {}, dict(note=""), dict(note=3), dict(note="x" * 501)):
        bad = client.post(f"/api/v1/shops/hand/payouts/{keys[2]}/cancel", json=body, headers=headers)
        assert bad.status_code == 400 and bad.json["error"]["code"] == "bad_parameter", body
    assert Payout.get(Payout.key == keys[2]).state == "pending"
    actions = [(a.user, a.action, a.target, a.note, a.result) for a in AdminAction.select().order_by(AdminAction.id)]
    assert actions[0] == ("api token crm", "approve", keys[0], "", "1 approved")
    assert actions[1][:4] == ("api token crm", "approve", keys[0], "") and actions[1][4].startswith("refused: not pending")
    assert actions[2] == ("api token crm", "cancel", keys[1], "a test order", f"payout {keys[1]} cancelled")
    assert len(actions) == 3, "a bad request is not an action"


def test_tokens_open_only_their_shop_and_wrong_calls_are_clear_4xx(api, config_text):
    config, client, token, runner, path = api
    secret, other = token(), token("shop1", "crm")
    for headers, status, code in (({}, 401, "missing_token"), ({"Authorization": "Basic abc"}, 401, "missing_token"),
                                  ({"Authorization": "Bearer bt_nope"}, 401, "bad_token"),
                                  ({"Authorization": f"Bearer {other}"}, 403, "wrong_shop")):
        got = client.get("/api/v1/shops/hand/payouts", headers=headers)
        assert got.status_code == status and got.json["error"]["code"] == code, (headers, got.json)
        moved = client.post(f"/api/v1/shops/hand/payouts/{Payout.select().first().key}/approve", headers=headers)
        assert moved.status_code == status
    assert {p.state for p in Payout.select()} == {"pending"}
    for params, words in ((dict(limit=0), "limit: expected a whole number from 1 to 200"), (dict(limit="x"), "limit"),
                          (dict(after=-1), "after"), (dict(state="lost"), "state: expected one of open, closed, settled")):
        got = get(client, "groups", secret, **params)
        assert got.status_code == 400 and words in got.json["error"]["message"], (params, got.json)
    assert get(client, "payouts", secret, state="nope").status_code == 400
    for params in (dict(since="2026-13-01"), dict(since="2026-12-02", until="2026-12-01"), dict(since="2020-01-01"),
                   dict(campaign="nope")):
        got = get(client, "stats", secret, **params)
        assert got.status_code == 400 and got.json["error"]["code"] == "bad_parameter", (params, got.json)
    assert get(client, "groups/NOPE2345", secret).status_code == 404
    assert client.get("/api/v1/shops/nowhere/groups", headers={"Authorization": f"Bearer {secret}"}).status_code == 404
    assert client.post("/api/v1/shops/hand/payouts/payout:nope/approve",
                       headers={"Authorization": f"Bearer {secret}"}).status_code == 404
    revoked = runner.invoke(cli, ["--config", str(path), "tokens", "revoke", "hand", "crm"])
    assert revoked.exit_code == 0 and get(client, "groups", secret).status_code == 401
    assert token() != secret, "a new token may take the revoked one's name"
    for args, words in ((["tokens", "create", "hand", "Not A Name"], "lowercase letters"),
                        (["tokens", "create", "nowhere", "crm"], "no shop 'nowhere'"),
                        (["tokens", "create", "hand", "crm"], "already has a token named 'crm'"),
                        (["tokens", "revoke", "hand", "nobody"], "no token named 'nobody'")):
        done = runner.invoke(cli, ["--config", str(path)] + args)
        assert done.exit_code == 2 and words in done.output and "Traceback" not in done.output, (args, done.output)


def test_payouts_on_their_way_count_as_pending_in_the_figures(api):
    """Awaiting an IBAN, ready or in a SEPA file: the money has not left, so the figures say pending."""
    config, client, token, runner, path = api
    from bridge.delivery.payouts import deliver_payouts
    from bridge.ledger.actions import approve_payouts

    approve_payouts(config, [], "handgroup", SETTLE)
    deliver_payouts(config, SETTLE)
    assert {p.state for p in Payout.select()} == {"awaiting_iban"}
    figures = get(client, "stats", token(), since=(SETTLE - timedelta(days=60)).date().isoformat(),
                  until=SETTLE.date().isoformat()).json
    assert (figures["money"]["EUR"]["pending"], figures["money"]["EUR"]["paid"]) == ("19.20", "0.00")
