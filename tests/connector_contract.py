"""The contract every connector keeps. A platform's test module subclasses `ConnectorContract` and
supplies a `harness` fixture: its fake shop on loopback, its data, and how to break it.

A harness has:
    expected            {order id: {field: value}} for orders seeded from the platform's fixtures
    missing_order_id    an id the shop does not have
    refundable_order_id an order that can take a partial refund of 1.00
    refunds             whether the platform can refund a payment (if not, refund() must refuse clearly)
    coupons             whether the platform creates coupons
    connector(broken)   a connector to the fake shop; broken: None | "credentials" | "unreachable"
    put_order(id, modified)  add or change an order, modified at that UTC instant
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bridge.connectors.base import CouponSpec
from bridge.connectors.errors import FatalError, NotFound, RetriableError

T0 = datetime(2026, 5, 1, tzinfo=timezone.utc)


class ConnectorContract:
    """Behaviour shared by every platform; the subclass gives data only."""

    def test_orders_are_normalised_as_the_fixtures_say(self, harness):
        connector = harness.connector()
        for order_id, fields in harness.expected.items():
            order = connector.fetch_order(order_id)
            assert order.shop == connector.shop.id and order.id == order_id
            assert {name: getattr(order, name) for name in fields} == fields
            assert isinstance(order.total, Decimal) and isinstance(order.refunded, Decimal)
            assert order.created_at.tzinfo is not None and order.created_at.utcoffset() == timedelta(0)

    def test_a_missing_order_is_not_found(self, harness):
        with pytest.raises(NotFound):
            harness.connector().fetch_order(harness.missing_order_id)

    def test_changes_are_read_once_each_oldest_first_across_pages(self, harness):
        for i in range(1, 251):
            harness.put_order(10_000 + i, T0 + timedelta(minutes=i))
        pages = list(harness.connector().fetch_changed(T0))
        orders = [o for page in pages for o in page if int(o.id) > 10_000]
        assert len(pages) >= 3 and len(orders) == 250 and len({o.id for o in orders}) == 250
        stamps = [o.modified_at for o in orders]
        assert stamps == sorted(stamps)

    def test_changes_start_at_since(self, harness):
        for i in range(1, 21):
            harness.put_order(20_000 + i, T0 + timedelta(hours=i))
        since = T0 + timedelta(hours=15)
        read = {o.id for page in harness.connector().fetch_changed(since) for o in page if int(o.id) > 20_000}
        assert read == {str(20_000 + i) for i in range(15, 21)}

    def test_wrong_credentials_are_fatal(self, harness):
        with pytest.raises(FatalError) as caught:
            harness.connector("credentials").fetch_order(next(iter(harness.expected)))
        assert caught.value.status in (401, 403)

    def test_an_unreachable_shop_is_retriable(self, harness):
        with pytest.raises(RetriableError):
            harness.connector("unreachable").fetch_order(next(iter(harness.expected)))

    def test_a_coupon_is_created_once(self, harness):
        if not harness.coupons:
            pytest.fail("every platform bridge supports creates coupons")
        connector = harness.connector()
        spec = CouponSpec(code="CONTRACT-7K2M", email="ada@example.test", amount=Decimal("5.00"),
                          description="contract")
        first = connector.create_coupon(spec)
        assert connector.create_coupon(spec) == first

    def test_a_refund_happens_once_per_key(self, harness):
        connector = harness.connector()
        order_id = harness.refundable_order_id
        if not harness.refunds:
            with pytest.raises(FatalError, match="sepa or coupon"):  # said before any money moves
                connector.refund(order_id, Decimal("1.00"), "contract-key", "contract")
            return
        before = connector.fetch_order(order_id)
        first = connector.refund(order_id, Decimal("1.00"), "contract-key", "contract")
        assert connector.refund(order_id, Decimal("1.00"), "contract-key", "contract") == first
        after = connector.fetch_order(order_id)
        # bridge's own refund is known as bridge's: it never counts as the customer's
        assert (after.refunded, after.own_refunded) == (before.refunded, before.own_refunded + Decimal("1.00"))
