"""The dashboard's page model: the statistics of `ledger.stats` written for people, in their language."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal, format_percent

from bridge.basics.money import display_amount
from bridge.config.model import Shop
from bridge.web.charts import daily_chart

MONEY_ROWS = ("revenue_total", "revenue_net", "revenue_eligible", "granted", "paid", "pending", "clawed_back",
              "recovered", "cost")


def page_model(figures: dict, words: dict, locale: str) -> dict:
    """Everything the template shows, formatted: numbers, amounts, dates and durations as `locale` writes them."""
    def number(n):
        return format_decimal(n, locale=locale)

    def percent(rate):
        return "–" if rate is None else format_percent(rate, locale=locale)

    def amount(text, currency):
        return display_amount(Decimal(text), currency, locale)

    def day(text):
        return format_date(date.fromisoformat(text), "medium", locale=locale)

    def duration(seconds):
        return "–" if seconds is None else format_timedelta(seconds, threshold=1.5, locale=locale)

    days = figures["days"]
    labels = [format_date(date.fromisoformat(d["day"]), "d MMM", locale=locale) for d in days]
    funnel = {row["step"]: row for row in figures["funnel"]}
    money = figures["money"]
    v = figures["virality"]
    first_currency = next(iter(money), None)
    return dict(
        period=words["period"].format(since=day(figures["since"]), until=day(figures["until"]), zone=figures["time_zone"]),
        kpis=[(number(funnel["joins"]["count"]), words["kpi_orders"]),
              (amount(money[first_currency]["revenue_net"], first_currency) if first_currency else "–", words["kpi_revenue"]),
              (amount(money[first_currency]["granted"], first_currency) if first_currency else "–", words["kpi_cost"]),
              ("–" if v["k"] is None else format_decimal(v["k"], "0.00", locale=locale), words["kpi_k"])],
        funnel=[(words[row["step"]], number(row["count"]), percent(row["rate"]) if row["rate"] is not None else "")
                for row in figures["funnel"]],
        chart_links=daily_chart(words["chart_links"], labels, [
            (words["shares"], [d["shares"] for d in days]), (words["clicks"], [d["clicks"] for d in days]),
            (words["landings"], [d["landings"] for d in days])]),
        chart_orders=daily_chart(words["chart_orders"], labels, [
            (words["orders_short"], [d["orders"] for d in days]), (words["joins_short"], [d["joins"] for d in days])],
            bars=True),
        channels=[(words.get(c["channel"], c["channel"]) if c["channel"] != "unknown" else words["unknown"],
                   number(c["shares"]), number(c["clicks"])) for c in figures["channels"]],
        domains=[(d["domain"] or words["no_site"], number(d["clicks"])) for d in figures["domains"]],
        money=[(currency, [(words[key], amount(m[key], currency)) for key in MONEY_ROWS]
                + [(words["return_on_cost"], "–" if m["return_on_cost"] is None
                    else format_decimal(m["return_on_cost"], "0.0", locale=locale))]) for currency, m in money.items()],
        budgets=[(b["campaign"], amount(b["budget"], b["currency"]), amount(b["used"], b["currency"]),
                  amount(b["left"], b["currency"]), day(b["runs_out"]) if b["runs_out"] else "–") for b in figures["budgets"]],
        virality=[(words["buyers"], number(v["buyers"])), (words["friends"], number(v["friends"])),
                  (words["k"], "–" if v["k"] is None else format_decimal(v["k"], "0.00", locale=locale)),
                  (words["chain_depth"], number(v["chain_depth"])),
                  (words["sharing_buyers"], f"{number(v['sharing_buyers'])} ({percent(v['share_of_buyers_sharing'])})"),
                  (words["first_share"], duration(v["median_s_to_first_share"])),
                  (words["first_friend"], duration(v["median_s_to_first_friend"]))],
        ambassadors=[(a["email"], number(a["friends"]), ", ".join(amount(t, c) for c, t in a["revenue"].items()) or "–")
                     for a in figures["ambassadors"]])


def stats_csv(figures: dict) -> str:
    """The day-by-day figures as CSV (one row per day, revenue per currency), for a spreadsheet."""
    currencies = sorted({c for d in figures["days"] for c in d["revenue"]} | set(figures["money"]))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "views", "shares", "clicks", "landings", "orders", "joins"]
                    + [f"revenue_net_{c}" for c in currencies])
    for d in figures["days"]:
        writer.writerow([d["day"], d["views"], d["shares"], d["clicks"], d["landings"], d["orders"], d["joins"]]
                        + [d["revenue"].get(c, "0") for c in currencies])
    return out.getvalue()


def formatters(shop: Shop, locale: str) -> dict:
    """What a page uses to write amounts and instants as the shop's people read them, and links to its orders."""
    def money(amount: Decimal, currency: str) -> str:
        return display_amount(Decimal(amount), currency, locale)

    def when(instant: datetime) -> str:
        return format_datetime(instant, "short", tzinfo=shop.zone, locale=locale)

    return dict(money=money, when=when, order_link=lambda order_id: back_office_order_url(shop, order_id))


def back_office_order_url(shop: Shop, order_id: str) -> str:
    """The order's page in the shop's back office: WooCommerce's edit screen (it forwards to the HPOS one);
    PrestaShop's order page under `prestashop.back_office_url` (PrestaShop first asks to confirm a link
    without its session token), or the shop's home when that address is not configured."""
    order_id = quote(str(order_id), safe="")
    if shop.platform == "woocommerce":
        return f"{shop.url}/wp-admin/post.php?post={order_id}&action=edit"
    if shop.prestashop is not None and shop.prestashop.back_office_url:
        return f"{shop.prestashop.back_office_url.rstrip('/')}/index.php?controller=AdminOrders&id_order={order_id}&vieworder"
    return f"{shop.url}/"
