"""Payloads recorded from the real shops (tests/fixtures/live/SOURCES.md), read as bridge reads them."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bridge.connectors.prestashop import normalise_order as prestashop_order
from bridge.connectors.woocommerce import normalise_order as woocommerce_order
from bridge.facts.ingest import with_paid_at
from bridge.rewards.amounts import eligible_amount
from bridge.rewards.model import Line

LIVE = Path(__file__).parent / "fixtures" / "live"


def live_json(name):
    return json.loads((LIVE / name).read_text())


def test_a_real_cash_on_delivery_order_with_a_line_refund_and_bridges_own_refund():
    order = woocommerce_order("wc", live_json("wc-cod-order-line-refund-and-bridge-refund.json"),
                              refund_details=live_json("wc-cod-order-refunds.json"))
    assert (order.paid, order.paid_at, order.paid_at_source) == (True, None, "first_seen")  # no date_paid
    assert (order.total, order.refunded, order.own_refunded) == (Decimal("63.60"), Decimal("9.60"), Decimal("2.40"))
    assert order.refunded_lines == (Line("103", 1, Decimal("8.00"), Decimal("1.60")),)
    assert order.refunded_shipping == 0 and order.counts
    # 2 x 24.00 of oil still eligible; the tea came back; shipping never counts
    assert eligible_amount(order, None, "paid_incl_tax") == Decimal("48.00")
    now = datetime(2026, 12, 1, 23, 0, tzinfo=timezone.utc)
    dated = with_paid_at(order, None, now)
    assert dated.paid_at == order.modified_at and dated.paid_at_source == "first_seen"
    later = with_paid_at(woocommerce_order("wc", {**live_json("wc-cod-order-line-refund-and-bridge-refund.json"),
                                                   "status": "completed", "date_paid_gmt": "2026-12-20T10:00:00"}),
                         dated, now + timedelta(days=19))
    assert later.paid_at == dated.paid_at  # completing it later never moves the payment instant


def test_a_real_prestashop_order_with_a_credit_slip_names_the_refunded_line():
    [data] = live_json("ps-order-paid-with-credit-slip.json")["orders"]
    slips = live_json("ps-order-slips.json")["order_slips"]
    paid = {"2": {"paid": "1", "logable": "1", "template": "payment"}}
    order = prestashop_order("ps", data, paid, "ada@example.test", "EUR", slips, ZoneInfo("Europe/Paris"))
    assert order.paid and order.refunded == Decimal("22.94")
    assert [(line.product_id, line.quantity, line.total + line.tax) for line in order.refunded_lines] == [
        ("1", 1, Decimal("22.94"))]
    assert eligible_amount(order, None, "paid_incl_tax") == order.lines[0].total + order.lines[0].tax - Decimal("22.94")
    assert live_json("ps-orders-empty-list.json") == []
