"""The engine's vocabulary: facts (orders, claims, overrides) in, decisions with reasons out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

# Attribution sources, strongest first (PRODUCT.md, Attribution).
SOURCES = ("coupon", "widget", "meta")


@dataclass(frozen=True)
class Line:
    """One order line: amounts after discounts, tax apart."""

    product_id: str
    quantity: int
    total: Decimal
    tax: Decimal = Decimal(0)


@dataclass(frozen=True)
class Order:
    """The latest snapshot of one shop order, in bridge's terms (connectors build it)."""

    shop: str
    id: str
    currency: str
    paid: bool  # currently in a paid state
    paid_at: datetime | None  # when it was first paid (None: never, or the shop gave no date yet)
    created_at: datetime
    total: Decimal  # what the customer paid, tax and shipping included, before refunds
    refunded: Decimal = Decimal(0)  # positive sum of refunds
    cancelled: bool = False
    lines: tuple[Line, ...] = ()
    customer_id: str | None = None
    email: str | None = None
    billing_address: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    modified_at: datetime | None = None  # the shop's last-modified instant: newer snapshots win
    # "shop": the shop dated the payment; "first_seen": it gave none (cash on delivery), so paid_at is the
    # instant bridge first saw the order paid, kept from then on.
    paid_at_source: str = "shop"
    own_refunded: Decimal = Decimal(0)  # bridge's own cashback refunds on this order: never the customer's
    # What the customer's refunds said they gave back (positive amounts): products, and shipping (tax
    # included). The rest of `refunded`, if any, is unspecified and spread pro rata.
    refunded_lines: tuple[Line, ...] = ()
    refunded_shipping: Decimal = Decimal(0)
    # The coupon codes used on the order, upper-case: a code tied to a link or a referrer is a claim.
    coupons: tuple[str, ...] = ()
    # The share code (`CODE` or `CODE.TAG`) the shop stored on the order at checkout, from the first-party
    # cookie the widget keeps (bridge's WordPress plugin, the PrestaShop module): the order-meta key.
    stored_code: str | None = None
    first_name: str | None = None  # the buyer's first name (billing): shown only where a campaign allows it

    @property
    def customer_total(self) -> Decimal:
        """What the customer paid, less what bridge itself gave back on the order."""
        return self.total - self.own_refunded

    @property
    def key(self) -> tuple[str, str]:
        return (self.shop, self.id)

    @property
    def fully_refunded(self) -> bool:
        """Everything the customer paid has gone back to them (bridge's own cashback refunds aside)."""
        return is_fully_refunded(self.total, self.refunded, self.own_refunded)

    @property
    def counts(self) -> bool:
        """Tell whether the order still counts as a purchase (paid, not cancelled, not fully refunded)."""
        return counts_as_purchase(self.paid, self.cancelled, self.total, self.refunded, self.own_refunded)


def is_fully_refunded(total: Decimal, refunded: Decimal, own_refunded: Decimal) -> bool:
    """An order's customer refunds reach what the customer paid (its total less bridge's own refunds)."""
    return total > 0 and refunded >= total - own_refunded


def counts_as_purchase(paid: bool, cancelled: bool, total: Decimal, refunded: Decimal, own_refunded: Decimal) -> bool:
    """The rule of `Order.counts` on bare values, for readers that need nothing else of an order."""
    return bool(paid) and not cancelled and not is_fully_refunded(total, refunded, own_refunded)


@dataclass(frozen=True)
class Claim:
    """A sign that an order came through a link: which group (by its founder) and which member shared it."""

    shop: str
    order_id: str
    founder_id: str  # the group's founding order
    sponsor_id: str | None  # the member whose tagged link was used (None: the group's plain link)
    source: str  # coupon | widget | meta
    at: datetime

    def strength(self) -> tuple:
        """Sort key: the strongest source first, then the earliest, then the smallest founder id."""
        return (SOURCES.index(self.source), self.at, self.founder_id, self.sponsor_id or "")


PAST = {"allow": "allowed", "refuse": "refused"}  # an override's action as explanations say it


@dataclass(frozen=True)
class Override:
    """An admin's decision on a refused or flagged order, with a note."""

    shop: str
    order_id: str
    action: str  # allow | refuse
    note: str


@dataclass(frozen=True)
class Check:
    """One rule applied to one order, and its outcome in plain words."""

    rule: str
    passed: bool
    text: str


@dataclass(frozen=True)
class Membership:
    """An order's place in the social-buying loop, with every check that led there."""

    order_id: str
    role: str  # founder | member | none
    founder_id: str | None  # the group it founded or joined
    sponsor_id: str | None  # who brought it (for members)
    checks: tuple[Check, ...]
    flags: tuple[Check, ...] = ()

    @property
    def refusals(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)


@dataclass(frozen=True)
class MemberAmount:
    """What one member of a group earns, and why."""

    order_id: str
    counted: bool
    eligible: Decimal
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class GroupOutcome:
    """A group's state at an instant: open or closed, its size, tier, and each member's amount."""

    founder_id: str
    currency: str
    opened_at: datetime
    closes_at: datetime
    due_at: datetime
    state: str  # open | closed | due
    size: int
    rate: Decimal | None  # percentage tiers: the rate everybody gets (after any budget scaling)
    fixed: Decimal | None  # fixed tiers: the amount everybody gets
    tier_buyers: int | None
    next_tier_buyers: int | None
    members: tuple[MemberAmount, ...]
    notes: tuple[str, ...] = field(default=())

    def amount_of(self, order_id: str) -> Decimal | None:
        """A member's amount, None for an order that is not in the group."""
        return next((m.amount for m in self.members if m.order_id == order_id), None)

    @property
    def total(self) -> Decimal:
        return sum((m.amount for m in self.members), Decimal(0))
