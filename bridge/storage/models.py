"""Peewee models: rows, keys and transactions; no business rules and no platform formats."""

from decimal import Decimal

import peewee

from bridge.storage.db import db
from bridge.storage.fields import AmountField, UTCDateTimeField


class BaseModel(peewee.Model):
    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One applied migration."""

    version = peewee.IntegerField(primary_key=True)
    description = peewee.TextField()
    applied_at = UTCDateTimeField()


class MemoVersion(BaseModel):
    """A version a writer bumps when rows that web processes memoise change, so that every process forgets them."""

    name = peewee.CharField(max_length=100, primary_key=True)
    version = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "memo_version"


class JobState(BaseModel):
    """A scheduled job: who holds its lease until when, and the last instant it ran for."""

    name = peewee.CharField(max_length=200, primary_key=True)
    owner = peewee.CharField(max_length=200, null=True)
    lease_until = UTCDateTimeField(null=True)
    last_run_for = UTCDateTimeField(null=True)
    last_error = peewee.TextField(null=True)


class JobRun(BaseModel):
    """One execution of a job, kept for operations (and to prove that leases hold)."""

    name = peewee.CharField(max_length=200, index=True)
    owner = peewee.CharField(max_length=200)
    run_for = UTCDateTimeField()
    started_at = UTCDateTimeField()
    finished_at = UTCDateTimeField(null=True)
    outcome = peewee.CharField(max_length=20, default="running")
    detail = peewee.TextField(null=True)


class OrderFact(BaseModel):
    """The newest snapshot of a shop order, as its connector normalised it."""

    shop = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    currency = peewee.CharField(max_length=3)
    paid = peewee.BooleanField()
    paid_at = UTCDateTimeField(null=True)  # kept from the first paid snapshot on: never moved by later reads
    paid_at_source = peewee.CharField(max_length=16, default="shop")  # shop | first_seen
    created_at = UTCDateTimeField()
    modified_at = UTCDateTimeField(null=True)
    total = AmountField()
    refunded = AmountField()  # the customer's refunds only
    own_refunded = AmountField(default=Decimal(0))  # bridge's own cashback refunds on the order
    refunded_lines = peewee.TextField(default="[]")  # JSON like lines: what the customer's refunds named
    refunded_shipping = AmountField(default=Decimal(0))
    cancelled = peewee.BooleanField()
    lines = peewee.TextField()  # JSON: [[product_id, quantity, total, tax], ...]
    customer_id = peewee.CharField(max_length=64, null=True)
    email = peewee.CharField(max_length=254, null=True)
    email_norm = peewee.CharField(max_length=254, null=True, index=True)
    billing_address = peewee.TextField(null=True)
    ip = peewee.CharField(max_length=64, null=True)
    user_agent = peewee.TextField(null=True)
    coupons = peewee.TextField(default="[]")  # JSON: the codes used on the order, upper-case
    stored_code = peewee.CharField(max_length=65, null=True)  # the share code the shop stored on the order
    first_name = peewee.CharField(max_length=64, null=True)

    class Meta:
        table_name = "order_fact"
        indexes = ((("shop", "order_id"), True),)


class ClaimFact(BaseModel):
    """An attribution claim: this order came through that group's link (and that member's tag)."""

    shop = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    founder_id = peewee.CharField(max_length=64)
    sponsor_id = peewee.CharField(max_length=64, default="")  # "" for the group's plain link
    source = peewee.CharField(max_length=16)
    at = UTCDateTimeField()

    class Meta:
        table_name = "claim_fact"
        # (shop, founder_id, order_id) covers the claimants query; without order_id SQLite prefers the unique
        # index and scans every claim of the shop.
        indexes = ((("shop", "order_id", "source", "founder_id", "sponsor_id"), True), (("shop", "founder_id", "order_id"), False))


class OverrideFact(BaseModel):
    """An admin's allow/refuse on one order of one campaign, with a note."""

    campaign = peewee.CharField(max_length=64)
    shop = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    action = peewee.CharField(max_length=8)
    note = peewee.TextField()
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "override_fact"
        indexes = ((("campaign", "order_id"), True),)


class MembershipRow(BaseModel):
    """The engine's decision for one order in one campaign, with every check as JSON."""

    campaign = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    role = peewee.CharField(max_length=8)
    founder_id = peewee.CharField(max_length=64, null=True)
    sponsor_id = peewee.CharField(max_length=64, null=True)
    paid_at = UTCDateTimeField(null=True)
    checks = peewee.TextField()
    flags = peewee.TextField(default="[]")
    decided_at = UTCDateTimeField()

    class Meta:
        table_name = "membership"
        # (migration 12 adds an index on (campaign, paid_at) for the dashboard's periods)
        indexes = ((("campaign", "order_id"), True), (("campaign", "founder_id", "role"), False))


class GroupRow(BaseModel):
    """A group and its share code; created once, when an order first founds it."""

    campaign = peewee.CharField(max_length=64)
    shop = peewee.CharField(max_length=64)
    founder_id = peewee.CharField(max_length=64)
    code = peewee.CharField(max_length=32, unique=True)
    currency = peewee.CharField(max_length=3)
    opened_at = UTCDateTimeField()
    closes_at = UTCDateTimeField()
    due_at = UTCDateTimeField(index=True)
    settled_at = UTCDateTimeField(null=True)
    size = peewee.IntegerField(null=True)
    rate = AmountField(null=True)
    fixed = AmountField(null=True)

    class Meta:
        table_name = "group"
        indexes = ((("campaign", "founder_id"), True),)


class MemberTag(BaseModel):
    """A member's personal tag, added to the group's link so that we know who brought whom."""

    campaign = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    tag = peewee.CharField(max_length=32, unique=True)

    class Meta:
        table_name = "member_tag"
        indexes = ((("campaign", "order_id"), True),)


class Reward(BaseModel):
    """Money (or a coupon) granted to someone, once: `key` is its idempotency key."""

    key = peewee.CharField(max_length=200, unique=True)
    campaign = peewee.CharField(max_length=64)
    shop = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    email_norm = peewee.CharField(max_length=254, null=True)
    kind = peewee.CharField(max_length=32)
    currency = peewee.CharField(max_length=3)
    amount = AmountField()
    state = peewee.CharField(max_length=16)  # granted | cancelled
    reason = peewee.TextField()
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("shop", "order_id"), False), (("campaign", "state"), False))


class Payout(BaseModel):
    """Delivering a reward: pending -> approved -> paid | failed | cancelled."""

    key = peewee.CharField(max_length=200, unique=True)
    reward = peewee.ForeignKeyField(Reward, backref="payouts")
    method = peewee.CharField(max_length=16)
    currency = peewee.CharField(max_length=3)
    amount = AmountField()
    deducted = AmountField()
    state = peewee.CharField(max_length=16, index=True)
    review = peewee.TextField(null=True)  # why it waits for an admin
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    external_ref = peewee.CharField(max_length=200, null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class Clawback(BaseModel):
    """Money to take back after a paid-out order was refunded: recovered from later rewards, or written off."""

    key = peewee.CharField(max_length=200, unique=True)
    reward = peewee.ForeignKeyField(Reward, backref="clawbacks")
    shop = peewee.CharField(max_length=64)
    email_norm = peewee.CharField(max_length=254, null=True, index=True)
    currency = peewee.CharField(max_length=3)
    amount = AmountField()
    recovered = AmountField()
    state = peewee.CharField(max_length=16)  # open | recovered | written_off
    created_at = UTCDateTimeField()


class Advocate(BaseModel):
    """A customer's personal referral code in one campaign (one per normalised e-mail)."""

    campaign = peewee.CharField(max_length=64)
    code = peewee.CharField(max_length=32, unique=True)
    email_norm = peewee.CharField(max_length=254)
    email = peewee.CharField(max_length=254)
    order_id = peewee.CharField(max_length=64, null=True)  # the purchase that made them an advocate
    created_at = UTCDateTimeField()
    first_name = peewee.CharField(max_length=64, null=True)  # shown to friends only where the campaign allows it

    class Meta:
        indexes = ((("campaign", "email_norm"), True),)


class ReferralClaim(BaseModel):
    """A sign that an order came through an advocate's code."""

    shop = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    code = peewee.CharField(max_length=32)
    source = peewee.CharField(max_length=16)
    at = UTCDateTimeField()

    class Meta:
        table_name = "referral_claim"
        indexes = ((("shop", "order_id", "code", "source"), True),)


class ReferralDecisionRow(BaseModel):
    """The referral engine's decision on a friend's order, with its checks."""

    campaign = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    code = peewee.CharField(max_length=32)
    state = peewee.CharField(max_length=16)
    due_at = UTCDateTimeField(null=True)
    checks = peewee.TextField()
    decided_at = UTCDateTimeField()

    class Meta:
        table_name = "referral_decision"
        indexes = ((("campaign", "order_id"), True),)


class WelcomeCoupon(BaseModel):
    """A friend's single-use welcome coupon, decided here and created in the shop by the delivery job."""

    campaign = peewee.CharField(max_length=64)
    advocate_code = peewee.CharField(max_length=32)
    email_norm = peewee.CharField(max_length=254)
    email = peewee.CharField(max_length=254)
    coupon_code = peewee.CharField(max_length=32, unique=True)
    percent = AmountField(null=True)
    amount = AmountField(null=True)
    currency = peewee.CharField(max_length=3)
    minimum_order = AmountField(null=True)
    expires_at = UTCDateTimeField(null=True)
    state = peewee.CharField(max_length=16, default="to_create")  # to_create | created | failed
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "welcome_coupon"
        indexes = ((("campaign", "email_norm"), True),)


class ShopSecret(BaseModel):
    """A secret bridge generated for a shop (the webhook signing secret), never shown in logs."""

    shop = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=64)
    value = peewee.CharField(max_length=200)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "shop_secret"
        indexes = ((("shop", "name"), True),)


class SyncCursor(BaseModel):
    """How far a shop's orders have been read: everything modified before `modified_after` is known."""

    shop = peewee.CharField(max_length=64, primary_key=True)
    modified_after = UTCDateTimeField()
    orders_read = peewee.BigIntegerField(default=0)
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "sync_cursor"


class EmailMessage(BaseModel):
    """An e-mail to send once, written in the same transaction as what caused it (an outbox row).

    Only references are kept (`ref`, JSON): the text is rendered when it is sent, from the current
    state, so "your cashback is now X" is true when it leaves.
    """

    key = peewee.CharField(max_length=200, unique=True)
    kind = peewee.CharField(max_length=32)
    shop = peewee.CharField(max_length=64)
    campaign = peewee.CharField(max_length=64, null=True)
    to_email = peewee.CharField(max_length=254)
    ref = peewee.TextField()
    state = peewee.CharField(max_length=16, index=True)  # queued | sent | failed
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    sent_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "email_message"


class BankAccount(BaseModel):
    """The account a person gave on the claim page for one SEPA payout."""

    payout = peewee.ForeignKeyField(Payout, unique=True, backref="bank_accounts")
    holder = peewee.CharField(max_length=70)
    iban = peewee.CharField(max_length=34)
    bic = peewee.CharField(max_length=11, null=True)
    created_at = UTCDateTimeField()


class SepaBatch(BaseModel):
    """One pain.001 file: exported, then marked sent once the bank took it."""

    message_id = peewee.CharField(max_length=35, unique=True)
    shop = peewee.CharField(max_length=64)
    currency = peewee.CharField(max_length=3)
    total = AmountField()
    count = peewee.IntegerField()
    execution_date = peewee.DateField()
    state = peewee.CharField(max_length=16)  # exported | sent
    created_at = UTCDateTimeField()
    sent_at = UTCDateTimeField(null=True)


class SepaBatchItem(BaseModel):
    """A payout in a batch (at most one batch per payout)."""

    batch = peewee.ForeignKeyField(SepaBatch, backref="items")
    payout = peewee.ForeignKeyField(Payout, unique=True)


class Click(BaseModel):
    """A visit through a share link or referral code (link-preview fetchers are not counted)."""

    shop = peewee.CharField(max_length=64)
    campaign = peewee.CharField(max_length=64)
    code = peewee.CharField(max_length=32)
    tag = peewee.CharField(max_length=32, null=True)
    at = UTCDateTimeField()
    channel = peewee.CharField(max_length=16, null=True)  # whatsapp, messenger, facebook, x, email, sms, copy...
    ip_hash = peewee.CharField(max_length=64, null=True)  # salted with a salt that changes every day
    ua_family = peewee.CharField(max_length=32, null=True)
    referrer_domain = peewee.CharField(max_length=253, null=True)

    class Meta:
        indexes = ((("code", "at"), False), (("shop", "at"), False))


class Product(BaseModel):
    """What a share link shows of the product: name, page and image, read from the shop and cached."""

    shop = peewee.CharField(max_length=64)
    product_id = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=255)
    url = peewee.TextField()
    image_url = peewee.TextField(null=True)
    fetched_at = UTCDateTimeField()

    class Meta:
        indexes = ((("shop", "product_id"), True),)


class LinkEvent(BaseModel):
    """What the widget reports of a link: shown on a thank-you page (view), shared (share), landed on (landing)."""

    shop = peewee.CharField(max_length=64)
    campaign = peewee.CharField(max_length=64)
    code = peewee.CharField(max_length=32)
    tag = peewee.CharField(max_length=32, null=True)
    kind = peewee.CharField(max_length=8)  # view | share | landing
    channel = peewee.CharField(max_length=16, null=True)
    at = UTCDateTimeField()

    class Meta:
        table_name = "link_event"
        indexes = ((("shop", "kind", "at"), False),)  # when the widget was last seen on each kind of page


class StatCount(BaseModel):
    """Clicks and link events rolled up per shop, campaign, UTC hour and kind: the total (`dim` ""), and the same
    split by channel (`dim` "c:whatsapp", "c:" for none) and, for clicks, by referring site ("d:example.com")."""

    shop = peewee.CharField(max_length=64)
    campaign = peewee.CharField(max_length=64)
    hour = UTCDateTimeField()
    kind = peewee.CharField(max_length=8)  # click | view | share | landing
    dim = peewee.CharField(max_length=256, default="")
    count = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "stat_count"
        # the second index serves the day-by-day totals (`dim` ""), the first everything else
        indexes = ((("shop", "hour", "campaign", "kind", "dim"), True), (("shop", "dim", "hour"), False))


class StatDay(BaseModel):
    """StatCount's rows by channel and by referring site summed per UTC day: a period reads these for its whole
    UTC days and the hourly rows only for the hours at its two ends (the totals stay hourly: a shop's day is not
    a UTC day)."""

    shop = peewee.CharField(max_length=64)
    campaign = peewee.CharField(max_length=64)
    day = UTCDateTimeField()  # 00:00 UTC
    kind = peewee.CharField(max_length=8)
    dim = peewee.CharField(max_length=256)
    count = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "stat_day"
        indexes = ((("shop", "day", "campaign", "kind", "dim"), True),)


class LinkActivity(BaseModel):
    """A personal link's first view, share and click, and how often it was shared and clicked."""

    campaign = peewee.CharField(max_length=64)
    code = peewee.CharField(max_length=32)
    tag = peewee.CharField(max_length=32, default="")
    first_view_at = UTCDateTimeField(null=True)
    first_share_at = UTCDateTimeField(null=True)
    first_click_at = UTCDateTimeField(null=True)
    shares = peewee.BigIntegerField(default=0)
    clicks = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "link_activity"
        indexes = ((("code", "tag"), True), (("tag",), False))


class StatCursor(BaseModel):
    """How far a rolled-up source table has been counted: every row up to `last_id` is in the counts."""

    name = peewee.CharField(max_length=32, primary_key=True)
    last_id = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "stat_cursor"


class AdminAction(BaseModel):
    """What someone did on the dashboard: who, when, what, on what, the note they gave and what came of it."""

    shop = peewee.CharField(max_length=64)
    user = peewee.CharField(max_length=64)
    action = peewee.CharField(max_length=32)
    target = peewee.CharField(max_length=200)
    note = peewee.TextField(default="")
    result = peewee.TextField()
    at = UTCDateTimeField()

    class Meta:
        table_name = "admin_action"
        indexes = ((("shop", "at"), False),)


class ShopSignal(BaseModel):
    """The last time something of a shop's setup was seen working or failing (a webhook accepted, refused)."""

    shop = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=32)
    at = UTCDateTimeField()
    count = peewee.BigIntegerField(default=1)
    detail = peewee.TextField(default="")

    class Meta:
        table_name = "shop_signal"
        indexes = ((("shop", "name"), True),)


class BuyerStat(BaseModel):
    """One social-buying decision as the statistics read it: the order's money, who brought the buyer, how deep
    in the chain, when the buyer's own link was first used and the group's first friend came. Kept up to date
    from `BuyerMark`s by `ledger.buyers`, so that a period's figures are sums over one narrow index range."""

    shop = peewee.CharField(max_length=64)
    campaign = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    paid_at = UTCDateTimeField()
    role = peewee.CharField(max_length=8)
    through = peewee.BooleanField()  # came through a link (a member, or a claim that was refused)
    currency = peewee.CharField(max_length=3)
    total = AmountField()
    net = AmountField()  # net of the customer's refunds
    eligible = AmountField()  # what the campaign rewards of it, net of refunds (members only; 0 otherwise)
    email = peewee.CharField(max_length=254, null=True)
    brought_by = peewee.CharField(max_length=254, null=True)  # a member's sponsor (or founder), by normalised e-mail
    depth = peewee.IntegerField(default=0)  # a member's place in the line of "brought by" inside the group
    shared_at = UTCDateTimeField(null=True)  # the buyer's own link first shared or clicked
    first_friend_at = UTCDateTimeField(null=True)  # a founder's: the group's first member paid

    class Meta:
        table_name = "buyer_stat"
        indexes = ((("campaign", "order_id"), True), (("campaign", "paid_at"), False))


class BuyerMark(BaseModel):
    """An order whose `BuyerStat` rows are to be worked out again (its snapshot, decision or link changed).
    Appended in the writer's transaction, removed by the roll-up that recomputes it: a mark is never lost."""

    id = peewee.BigAutoField()
    shop = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)

    class Meta:
        table_name = "buyer_mark"


class CustomOrderKey(BaseModel):
    """A hand-coded shop's order key, as its server sent it with the order (SHA-256: the thank-you page shows
    the key itself, and the widget's report is checked against it)."""

    shop = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    key_hash = peewee.CharField(max_length=64)

    class Meta:
        table_name = "custom_order_key"
        indexes = ((("shop", "order_id"), True),)


class Event(BaseModel):
    """Something bridge decided, for the shop's own systems: written in the transaction of the change, once (by
    key), and only for a shop with event endpoints. The id orders a shop's events."""

    id = peewee.BigAutoField()
    key = peewee.CharField(max_length=400, unique=True)
    shop = peewee.CharField(max_length=64)
    type = peewee.CharField(max_length=40)
    group = peewee.CharField(max_length=200, null=True)  # campaign:founder order, for a group's events
    at = UTCDateTimeField()
    data = peewee.TextField()  # JSON

    class Meta:
        table_name = "event"
        indexes = ((("shop", "at"), False),)


class EventDelivery(BaseModel):
    """One event for one endpoint: pending until the endpoint answers 2xx (retried with backoff), then delivered."""

    id = peewee.BigAutoField()
    event = peewee.BigIntegerField()
    shop = peewee.CharField(max_length=64)
    endpoint = peewee.CharField(max_length=64)
    state = peewee.CharField(max_length=16)  # pending | delivered
    attempts = peewee.IntegerField(default=0)
    next_at = UTCDateTimeField()
    last_status = peewee.IntegerField(null=True)
    last_error = peewee.TextField(null=True)
    delivered_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "event_delivery"
        indexes = ((("shop", "endpoint", "event"), True), (("shop", "endpoint", "state", "event"), False))


class EventAttempt(BaseModel):
    """The delivery log: every attempt to post an event, with the endpoint's answer."""

    id = peewee.BigAutoField()
    shop = peewee.CharField(max_length=64)
    endpoint = peewee.CharField(max_length=64)
    event = peewee.BigIntegerField()
    at = UTCDateTimeField()
    status = peewee.IntegerField(null=True)  # None: no answer (refused, timed out)
    error = peewee.TextField(null=True)
    ms = peewee.IntegerField()

    class Meta:
        table_name = "event_attempt"
        indexes = ((("shop", "endpoint", "at"), False),)


class EndpointState(BaseModel):
    """An event endpoint's health: failing since when, paused (after a day of failures) and when its owner was told."""

    shop = peewee.CharField(max_length=64)
    endpoint = peewee.CharField(max_length=64)
    state = peewee.CharField(max_length=16, default="active")  # active | paused
    failing_since = UTCDateTimeField(null=True)
    paused_at = UTCDateTimeField(null=True)
    delivered_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "endpoint_state"
        indexes = ((("shop", "endpoint"), True),)


class ApiToken(BaseModel):
    """A token another system reads one shop's data with (the read API): only its SHA-256 is kept."""

    shop = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=64)
    token_hash = peewee.CharField(max_length=64, unique=True)
    created_at = UTCDateTimeField()
    last_used_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "api_token"
        indexes = ((("shop", "name"), True),)


class CouponCode(BaseModel):
    """A single-use coupon code a custom shop's owner created and uploaded, for one amount; taken once, by one payout."""

    shop = peewee.CharField(max_length=64)
    code = peewee.CharField(max_length=64)
    currency = peewee.CharField(max_length=3)
    amount = AmountField()
    uploaded_at = UTCDateTimeField()
    payout_key = peewee.CharField(max_length=200, null=True, unique=True)
    used_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "coupon_code"
        indexes = ((("shop", "code"), True), (("shop", "amount", "payout_key"), False))
