"""Frozen configuration objects: what the rest of bridge sees instead of YAML dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bridge.basics.money import Money


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # none | starttls | ssl
    username: str | None
    password: str | None = field(repr=False)
    sender: str


@dataclass(frozen=True)
class WorkerSettings:
    lease: timedelta
    close_groups_every: timedelta
    payouts_every: timedelta


@dataclass(frozen=True)
class ServerSettings:
    public_url: str
    secret_key: str = field(repr=False)
    database_url: str = field(repr=False)
    log_level: str
    smtp: SmtpSettings | None
    worker: WorkerSettings
    rate_limits: bool = True  # per-IP limits on the public endpoints (off: a proxy in front does it)
    admin_password: str | None = field(default=None, repr=False)  # None: no admin pages
    proxies: int = 0  # reverse proxies in front that set X-Forwarded-For/-Proto (trusted for client IPs)


@dataclass(frozen=True)
class SyncSettings:
    poll_every: timedelta | None  # None: no scheduled poll (webhooks and `bridge sync` only)
    overlap: timedelta
    backfill_from: date | None
    timeout: timedelta


@dataclass(frozen=True)
class WooCommerceSettings:
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    auth: str  # basic | query_string | oauth
    api_refund: bool
    extra_paid_statuses: tuple[str, ...]


@dataclass(frozen=True)
class PrestaShopSettings:
    webservice_key: str = field(repr=False)
    id_shop: int | None
    hint_secret: str | None = field(default=None, repr=False)  # shared with the bridgehints module
    back_office_url: str | None = None  # the back office's address (its folder name is the shop's own): order links


@dataclass(frozen=True)
class CustomSettings:
    """A hand-coded shop: its server signs the orders it sends bridge with this secret (HMAC-SHA256)."""

    signing_secret: str = field(repr=False)


@dataclass(frozen=True)
class EventEndpoint:
    """A URL of the shop's own systems that bridge posts its events to, signed with the endpoint's secret."""

    name: str
    url: str
    secret: str = field(repr=False)
    alert_email: str | None = None  # told when the endpoint has failed for a day and is paused


@dataclass(frozen=True)
class SepaDebtor:
    """The account SEPA credit transfers are paid from (the shop's own)."""

    name: str
    iban: str = field(repr=False)
    bic: str


@dataclass(frozen=True)
class Brand:
    """How the shop looks in e-mails and the widget."""

    colour: str = "#1f6feb"
    logo_url: str | None = None


@dataclass(frozen=True)
class Shop:
    id: str
    name: str
    platform: str
    url: str
    currency: str
    timezone: str
    locale: str
    tone: str
    sync: SyncSettings
    woocommerce: WooCommerceSettings | None = None
    prestashop: PrestaShopSettings | None = None
    custom: CustomSettings | None = None
    sepa: SepaDebtor | None = None
    brand: Brand = Brand()
    events: tuple[EventEndpoint, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        """Return the shop's time zone."""
        return ZoneInfo(self.timezone)

    def secrets(self) -> tuple[str, ...]:
        """Return the secret values this shop holds, so that logs can hide them."""
        found = []
        if self.woocommerce:
            found += [self.woocommerce.consumer_key, self.woocommerce.consumer_secret]
        if self.prestashop:
            found += [self.prestashop.webservice_key, self.prestashop.hint_secret]
        if self.custom:
            found.append(self.custom.signing_secret)
        if self.sepa:
            found.append(self.sepa.iban)
        found += [e.secret for e in self.events]
        return tuple(s for s in found if s)


@dataclass(frozen=True)
class Cashback:
    """A tier's reward: a rate of the eligible amount, or a fixed amount per member."""

    kind: str  # percent | fixed
    value: Decimal  # 0.08 for 8%, or the fixed amount

    def describe(self, currency: str) -> str:
        """Say the cashback as a person reads it."""
        if self.kind == "percent":
            return f"{(self.value * 100).normalize():f}%"
        return str(Money(self.value, currency))


@dataclass(frozen=True)
class Tier:
    buyers: int
    cashback: Cashback


# Coupon-aggregator and deal sites: a link or code whose clicks come from one of them has leaked to
# strangers hunting for discounts, and what it earns waits for an admin. Kept here; a campaign's
# `aggregator_domains` replaces the list. A domain also covers its subdomains (www., fr., ...).
AGGREGATOR_DOMAINS = (
    "dealabs.com", "ma-reduc.com", "radins.com", "igraal.com", "poulpeo.com", "cuponation.fr", "codespromo.fr",
    "codepromo.fr", "reduc.fr", "lareduction.fr", "promocodes.fr", "joinhoney.com", "retailmenot.com",
    "couponbirds.com", "dontpayfull.com", "knoji.com", "wethrift.com", "coupons.com", "savings.com",
    "slickdeals.net", "hotukdeals.com", "vouchercodes.co.uk", "mydealz.de", "groupon.com", "groupon.fr",
)


@dataclass(frozen=True)
class SocialBuyingCampaign:
    id: str
    shop: str
    currency: str
    name: str
    starts: date | None
    ends: date | None
    window: timedelta
    hold: timedelta
    eligible_products: str | tuple[str, ...]  # "same", "any", or product ids
    minimum_order: Money | None
    eligible_base: str  # paid_incl_tax | paid_excl_tax
    tiers: tuple[Tier, ...]
    member_cap: Money | None
    budget: Money | None
    payout: str  # refund | sepa | coupon
    approval: str  # automatic | manual
    clawback: str  # deduct | write_off
    attribution_window: timedelta
    type: str = "social_buying"
    aggregator_domains: tuple[str, ...] = AGGREGATOR_DOMAINS
    endpoints: tuple[str, ...] = ()  # the shop's event endpoints: where a change writes an event, it is for them


@dataclass(frozen=True)
class RewardSpec:
    """A reward given to someone: a coupon or cashback, as a percentage or an amount."""

    kind: str  # coupon | cashback
    amount: Money | None
    percent: Decimal | None
    minimum_order: Money | None
    valid_for: timedelta | None


@dataclass(frozen=True)
class ReferralCampaign:
    id: str
    shop: str
    currency: str
    name: str
    starts: date | None
    ends: date | None
    friend_reward: RewardSpec
    referrer_reward: RewardSpec
    new_customers_only: bool
    minimum_order: Money | None
    hold: timedelta
    attribution_window: timedelta
    max_rewards_per_referrer: int | None
    max_rewards_per_period: int | None
    period: timedelta | None
    payout: str  # for cashback rewards: refund | sepa | coupon
    approval: str = "automatic"  # automatic | manual
    type: str = "referral"
    aggregator_domains: tuple[str, ...] = AGGREGATOR_DOMAINS
    eligible_products: str | tuple[str, ...] = "any"  # "any", or product ids one of which the friend must buy
    budget: Money | None = None  # the most the referrers' rewards may add up to
    show_referrer_name: bool = False  # the friend's banner names the referrer by first name (personal data: off)
    endpoints: tuple[str, ...] = ()  # the shop's event endpoints (see SocialBuyingCampaign)


Campaign = SocialBuyingCampaign | ReferralCampaign  # one campaign of either kind


@dataclass(frozen=True)
class User:
    """Someone who logs in to the dashboard: an administrator sees every shop, an owner only theirs."""

    name: str
    password_hash: str = field(repr=False)
    role: str = "owner"  # admin | owner
    shops: tuple[str, ...] = ()

    def may_see(self, shop_id: str) -> bool:
        """Tell whether this user may see (and act on) a shop."""
        return self.role == "admin" or shop_id in self.shops


@dataclass(frozen=True)
class Config:
    path: str
    server: ServerSettings
    shops: tuple[Shop, ...]
    campaigns: tuple[SocialBuyingCampaign | ReferralCampaign, ...]
    users: tuple[User, ...] = ()

    def shop(self, shop_id: str) -> Shop:
        """Return the shop with this id, or raise KeyError naming the known ones."""
        for shop in self.shops:
            if shop.id == shop_id:
                return shop
        raise KeyError(f"no shop {shop_id!r}; known shops: {', '.join(s.id for s in self.shops) or 'none'}")

    def campaigns_of(self, shop_id: str) -> tuple:
        """Return the campaigns that run on one shop."""
        return tuple(c for c in self.campaigns if c.shop == shop_id)

    def secrets(self) -> tuple[str, ...]:
        """Return every secret value in the configuration (for log redaction)."""
        found = [self.server.secret_key, self.server.admin_password]
        if self.server.smtp and self.server.smtp.password:
            found.append(self.server.smtp.password)
        for shop in self.shops:
            found += shop.secrets()
        return tuple(s for s in found if s and len(s) >= 4)
