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
Counts of views, shares, clicks and landings come from hourly roll-ups (`ledger.rollup`, daily ones too by
channel and site); orders, money and virality from the period's rows of `BuyerStat` (`ledger.buyers`), an
index range on the payment instant. The database sums them per day of the shop (the UTC instant moved by the
zone's offset), so Python sees a row per day, channel or ambassador, never one per click or order.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from peewee import SQL, Case, Value, fn

from bridge.basics.money import Money
from bridge.config.model import Config
from bridge.rewards.payouts import OPEN, PAID
from bridge.storage.db import is_postgresql
from bridge.storage.fields import AmountField
from bridge.storage.models import (
    BuyerStat,
    Clawback,
    OrderFact,
    Payout,
    ReferralDecisionRow,
    Reward,
    StatCount,
    StatDay,
)

ZERO = Decimal(0)
STEPS = ("views", "shares", "clicks", "landings", "orders", "joins")
KIND_STEP = {"view": "views", "share": "shares", "click": "clicks", "landing": "landings"}
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

    @cached_property
    def offsets(self) -> list[tuple[datetime | None, int]]:
        """The zone's UTC offset over the period, in seconds, and each instant it changes at (None: from the start)."""
        start, end = (int(at.timestamp()) for at in self.bounds())

        def offset(second: int) -> int:
            return int(datetime.fromtimestamp(second, self.zone).utcoffset().total_seconds())

        runs: list[tuple[datetime | None, int]] = [(None, offset(start))]
        for day in range(start, end, 86400):
            low, high = day, min(day + 86400, end)
            if offset(high) == offset(low):
                continue
            while high - low > 1:  # offsets change on a whole second: find it
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            runs.append((datetime.fromtimestamp(high, timezone.utc), offset(high)))
        return runs

    def days(self) -> list[date]:
        return [self.since + timedelta(days=i) for i in range((self.until - self.since).days + 1)]


DEFAULT_DAYS = 30


def default_period(zone: ZoneInfo, now: datetime, since: date | None = None, until: date | None = None) -> Period:
    """The period asked for, by default the last 30 days up to today (in the shop's time zone)."""
    until = until or now.astimezone(zone).date()
    return Period(since or until - timedelta(days=DEFAULT_DAYS - 1), until, zone)


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
    revenue = _social(shop_id, social, period, days, funnel)
    _referral(shop_id, [c for c in campaigns if c.type == "referral"], start, end, period, days, funnel, revenue)
    return dict(
        shop=shop_id, campaign=campaign_id, since=period.since.isoformat(), until=period.until.isoformat(),
        time_zone=str(period.zone),
        funnel=[dict(step=s, count=funnel[s], rate=_ratio(funnel[s], funnel[STEPS[i - 1]]) if i else None)
                for i, s in enumerate(STEPS)],
        channels=_channels(shop_id, ids, start, end), domains=_domains(shop_id, ids, start, end),
        money=_money(ids, start, end, revenue),
        budgets=_budgets(campaigns, now or end),
        virality=_virality(social, period), ambassadors=_ambassadors(social, period),
        days=[dict(day=d.isoformat(), **{k: v for k, v in row.items() if k != "revenue"},
                   revenue={c: amount_text(a, c) for c, a in sorted(row["revenue"].items())}) for d, row in days.items()])


def _ratio(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _counts(shop, ids, start, end, period, days, funnel) -> None:
    """Views, shares, clicks and landings per day (the shop's days, from UTC hours)."""
    query = (StatCount.select(_day_number(StatCount.hour, period), StatCount.kind, fn.SUM(StatCount.count))
             .where((StatCount.shop == shop) & (StatCount.hour >= start) & (StatCount.hour < end)
                    & StatCount.campaign.in_(ids) & (StatCount.dim == "")).group_by(SQL("1"), SQL("2")))
    for number, kind, count in query.tuples():
        step = KIND_STEP[kind]
        days[_date(number)][step] += int(count)
        funnel[step] += int(count)


def _channels(shop, ids, start, end) -> list[dict]:
    """Shares and clicks per channel ('unknown' where the link was used without one)."""
    found: dict[str, Counter] = defaultdict(Counter)
    for (dim, kind), count in _by_dim(shop, ids, start, end, ("share", "click"), "c:").items():
        found[dim[2:] or "unknown"][KIND_STEP[kind]] += count
    return sorted((dict(channel=c, shares=n["shares"], clicks=n["clicks"]) for c, n in found.items()),
                  key=lambda row: (-row["clicks"], -row["shares"], row["channel"]))


def _domains(shop, ids, start, end) -> list[dict]:
    """Clicks per referring site, the most first."""
    found = sorted(((dim, count) for (dim, _), count in _by_dim(shop, ids, start, end, ("click",), "d:").items()),
                   key=lambda item: (-item[1], item[0]))
    return [dict(domain=d[2:], clicks=n) for d, n in found[:TOP]]  # "": no referring site (typed, an app, private)


def _by_dim(shop, ids, start: datetime, end: datetime, kinds: tuple, prefix: str) -> Counter:
    """Counts per (dim, kind) over a period: its whole UTC days from the daily rows, the hours at its ends from the
    hourly ones (so a long period reads a row per day, not per hour)."""
    first = start.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    first += timedelta(days=1) if first < start else timedelta()
    last = end.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    hours = [(start, first), (last, end)] if first < last else [(start, end)]
    found: Counter = Counter()
    # one query per range: with an OR of two ranges SQLite's planner leaves the time index for the dim one,
    # and reads every hour the shop ever had
    for model, column, (a, b) in [(StatDay, StatDay.day, (first, last))] + [(StatCount, StatCount.hour, r) for r in hours]:
        if a >= b:
            continue
        for dim, kind, count in model.select(model.dim, model.kind, fn.SUM(model.count)).where(
                (model.shop == shop) & (column >= a) & (column < b) & model.campaign.in_(ids) & model.kind.in_(kinds)
                & model.dim.startswith(prefix)).group_by(model.dim, model.kind).tuples():
            found[(dim, kind)] += int(count)
    return found


def _social(shop, campaigns, period, days, funnel) -> dict[str, Counter]:
    """Orders through a link, joins and revenue brought, per day; the revenue per currency (total, net, eligible)."""
    totals: dict[str, Counter] = defaultdict(Counter)
    if not campaigns:
        return totals
    in_period = _in_period(campaigns, period)
    members = in_period & (BuyerStat.role == "member")
    day = _day_number(BuyerStat.paid_at, period)
    for n, count in BuyerStat.select(day, fn.COUNT(SQL("*"))).where(in_period & BuyerStat.through).group_by(
            SQL("1")).tuples():
        days[_date(n)]["orders"] += count
        funnel["orders"] += count
    for n, currency, count, net in BuyerStat.select(day, BuyerStat.currency, fn.COUNT(SQL("*")), exact_sum(BuyerStat.net)).where(
            members).group_by(SQL("1"), SQL("2")).tuples():
        days[_date(n)]["joins"] += count
        days[_date(n)]["revenue"][currency] += summed(net)
        funnel["joins"] += count
    for currency, total, net, eligible in BuyerStat.select(
            BuyerStat.currency, exact_sum(BuyerStat.total), exact_sum(BuyerStat.net), exact_sum(BuyerStat.eligible)).where(
            members).group_by(BuyerStat.currency).tuples():
        money = totals[currency]
        money["revenue_total"] += summed(total)
        money["revenue_net"] += summed(net)
        money["revenue_eligible"] += summed(eligible)
    return totals


def _in_period(campaigns, period):
    start, end = period.bounds()
    return BuyerStat.campaign.in_([c.id for c in campaigns]) & (BuyerStat.paid_at >= start) & (BuyerStat.paid_at < end)


def _virality(campaigns, period) -> dict:
    """K, the longest chain, how many buyers shared, and how soon after buying (links and friends)."""
    if not campaigns:
        return dict(buyers=0, friends=0, k=None, chain_depth=0, sharing_buyers=0, share_of_buyers_sharing=None,
                    median_s_to_first_share=None, median_s_to_first_friend=None)
    in_period = _in_period(campaigns, period)
    buyers = in_period & BuyerStat.role.in_(("founder", "member"))
    count, friends, depth, sharing = BuyerStat.select(
        fn.COUNT(SQL("*")), fn.SUM(Case(None, [(BuyerStat.role == "member", 1)], 0)), fn.MAX(BuyerStat.depth),
        fn.COUNT(BuyerStat.shared_at)).where(buyers).tuples().get()
    friends, depth = int(friends or 0), int(depth or 0)
    first_friend = in_period & (BuyerStat.role == "founder") & BuyerStat.first_friend_at.is_null(False)
    return dict(buyers=count, friends=friends, k=_ratio(friends, count), chain_depth=depth, sharing_buyers=sharing,
                share_of_buyers_sharing=_ratio(sharing, count),
                median_s_to_first_share=_median(_seconds(BuyerStat.paid_at, BuyerStat.shared_at),
                                                buyers & BuyerStat.shared_at.is_null(False), sharing),
                median_s_to_first_friend=_median(_seconds(BuyerStat.paid_at, BuyerStat.first_friend_at), first_friend))


def _median(expression, where, count: int | None = None) -> float | None:
    """The median of an expression over the rows `where` selects, found by the database (the middle one or two)."""
    count = BuyerStat.select().where(where).count() if count is None else count
    if not count:
        return None
    middle = [v for (v,) in BuyerStat.select(expression).where(where).order_by(expression)
              .limit(2 - count % 2).offset((count - 1) // 2).tuples()]
    return round(sum(middle) / len(middle), 1)


def _ambassadors(campaigns, period) -> list[dict]:
    """The people (by normalised e-mail) whose links brought the most friends in the period."""
    if not campaigns:
        return []
    members = _in_period(campaigns, period) & (BuyerStat.role == "member") & BuyerStat.brought_by.is_null(False)
    friends = fn.COUNT(SQL("*"))
    top = list(BuyerStat.select(BuyerStat.brought_by, friends).where(members).group_by(BuyerStat.brought_by)
               .order_by(friends.desc(), BuyerStat.brought_by).limit(TOP).tuples())
    revenue: dict[str, Counter] = defaultdict(Counter)
    for person, currency, net in BuyerStat.select(BuyerStat.brought_by, BuyerStat.currency, exact_sum(BuyerStat.net)).where(
            members & BuyerStat.brought_by.in_([p for p, _ in top])).group_by(SQL("1"), SQL("2")).tuples():
        revenue[person][currency] += summed(net)
    return [dict(email=person, friends=count,
                 revenue={c: amount_text(a, c) for c, a in sorted(revenue[person].items())}) for person, count in top]


EPOCH_DAY = date(1970, 1, 1)


def _epoch(field):
    """Whole seconds since 1970 of an instant column (stored as naive UTC)."""
    if is_postgresql():
        return fn.FLOOR(fn.date_part("epoch", field)).cast("BIGINT")
    return fn.strftime("%s", field).cast("INTEGER")


def _seconds(since, until):
    return _epoch(until) - _epoch(since)


def _day_number(field, period: Period):
    """The shop's day of an instant column, as days since 1970-01-01: the UTC instant moved by the zone's offset
    (a CASE over the offset changes inside the period, so the database groups whole days itself)."""
    runs = period.offsets
    offset = runs[0][1] if len(runs) == 1 else Case(
        None, [(field < at, seconds) for (at, _), (_, seconds) in zip(runs[1:], runs)], runs[-1][1])
    return (_epoch(field) + offset) / 86400


def _date(number: int):
    return EPOCH_DAY + timedelta(days=int(number))


def _referral(shop, campaigns, start, end, period, days, funnel, revenue: dict) -> None:
    """Referral friends' orders of the period (each has a claim: it came through a referrer's link); those not
    refused are joins, and their revenue is brought (all of it eligible)."""
    if not campaigns:
        return
    for state, paid_at, currency, total, refunded in (ReferralDecisionRow.select(
            ReferralDecisionRow.state, OrderFact.paid_at, OrderFact.currency, OrderFact.total, OrderFact.refunded)
            .join(OrderFact, on=(OrderFact.shop == shop) & (OrderFact.order_id == ReferralDecisionRow.order_id))
            .where(ReferralDecisionRow.campaign.in_([c.id for c in campaigns]) & (OrderFact.paid_at >= start)
                   & (OrderFact.paid_at < end)).tuples()):
        day = days[period.day_of(paid_at)]
        day["orders"] += 1
        funnel["orders"] += 1
        if state == "refused":
            continue
        day["joins"] += 1
        funnel["joins"] += 1
        net = max(total - (refunded or ZERO), ZERO)
        money = revenue[currency]
        money["revenue_total"] += total
        money["revenue_net"] += net
        money["revenue_eligible"] += net
        day["revenue"][currency] += net


def _money(ids, start, end, revenue: dict) -> dict:
    """Per currency: revenue brought, and the rewards granted in the period with what became of them."""
    money = revenue
    in_period = (Reward.campaign.in_(ids) & (Reward.created_at >= start) & (Reward.created_at < end))
    for currency, state, total in Reward.select(Reward.currency, Reward.state, exact_sum(Reward.amount)).where(
            in_period).group_by(Reward.currency, Reward.state).tuples():
        money[currency]["granted" if state == "granted" else "cancelled"] += summed(total)
    for currency, state, total in Payout.select(Payout.currency, Payout.state, exact_sum(Payout.amount)).join(Reward).where(
            in_period).group_by(Payout.currency, Payout.state).tuples():
        # (every state before the money leaves is pending: awaiting an IBAN, in a SEPA file, asked of the shop...)
        money[currency]["paid" if state == PAID else "pending" if state in OPEN else "payout_cancelled"] += summed(total)
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

