"""What both live stories do with bridge and a browser: read bridge's state, move past the hold, read the widget."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path


def campaign_yaml(shop: str, payout: str, campaign: str = "ensemble") -> str:
    """The live stories' social-buying campaign: 5% from 2 buyers, 10% from 3, 48 h open, 14 days' hold."""
    return (f"- id: {campaign}\n  type: social_buying\n  shop: {shop}\n  window: 48h\n  hold: 14d\n"
            "  eligible_products: any\n  tiers:\n    - buyers: 2\n      cashback: 5%\n    - buyers: 3\n"
            f"      cashback: 10%\n  payout: {payout}\n")


def referral_yaml(shop: str) -> str:
    """The live referral campaign: 10% off a friend's first order, 5.00 to the referrer as a coupon."""
    return (f"- id: parrainage\n  type: referral\n  shop: {shop}\n"
            "  friend_reward: {type: coupon, value: 10%, valid_for: 30d}\n"
            "  referrer_reward: {type: coupon, value: \"5.00\"}\n  minimum_order: \"30.00\"\n  hold: 14d\n"
            "  payout: coupon\n")


ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "live"
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
            "Mobile Safari/537.36")
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


# Added to a browser context before any page script: the page's layout shifts as Chromium reports them
# (the Layout Instability API, as Core Web Vitals' CLS counts them: shifts without recent input), and
# when bridge's widget entered the page. The theme's own shifts (a web font, a lazy image) come before.
LAYOUT_SHIFTS = """
window.__bridgeShifts = []; window.__bridgeAt = null;
new MutationObserver(function (changes) {
  changes.forEach(function (c) { c.addedNodes.forEach(function (n) {
    if (n.nodeName === 'BRIDGE-WIDGET' && window.__bridgeAt === null) window.__bridgeAt = performance.now();
  }); });
}).observe(document, {childList: true, subtree: true});
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (e) {
    if (!e.hadRecentInput) window.__bridgeShifts.push({value: e.value, at: e.startTime,
      nodes: (e.sources || []).map(function (s) { return (s.node ? s.node.nodeName + '.' + (s.node.className || '') : '?') + ' ' + JSON.stringify([s.previousRect.y, s.previousRect.height, s.currentRect.y, s.currentRect.height]); })});
  });
}).observe({type: 'layout-shift', buffered: true});
"""


def layout_shift(page) -> tuple[float, list]:
    """The cumulative layout shift from the widget's arrival on, and those shifts (once it has drawn itself)."""
    page.wait_for_timeout(1000)  # the observer reports a frame after a shift; the countdown ticks once more
    shifts, at = page.evaluate("[window.__bridgeShifts, window.__bridgeAt]")
    assert at is not None, "the widget never entered the page"
    after = [s for s in shifts if s["at"] >= at]
    return sum(s["value"] for s in after), after


def welcome_code(browser, bridge, code: str, email: str, screenshot: str | None = None) -> str:
    """A friend opens the referrer's link on a phone, asks for the welcome coupon and reads its code (shown
    once the shop has it)."""
    phone = browser.new_context(locale="fr-FR", user_agent=PHONE_UA, is_mobile=True, has_touch=True,
                                viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.goto(f"{bridge.url}/r/{code}")
    assert "Un proche vous offre 10%" in widget_text(page, ready="bridge-widget .b")
    page.locator("bridge-widget input[type=email]").fill(email)
    page.locator("bridge-widget button", has_text="Recevoir mon bon").click()
    status = page.locator("bridge-widget [role=status]")
    status.wait_for(timeout=30_000)
    assert "Votre code : " in status.inner_text(), status.inner_text()
    if screenshot:
        shot(page, screenshot)
    coupon = status.inner_text().split(":")[-1].strip()
    phone.close()
    return coupon


def desktop_and_phone(browser, url: str):
    """("desktop" | "phone", page) on `url`, each in a fresh context that records layout shifts; closed after."""
    for name, options in (("desktop", dict(user_agent=DESKTOP_UA)),
                          ("phone", dict(user_agent=PHONE_UA, is_mobile=True, has_touch=True,
                                         viewport={"width": 390, "height": 844}))):
        context = browser.new_context(locale="fr-FR", **options)
        context.add_init_script(LAYOUT_SHIFTS)
        page = context.new_page()
        page.goto(url)
        yield name, page
        context.close()


def referrer_link(browser, url: str, bridge, code: str, screenshot: str) -> None:
    """The referrer's thank-you page shows their own link and the offer, and moves nothing (desktop and phone)."""
    for name, page in desktop_and_phone(browser, url):
        text = widget_text(page)
        assert "Parrainez vos proches" in text and "Vos proches ont 10% de réduction" in text, text
        assert page.locator("bridge-widget input").input_value() == f"{bridge.url}/r/{code}"
        assert layout_shift(page) == (0, []), layout_shift(page)
        shot(page, f"{screenshot}-{name}")


def referrer_rewards(bridge) -> list[tuple[str, Decimal, str]]:
    """(referrer's e-mail, amount, payout state) of every referral reward."""
    return [(email, Decimal(amount), state) for email, amount, state in rows(
        bridge, "SELECT r.email_norm, r.amount, p.state FROM reward r JOIN payout p ON p.reward_id = r.id"
                " WHERE r.kind = 'referral_referrer'")]


def widget_text(page, ready: str = "bridge-widget h2") -> str:
    """The widget's text once it has drawn itself; else fail with what the page holds of bridge."""
    try:
        page.wait_for_selector(ready, timeout=15_000)
    except Exception as exc:
        html = page.content()
        scripts = [line for line in html.splitlines() if "widget.js" in line or "bridge" in line.lower()][:10]
        raise AssertionError(f"no widget on {page.url}: {exc}\n" + "\n".join(scripts)) from None
    return page.locator("bridge-widget .b").first.inner_text()


def rows(bridge, sql: str, *args) -> list[tuple]:
    """Read bridge's database (never written by this test)."""
    with sqlite3.connect(bridge.folder / "bridge.db") as con:
        return con.execute(sql, args).fetchall()


def past_hold(bridge) -> None:
    """`bridge tick --now` past close + hold, twice (the second run must change nothing)."""
    after = (datetime.now(timezone.utc) + timedelta(hours=49, days=14)).isoformat()
    bridge.cli("tick", "--now", after)
    bridge.cli("tick", "--now", after)


def paid_payouts(bridge) -> dict[str, Decimal]:
    return {order: Decimal(amount) for order, amount in rows(
        bridge, "SELECT r.order_id, p.amount FROM payout p JOIN reward r ON r.id = p.reward_id WHERE p.state = 'paid'")}


def state(bridge) -> dict:
    """Everything a replay must leave as it was."""
    return {table: rows(bridge, f"SELECT * FROM {table} ORDER BY 1") for table in
            ("membership", '"group"', "reward", "payout", "clawback")} | {
        "orders": rows(bridge, "SELECT order_id, paid, paid_at, total, refunded, cancelled FROM order_fact ORDER BY 1")}


def shot(page, name: str) -> None:
    """A screenshot for people to look at (artifacts/live/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
