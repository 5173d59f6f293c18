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

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from peewee import JOIN, fn

from bridge.basics.money import Money
from bridge.config.model import Config
from bridge.rewards import amounts
from bridge.storage.bulk import chunks
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
from bridge.storage.rows import read_orders

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
        return instant.astimezone(self.zone).date()

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
    rows, friends = _social(shop_id, social, start, end, period, days, funnel)
    referral = _referral(shop_id, [c for c in campaigns if c.type == "referral"], start, end, period, days, funnel)
    revenue = _revenue(friends + referral)
    for campaign, order_id, _, paid_at in friends + referral:
        currency, net = revenue["by_order"].get((campaign.shop, order_id), (None, ZERO))
        if currency:
            days[period.day_of(paid_at)]["revenue"][currency] += net
    return dict(
        shop=shop_id, campaign=campaign_id, since=period.since.isoformat(), until=period.until.isoformat(),
        time_zone=str(period.zone),
        funnel=[dict(step=s, count=funnel[s], rate=_ratio(funnel[s], funnel[STEPS[i - 1]]) if i else None)
                for i, s in enumerate(STEPS)],
        channels=_channels(shop_id, ids, start, end), domains=_domains(shop_id, ids, start, end),
        money=_money(ids, start, end, revenue),
        budgets=_budgets(campaigns, now or end),
        virality=_virality(rows, len(friends)), ambassadors=_ambassadors(shop_id, rows, friends, revenue),
        days=[dict(day=d.isoformat(), **{k: v for k, v in row.items() if k != "revenue"},
                   revenue={c: amount_text(a, c) for c, a in sorted(row["revenue"].items())}) for d, row in days.items()])


def _ratio(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _counts(shop, ids, start, end, period, days, funnel) -> None:
    """Views, shares, clicks and landings per day (the shop's days, from UTC hours)."""
    query = (StatCount.select(StatCount.hour, StatCount.kind, fn.SUM(StatCount.count))
             .where((StatCount.shop == shop) & (StatCount.hour >= start) & (StatCount.hour < end)
                    & StatCount.campaign.in_(ids)).group_by(StatCount.hour, StatCount.kind))
    for hour, kind, count in query.tuples():
        step = KIND_STEP[kind]
        days[period.day_of(hour)][step] += int(count)
        funnel[step] += int(count)


def _channels(shop, ids, start, end) -> list[dict]:
    """Shares and clicks per channel ('unknown' where the link was used without one)."""
    found: dict[str, Counter] = defaultdict(Counter)
    query = (StatCount.select(StatCount.channel, StatCount.kind, fn.SUM(StatCount.count))
             .where((StatCount.shop == shop) & (StatCount.hour >= start) & (StatCount.hour < end)
                    & StatCount.campaign.in_(ids) & StatCount.kind.in_(("share", "click")))
             .group_by(StatCount.channel, StatCount.kind))
    for channel, kind, count in query.tuples():
        found[channel or "unknown"][KIND_STEP[kind]] += int(count)
    return sorted((dict(channel=c, shares=n["shares"], clicks=n["clicks"]) for c, n in found.items()),
                  key=lambda row: (-row["clicks"], -row["shares"], row["channel"]))


def _domains(shop, ids, start, end) -> list[dict]:
    """Clicks per referring site, the most first."""
    total = fn.SUM(StatCount.count)
    query = (StatCount.select(StatCount.domain, total)
             .where((StatCount.shop == shop) & (StatCount.hour >= start) & (StatCount.hour < end)
                    & StatCount.campaign.in_(ids) & (StatCount.kind == "click"))
             .group_by(StatCount.domain).order_by(total.desc(), StatCount.domain).limit(TOP))
    return [dict(domain=d, clicks=int(n)) for d, n in query.tuples()]  # "": no referring site (typed, an app, private)


def _social(shop, campaigns, start, end, period, days, funnel) -> tuple[list, list]:
    """The period's social-buying decisions (with the buyer's e-mail), counted as orders and joins per day."""
    rows = []
    if campaigns:
        rows = list(MembershipRow.select(
            MembershipRow.campaign, MembershipRow.order_id, MembershipRow.role, MembershipRow.founder_id,
            MembershipRow.sponsor_id, MembershipRow.paid_at, MembershipRow.checks, OrderFact.email_norm)
            .join(OrderFact, JOIN.LEFT_OUTER, on=(OrderFact.shop == shop) & (OrderFact.order_id == MembershipRow.order_id))
            .where(MembershipRow.campaign.in_([c.id for c in campaigns]) & (MembershipRow.paid_at >= start)
                   & (MembershipRow.paid_at < end)).tuples())
    by_campaign = {c.id: c for c in campaigns}
    friends = [(by_campaign[r[0]], r[1], r[3], r[5]) for r in rows if r[2] == "member"]
    for campaign_id, order_id, role, _, _, paid_at, checks, _ in rows:
        through_link = role == "member" or '["attributed", true' in checks
        day = days[period.day_of(paid_at)]
        day["orders"] += through_link
        day["joins"] += role == "member"
        funnel["orders"] += through_link
        funnel["joins"] += role == "member"
    return rows, friends


def _virality(rows, friends: int) -> dict:
    """K, the longest chain, how many buyers shared, and how soon after buying (links and friends)."""
    buyers = [r for r in rows if r[2] in ("founder", "member")]
    depth: dict[str, int] = {}
    for campaign_id, order_id, role, founder_id, sponsor_id, *_ in sorted(buyers, key=lambda r: (r[5], r[1])):
        if role == "member":  # in payment order: a sponsor is decided before whoever they brought
            depth[order_id] = 1 + depth.get(sponsor_id, 0) if sponsor_id != founder_id else 1
    first_share, first_friend = [], []
    paid = {(r[0], r[1]): r[5] for r in buyers}
    tags, by_campaign = {}, defaultdict(list)
    for campaign, order_id in paid:
        by_campaign[campaign].append(order_id)
    for campaign, order_ids in sorted(by_campaign.items()):
        for part in chunks(sorted(order_ids)):
            for order_id, tag in MemberTag.select(MemberTag.order_id, MemberTag.tag).where(
                    (MemberTag.campaign == campaign) & MemberTag.order_id.in_(part)).tuples():
                tags[tag] = (campaign, order_id)
    sharing = 0
    for part in chunks(sorted(tags)):
        for tag, share_at, click_at in LinkActivity.select(
                LinkActivity.tag, LinkActivity.first_share_at, LinkActivity.first_click_at).where(
                LinkActivity.tag.in_(part)).tuples():
            first = min((t for t in (share_at, click_at) if t is not None), default=None)
            if first is not None:
                sharing += 1
                first_share.append((first - paid[tags[tag]]).total_seconds())
    earliest: dict[tuple[str, str], datetime] = {}
    for campaign_id, order_id, role, founder_id, _, paid_at, *_ in buyers:
        if role == "member" and (campaign_id, founder_id) in paid:
            key = (campaign_id, founder_id)
            earliest[key] = min(earliest.get(key, paid_at), paid_at)
    first_friend = [(at - paid[key]).total_seconds() for key, at in earliest.items()]
    return dict(buyers=len(buyers), friends=friends, k=_ratio(friends, len(buyers)),
                chain_depth=max(depth.values(), default=0), sharing_buyers=sharing,
                share_of_buyers_sharing=_ratio(sharing, len(buyers)),
                median_s_to_first_share=_median(first_share), median_s_to_first_friend=_median(first_friend))


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _ambassadors(shop, rows, friends, revenue) -> list[dict]:
    """The people (by normalised e-mail) whose links brought the most friends in the period."""
    email = {r[1]: r[7] for r in rows}
    sponsor = {(r[0], r[1]): r[4] or r[3] for r in rows if r[2] == "member"}
    missing = sorted({sponsor[(c.id, o)] for c, o, _, _ in friends} - set(email))
    for part in chunks(missing):  # sponsors who bought before the period
        email.update(OrderFact.select(OrderFact.order_id, OrderFact.email_norm).where(
            (OrderFact.shop == shop) & OrderFact.order_id.in_(part)).tuples())
    brought: dict[str, list] = defaultdict(list)
    for campaign, order_id, _, _ in friends:
        person = email.get(sponsor[(campaign.id, order_id)])
        if person:
            brought[person].append((campaign, order_id))
    top = sorted(brought.items(), key=lambda item: (-len(item[1]), item[0]))[:TOP]
    return [dict(email=person, friends=len(orders),
                 revenue={c: amount_text(a, c) for c, a in sorted(_sum_of(orders, revenue).items())}) for person, orders in top]


def _sum_of(orders, revenue) -> Counter:
    total: Counter = Counter()
    for campaign, order_id in orders:
        currency, net = revenue["by_order"].get((campaign.shop, order_id), (None, ZERO))
        if currency:
            total[currency] += net
    return total


def _referral(shop, campaigns, start, end, period, days, funnel) -> list:
    """Referral friends' orders of the period (each has a claim: it came through a referrer's link)."""
    if not campaigns:
        return []
    by_id = {c.id: c for c in campaigns}
    found = []
    for campaign_id, order_id, state, paid_at in (ReferralDecisionRow.select(
            ReferralDecisionRow.campaign, ReferralDecisionRow.order_id, ReferralDecisionRow.state, OrderFact.paid_at)
            .join(OrderFact, on=(OrderFact.shop == shop) & (OrderFact.order_id == ReferralDecisionRow.order_id))
            .where(ReferralDecisionRow.campaign.in_(list(by_id)) & (OrderFact.paid_at >= start)
                   & (OrderFact.paid_at < end)).tuples()):
        day = days[period.day_of(paid_at)]
        day["orders"] += 1
        funnel["orders"] += 1
        if state != "refused":
            day["joins"] += 1
            funnel["joins"] += 1
            found.append((by_id[campaign_id], order_id, None, paid_at))
    return found


def _revenue(friends) -> dict:
    """The friends' orders: total, net of refunds, and eligible, per currency (and net per order)."""
    by_shop: dict[str, set[str]] = defaultdict(set)
    for campaign, order_id, founder_id, _ in friends:
        by_shop[campaign.shop].update(i for i in (order_id, founder_id) if i)
    orders = {}
    for shop, ids in by_shop.items():
        orders.update({(shop, i): o for i, o in read_orders(shop, ids).items()})
    totals: dict[str, Counter] = defaultdict(Counter)
    by_order = {}
    for campaign, order_id, founder_id, _ in friends:
        order = orders.get((campaign.shop, order_id))
        if order is None:
            continue
        net = max(order.total - order.refunded, ZERO)
        by_order[(campaign.shop, order_id)] = (order.currency, net)
        money = totals[order.currency]
        money["revenue_total"] += order.total
        money["revenue_net"] += net
        if campaign.type == "social_buying":
            founder = orders.get((campaign.shop, founder_id))
            products = amounts.eligible_products(campaign, founder) if founder else None
            money["revenue_eligible"] += amounts.eligible_amount(order, products, campaign.eligible_base)
        else:
            money["revenue_eligible"] += net
    return dict(totals=totals, by_order=by_order)


def _money(ids, start, end, revenue) -> dict:
    """Per currency: revenue brought, and the rewards granted in the period with what became of them."""
    # Amounts are summed here, in Decimal: SQLite keeps them as text, and its SUM would answer a float.
    money = revenue["totals"]
    in_period = (Reward.campaign.in_(ids) & (Reward.created_at >= start) & (Reward.created_at < end))
    for currency, state, amount in Reward.select(Reward.currency, Reward.state, Reward.amount).where(in_period).tuples():
        money[currency]["granted" if state == "granted" else "cancelled"] += amount
    for currency, state, amount in Payout.select(Payout.currency, Payout.state, Payout.amount).join(Reward).where(
            in_period).tuples():
        money[currency]["paid" if state == "paid" else "pending" if state in PENDING else "payout_cancelled"] += amount
    for currency, amount, recovered in Clawback.select(Clawback.currency, Clawback.amount, Clawback.recovered).join(
            Reward).where(in_period).tuples():
        money[currency]["clawed_back"] += amount
        money[currency]["recovered"] += recovered
    out = {}
    for currency, m in sorted(money.items()):
        cost = m["granted"] - m["recovered"]
        out[currency] = {k: amount_text(m[k], currency) for k in (
            "revenue_total", "revenue_net", "revenue_eligible", "granted", "paid", "pending", "clawed_back", "recovered")}
        out[currency]["cost"] = amount_text(cost, currency)
        out[currency]["return_on_cost"] = _ratio(m["revenue_net"], cost)
    return out


def amount_text(amount: Decimal, currency: str) -> str:
    """An amount with its currency's decimals, as JSON carries it: '5.00'."""
    return str(Money(Decimal(amount), currency).rounded().amount)


def _budgets(campaigns, now: datetime) -> list[dict]:
    """Each budgeted campaign: used (every reward granted so far), left, and when it runs out at the last 30 days' pace."""
    out = []
    for campaign in campaigns:
        if campaign.budget is None:
            continue
        used = recent = ZERO
        for amount, created_at in Reward.select(Reward.amount, Reward.created_at).where(
                (Reward.campaign == campaign.id) & (Reward.state == "granted")).tuples():
            used += amount
            recent += amount if now - timedelta(days=30) <= created_at < now else ZERO
        left, currency = max(campaign.budget.amount - used, ZERO), campaign.budget.currency
        runs_out = (now + timedelta(days=float(30 * left / recent))).date().isoformat() if recent and left else None
        out.append(dict(campaign=campaign.id, currency=currency, budget=amount_text(campaign.budget.amount, currency),
                        used=amount_text(used, currency), left=amount_text(left, currency),
                        runs_out=runs_out if left else now.date().isoformat()))
    return out

