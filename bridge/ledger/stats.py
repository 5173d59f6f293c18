"""The owner's statistics for one shop (one campaign or all), over days of the shop's time zone.

Definitions (the README repeats them for shop owners):
- views, shares, landings: what the widget reports (a link shown on a thank-you page, a share button
  pressed or the link copied, a shop page opened through a link); clicks: visits through a link.
- orders: paid orders that came through a link (a group's or a referrer's), joined or not; joins: those
  that joined a group, plus referral friends' orders not refused.
- revenue brought: the friends' orders (joined or converted), total and net of the customer's refunds;
  eligible: the part the campaign rewards, net of refunds.
- granted, paid, pending, clawed back: rewards granted in the period and what became of them.
- K: friends' orders per buyer; chain depth: the longest line of "brought by" inside a group; sharing
  buyers: buyers whose own link was shared or clicked.
Counts of views, shares, clicks and landings come from hourly roll-ups (`ledger.rollup`); orders and
money from the decisions of the period (an index on the payment instant), never from every click.
"""

from __future__ import annotations

import json
import statistics
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from peewee import JOIN, Value, fn

from bridge.basics.money import Money
from bridge.config.model import Config
from bridge.rewards import amounts
from bridge.storage.bulk import chunks
from bridge.storage.db import db, is_postgresql
from bridge.storage.fields import AmountField, UTCDateTimeField
from bridge.storage.models import (
    Clawback,
    LinkActivity,
    MembershipRow,
    MemberTag,
    OrderFact,
    Payout,
    ReferralDecisionRow,
    Reward,
    StatCount,
)
from bridge.storage.rows import lines_of

ZERO = Decimal(0)
STEPS = ("views", "shares", "clicks", "landings", "orders", "joins")
KIND_STEP = {"view": "views", "share": "shares", "click": "clicks", "landing": "landings"}
PENDING = ("pending", "approved", "processing", "failed")
TOP = 20


@dataclass(frozen=True)
class Period:
    """Whole days, first and last included, in a time zone."""

    since: date
    until: date
    zone: ZoneInfo

    def bounds(self) -> tuple[datetime, datetime]:
        """The period's first and first-after instants."""
        start = datetime.combine(self.since, time(), self.zone)
        end = datetime.combine(self.until + timedelta(days=1), time(), self.zone)
        return start, end

    def day_of(self, instant: datetime) -> date:
        """The shop's day of an instant of the period (found among the days' first instants: no time zone
        arithmetic per row)."""
        starts, days = self._starts
        return days[max(0, bisect_right(starts, instant) - 1)]

    @cached_property
    def _starts(self) -> tuple[list[datetime], list[date]]:
        days = self.days()
        return [datetime.combine(d, time(), self.zone).astimezone(timezone.utc) for d in days], days

    def days(self) -> list[date]:
        return [self.since + timedelta(days=i) for i in range((self.until - self.since).days + 1)]


def shop_stats(config: Config, shop_id: str, period: Period, campaign_id: str | None = None,
               now: datetime | None = None) -> dict:
    """Every figure of the dashboard for a shop (or one of its campaigns) over a period, as plain JSON values."""
    campaigns = [c for c in config.campaigns_of(shop_id) if campaign_id in (None, c.id)]
    if campaign_id is not None and not campaigns:
        raise LookupError(f"shop {shop_id!r} has no campaign {campaign_id!r}")
    ids = [c.id for c in campaigns]
    start, end = period.bounds()
    days = {d: dict(views=0, shares=0, clicks=0, landings=0, orders=0, joins=0, revenue=Counter()) for d in period.days()}
    funnel = Counter()
    _counts(shop_id, ids, start, end, period, days, funnel)
    social = [c for c in campaigns if c.type == "social_buying"]
    rows = _social(shop_id, social, start, end)
    _count_orders(rows, period, days, funnel)
    referral = _referral(shop_id, [c for c in campaigns if c.type == "referral"], start, end, period, days, funnel)
    revenue, net_of = _revenue(shop_id, social, rows, referral, period, days)
    return dict(
        shop=shop_id, campaign=campaign_id, since=period.since.isoformat(), until=period.until.isoformat(),
        time_zone=str(period.zone),
        funnel=[dict(step=s, count=funnel[s], rate=_ratio(funnel[s], funnel[STEPS[i - 1]]) if i else None)
                for i, s in enumerate(STEPS)],
        channels=_channels(shop_id, ids, start, end), domains=_domains(shop_id, ids, start, end),
        money=_money(ids, start, end, revenue),
        budgets=_budgets(campaigns, now or end),
        virality=_virality(rows), ambassadors=_ambassadors(shop_id, rows, net_of),
        days=[dict(day=d.isoformat(), **{k: v for k, v in row.items() if k != "revenue"},
                   revenue={c: amount_text(a, c) for c, a in sorted(row["revenue"].items())}) for d, row in days.items()])


def _ratio(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _counts(shop, ids, start, end, period, days, funnel) -> None:
    """Views, shares, clicks and landings per day (the shop's days, from UTC hours)."""
    query = (StatCount.select(StatCount.hour, StatCount.kind, fn.SUM(StatCount.count))
             .where((StatCount.shop == shop) & (StatCount.hour >= start) & (StatCount.hour < end)
                    & StatCount.campaign.in_(ids) & (StatCount.dim == "")).group_by(StatCount.hour, StatCount.kind))
    for hour, kind, count in query.tuples():
        step = KIND_STEP[kind]
        days[period.day_of(hour)][step] += int(count)
        funnel[step] += int(count)


def _channels(shop, ids, start, end) -> list[dict]:
    """Shares and clicks per channel ('unknown' where the link was used without one)."""
    found: dict[str, Counter] = defaultdict(Counter)
    query = (StatCount.select(StatCount.dim, StatCount.kind, fn.SUM(StatCount.count))
             .where((StatCount.shop == shop) & (StatCount.hour >= start) & (StatCount.hour < end)
                    & StatCount.campaign.in_(ids) & StatCount.kind.in_(("share", "click")) & StatCount.dim.startswith("c:"))
             .group_by(StatCount.dim, StatCount.kind))
    for dim, kind, count in query.tuples():
        found[dim[2:] or "unknown"][KIND_STEP[kind]] += int(count)
    return sorted((dict(channel=c, shares=n["shares"], clicks=n["clicks"]) for c, n in found.items()),
                  key=lambda row: (-row["clicks"], -row["shares"], row["channel"]))


def _domains(shop, ids, start, end) -> list[dict]:
    """Clicks per referring site, the most first."""
    total = fn.SUM(StatCount.count)
    query = (StatCount.select(StatCount.dim, total)
             .where((StatCount.shop == shop) & (StatCount.hour >= start) & (StatCount.hour < end)
                    & StatCount.campaign.in_(ids) & (StatCount.kind == "click") & StatCount.dim.startswith("d:"))
             .group_by(StatCount.dim).order_by(total.desc(), StatCount.dim).limit(TOP))
    return [dict(domain=d[2:], clicks=int(n)) for d, n in query.tuples()]  # "": no referring site (typed, an app, private)


class _Buyer:
    """One decision of the period with what the figures need of its order and of the buyer's own link."""

    __slots__ = ("campaign", "order_id", "role", "founder_id", "sponsor_id", "paid_at", "through", "email",
                 "currency", "total", "refunded", "lines", "refunded_lines", "refunded_shipping", "shared_at")

    def __init__(self, campaign, order_id, role, founder_id, sponsor_id, paid_at, through, email, currency, total,
                 refunded, lines, refunded_lines, refunded_shipping, share_at, click_at) -> None:
        # The driver's own values, converted here as the fields would (peewee's per-row conversion cost more)
        self.campaign, self.order_id, self.role, self.founder_id = campaign, order_id, role, founder_id
        self.sponsor_id, self.paid_at, self.through, self.email = sponsor_id, _instant(paid_at), bool(through), email
        # amounts stay as the driver gave them (text on SQLite) until a friend's order needs them: see money()
        self.currency, self.total, self.refunded, self.lines = currency, total, refunded, lines
        self.refunded_lines, self.refunded_shipping = refunded_lines, refunded_shipping
        first = share_at if click_at is None or (share_at is not None and share_at < click_at) else click_at
        self.shared_at = _instant(first) if first is not None else None


def _social(shop, campaigns, start, end) -> list[_Buyer]:
    """The period's social-buying decisions in one query: the order's facts and the buyer's link activity with it."""
    if not campaigns:
        return []
    # (a member came through a link by definition: the text of the checks is searched for the others only)
    through = (MembershipRow.role == "member") | MembershipRow.checks.contains('["attributed", true')
    query = (MembershipRow.select(
        MembershipRow.campaign, MembershipRow.order_id, MembershipRow.role, MembershipRow.founder_id,
        MembershipRow.sponsor_id, MembershipRow.paid_at, through.alias("through"), OrderFact.email_norm, OrderFact.currency,
        OrderFact.total, OrderFact.refunded, OrderFact.lines, OrderFact.refunded_lines, OrderFact.refunded_shipping,
        LinkActivity.first_share_at, LinkActivity.first_click_at)
        .join(OrderFact, JOIN.LEFT_OUTER, on=(OrderFact.shop == shop) & (OrderFact.order_id == MembershipRow.order_id))
        .join_from(MembershipRow, MemberTag, JOIN.LEFT_OUTER, on=(MemberTag.campaign == MembershipRow.campaign)
                   & (MemberTag.order_id == MembershipRow.order_id))
        .join_from(MemberTag, LinkActivity, JOIN.LEFT_OUTER, on=(LinkActivity.tag == MemberTag.tag))
        .where(MembershipRow.campaign.in_([c.id for c in campaigns]) & (MembershipRow.paid_at >= start)
               & (MembershipRow.paid_at < end)).order_by(MembershipRow.paid_at, MembershipRow.order_id))
    return [_Buyer(*row) for row in db.execute(query).fetchall()]  # in payment order


_instant = UTCDateTimeField().python_value


def _amount(value) -> Decimal:
    """An amount as the driver gives it (NUMERIC on PostgreSQL, text on SQLite) as a Decimal."""
    return ZERO if value is None else value if isinstance(value, Decimal) else Decimal(value)


def _count_orders(rows: list[_Buyer], period, days, funnel) -> None:
    for row in rows:
        day = days[period.day_of(row.paid_at)]
        through, joined = row.through or row.role == "member", row.role == "member"
        day["orders"] += through
        day["joins"] += joined
        funnel["orders"] += through
        funnel["joins"] += joined


def _virality(rows: list[_Buyer]) -> dict:
    """K, the longest chain, how many buyers shared, and how soon after buying (links and friends)."""
    buyers = [r for r in rows if r.role in ("founder", "member")]
    friends = sum(1 for r in buyers if r.role == "member")
    depth: dict[str, int] = {}
    paid = {(r.campaign, r.order_id): r.paid_at for r in buyers}
    earliest: dict[tuple[str, str], datetime] = {}
    for r in buyers:
        if r.role == "member":  # in payment order (as read): a sponsor is decided before whoever they brought
            depth[r.order_id] = 1 + depth.get(r.sponsor_id, 0) if r.sponsor_id != r.founder_id else 1
            key = (r.campaign, r.founder_id)
            if key in paid and key not in earliest:
                earliest[key] = r.paid_at
    first_share = [(r.shared_at - r.paid_at).total_seconds() for r in buyers if r.shared_at is not None]
    first_friend = [(at - paid[key]).total_seconds() for key, at in earliest.items()]
    return dict(buyers=len(buyers), friends=friends, k=_ratio(friends, len(buyers)),
                chain_depth=max(depth.values(), default=0), sharing_buyers=len(first_share),
                share_of_buyers_sharing=_ratio(len(first_share), len(buyers)),
                median_s_to_first_share=_median(first_share), median_s_to_first_friend=_median(first_friend))


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _ambassadors(shop, rows: list[_Buyer], net: dict) -> list[dict]:
    """The people (by normalised e-mail) whose links brought the most friends in the period."""
    email = {r.order_id: r.email for r in rows}
    members = [r for r in rows if r.role == "member"]
    missing = sorted({r.sponsor_id or r.founder_id for r in members} - set(email))
    for part in chunks(missing):  # sponsors who bought before the period
        email.update(OrderFact.select(OrderFact.order_id, OrderFact.email_norm).where(
            (OrderFact.shop == shop) & OrderFact.order_id.in_(part)).tuples())
    brought: dict[str, list[_Buyer]] = defaultdict(list)
    for r in members:
        person = email.get(r.sponsor_id or r.founder_id)
        if person:
            brought[person].append(r)
    out = []
    for person, friends in sorted(brought.items(), key=lambda item: (-len(item[1]), item[0]))[:TOP]:
        revenue: Counter = Counter()
        for r in friends:
            revenue[r.currency] += net.get(r.order_id, ZERO)
        out.append(dict(email=person, friends=len(friends),
                        revenue={c: amount_text(a, c) for c, a in sorted(revenue.items())}))
    return out


def _referral(shop, campaigns, start, end, period, days, funnel) -> list[tuple]:
    """Referral friends' orders of the period (each has a claim: it came through a referrer's link), not refused."""
    if not campaigns:
        return []
    found = []
    for state, order_id, paid_at, currency, total, refunded in (ReferralDecisionRow.select(
            ReferralDecisionRow.state, ReferralDecisionRow.order_id, OrderFact.paid_at, OrderFact.currency,
            OrderFact.total, OrderFact.refunded)
            .join(OrderFact, on=(OrderFact.shop == shop) & (OrderFact.order_id == ReferralDecisionRow.order_id))
            .where(ReferralDecisionRow.campaign.in_([c.id for c in campaigns]) & (OrderFact.paid_at >= start)
                   & (OrderFact.paid_at < end)).tuples()):
        day = days[period.day_of(paid_at)]
        day["orders"] += 1
        funnel["orders"] += 1
        if state != "refused":
            day["joins"] += 1
            funnel["joins"] += 1
            found.append((order_id, paid_at, currency, total, refunded or ZERO))
    return found


def _revenue(shop, campaigns, rows: list[_Buyer], referral: list[tuple], period, days) -> tuple[dict, dict]:
    """The friends' orders: total, net of refunds and eligible per currency; net per order (for ambassadors)."""
    by_id = {c.id: c for c in campaigns}
    lines_of_founder = {(r.campaign, r.order_id): r.lines for r in rows if r.role == "founder"}
    totals: dict[str, Counter] = defaultdict(Counter)
    net_of: dict[str, Decimal] = {}
    for r in rows:
        if r.role != "member" or r.total is None:
            continue
        campaign = by_id[r.campaign]
        total, refunded = _amount(r.total), _amount(r.refunded)
        net = max(total - refunded, ZERO)
        net_of[r.order_id] = net
        money = totals[r.currency]
        money["revenue_total"] += total
        money["revenue_net"] += net
        money["revenue_eligible"] += _eligible(shop, campaign, r, lines_of_founder, total, refunded)
        days[period.day_of(r.paid_at)]["revenue"][r.currency] += net
    for order_id, paid_at, currency, total, refunded in referral:
        net = max(total - refunded, ZERO)
        money = totals[currency]
        money["revenue_total"] += total
        money["revenue_net"] += net
        money["revenue_eligible"] += net
        days[period.day_of(paid_at)]["revenue"][currency] += net
    return totals, net_of


def _eligible(shop, campaign, row: _Buyer, lines_of_founder: dict, total: Decimal, refunded: Decimal) -> Decimal:
    """What the campaign rewards of a friend's order, net of refunds (as `rewards.amounts` computes it)."""
    shipping = _amount(row.refunded_shipping)
    if campaign.eligible_products == "any" and not refunded and not shipping and row.refunded_lines in ("[]", None):
        # every line, nothing taken back: the sum of the lines, as eligible_amount would find it
        with_tax = campaign.eligible_base == "paid_incl_tax"
        return sum((Decimal(t) + (Decimal(x) if with_tax else ZERO) for _, _, t, x in json.loads(row.lines)), ZERO)
    products = None
    if campaign.eligible_products == "same":
        text = lines_of_founder.get((campaign.id, row.founder_id))
        if text is None:  # a founder who bought before the period
            text = OrderFact.select(OrderFact.lines).where((OrderFact.shop == shop)
                                                           & (OrderFact.order_id == row.founder_id)).scalar() or "[]"
            lines_of_founder[(campaign.id, row.founder_id)] = text
        products = frozenset(p for p, *_ in json.loads(text))
    elif campaign.eligible_products != "any":
        products = frozenset(campaign.eligible_products)
    order = _Lines(lines_of(row.lines), lines_of(row.refunded_lines or "[]"), shipping, refunded, total)
    return amounts.eligible_amount(order, products, campaign.eligible_base)


class _Lines:
    """The parts of an order `rewards.amounts.eligible_amount` reads, without building a whole Order."""

    __slots__ = ("lines", "refunded_lines", "refunded_shipping", "refunded", "total")

    def __init__(self, lines, refunded_lines, refunded_shipping, refunded, total) -> None:
        self.lines, self.refunded_lines, self.refunded_shipping = lines, refunded_lines, refunded_shipping
        self.refunded, self.total = refunded, total


def _money(ids, start, end, revenue: dict) -> dict:
    """Per currency: revenue brought, and the rewards granted in the period with what became of them."""
    money = revenue
    in_period = (Reward.campaign.in_(ids) & (Reward.created_at >= start) & (Reward.created_at < end))
    for currency, state, total in Reward.select(Reward.currency, Reward.state, exact_sum(Reward.amount)).where(
            in_period).group_by(Reward.currency, Reward.state).tuples():
        money[currency]["granted" if state == "granted" else "cancelled"] += summed(total)
    for currency, state, total in Payout.select(Payout.currency, Payout.state, exact_sum(Payout.amount)).join(Reward).where(
            in_period).group_by(Payout.currency, Payout.state).tuples():
        money[currency]["paid" if state == "paid" else "pending" if state in PENDING else "payout_cancelled"] += summed(total)
    for currency, amount, recovered in Clawback.select(Clawback.currency, exact_sum(Clawback.amount),
                                                       exact_sum(Clawback.recovered)).join(Reward).where(
            in_period).group_by(Clawback.currency).tuples():
        money[currency]["clawed_back"] += summed(amount)
        money[currency]["recovered"] += summed(recovered)
    out = {}
    for currency, m in sorted(money.items()):
        cost = m["granted"] - m["recovered"]
        out[currency] = {k: amount_text(m[k], currency) for k in (
            "revenue_total", "revenue_net", "revenue_eligible", "granted", "paid", "pending", "clawed_back", "recovered")}
        out[currency]["cost"] = amount_text(cost, currency)
        out[currency]["return_on_cost"] = _ratio(m["revenue_net"], cost)
    return out


MICRO = 1_000_000  # amounts keep at most 6 decimals (NUMERIC(20, 6) on PostgreSQL)


def exact_sum(field: AmountField) -> fn:
    """SUM of an amount column, exact: PostgreSQL sums NUMERIC; SQLite keeps amounts as text and would sum
    floats, so there the sum is of whole millionths (exact as 64-bit integers), turned back by `summed`."""
    # (coerce=False: the driver's own value, not read back through the amount field)
    if is_postgresql():
        return fn.SUM(field).coerce(False)
    return fn.SUM(fn.ROUND(field * Value(MICRO, converter=int))).coerce(False)


def summed(total: Decimal | float | None) -> Decimal:
    """What `exact_sum` answered, as a Decimal amount."""
    if total is None:
        return ZERO
    return total if isinstance(total, Decimal) else Decimal(round(total)) / MICRO


def amount_text(amount: Decimal, currency: str) -> str:
    """An amount with its currency's decimals, as JSON carries it: '5.00'."""
    return str(Money(Decimal(amount), currency).rounded().amount)


def _budgets(campaigns, now: datetime) -> list[dict]:
    """Each budgeted campaign: used (every reward granted so far), left, and when it runs out at the last 30 days' pace."""
    out = []
    for campaign in campaigns:
        if campaign.budget is None:
            continue
        granted = (Reward.campaign == campaign.id) & (Reward.state == "granted")
        used = summed(Reward.select(exact_sum(Reward.amount)).where(granted).scalar())
        recent = summed(Reward.select(exact_sum(Reward.amount)).where(
            granted & (Reward.created_at >= now - timedelta(days=30)) & (Reward.created_at < now)).scalar())
        left, currency = max(campaign.budget.amount - used, ZERO), campaign.budget.currency
        runs_out = (now + timedelta(days=float(30 * left / recent))).date().isoformat() if recent and left else None
        out.append(dict(campaign=campaign.id, currency=currency, budget=amount_text(campaign.budget.amount, currency),
                        used=amount_text(used, currency), left=amount_text(left, currency),
                        runs_out=runs_out if left else now.date().isoformat()))
    return out

