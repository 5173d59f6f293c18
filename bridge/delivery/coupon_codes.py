"""Coupon codes a custom shop's owner created in their own system and uploaded: each taken once, by one payout of
exactly its amount, with a warning before an amount runs out.

Without an uploaded list bridge makes the codes itself (`payouts.coupon_code`) and the shop's system creates
them when the payout.requested event asks. With one, the event names the uploaded code to hand out.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import datetime
from decimal import Decimal

from bridge.basics.money import Money, MoneyError, format_amount, minor_digits, parse_amount
from bridge.config.model import Shop
from bridge.ledger.health import LOW_CODES, codes_left
from bridge.ledger.news import enqueue
from bridge.storage.bulk import chunks, insert_ignoring_many
from bridge.storage.db import is_postgresql
from bridge.storage.models import CouponCode, Payout

log = logging.getLogger("bridge.delivery.coupon_codes")
CODE = re.compile(r"[A-Za-z0-9_-]{4,64}")
MAX_LINES = 100_000


def read_code_list(text: str, currency: str) -> tuple[list[tuple[str, Decimal]], list[str]]:
    """The (code, amount) pairs of a CSV text ("CODE,AMOUNT" per line, a header line allowed), and every problem
    with its line number; an upload with problems stores nothing."""
    pairs, problems, seen = [], [], {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
            continue
        if number == 1 and row[0].strip().lower() == "code":
            continue
        if len(row) != 2:
            problems.append(f"line {number}: expected CODE,AMOUNT, got {len(row)} field(s)")
            continue
        code, written = row[0].strip(), row[1].strip()
        if not CODE.fullmatch(code):
            problems.append(f"line {number}: {code!r} is not a code (4 to 64 letters, digits, - or _)")
            continue
        try:
            amount = parse_amount(written)
            Money(amount, currency)
            if amount <= 0 or -amount.as_tuple().exponent > minor_digits(currency):
                raise MoneyError(f"{currency} amounts have {minor_digits(currency)} decimals and are above 0")
        except (MoneyError, ValueError) as exc:
            problems.append(f"line {number}: amount {written!r}: {exc}")
            continue
        if code.upper() in seen:
            problems.append(f"line {number}: code {code} is already on line {seen[code.upper()]}")
            continue
        seen[code.upper()] = number
        pairs.append((code, amount))
        if len(pairs) > MAX_LINES:
            problems.append(f"more than {MAX_LINES} codes: upload them in parts")
            break
    return pairs, problems


def upload_codes(shop: Shop, pairs: list[tuple[str, Decimal]], now: datetime) -> tuple[int, int]:
    """Store the codes (inside the caller's transaction); return (added, already uploaded)."""
    before = CouponCode.select().where(CouponCode.shop == shop.id).count()
    for part in chunks(pairs):
        insert_ignoring_many(CouponCode, [dict(shop=shop.id, code=code, currency=shop.currency, amount=_exact(amount, shop),
                                               uploaded_at=now, payout_key=None, used_at=None) for code, amount in part])
    added = CouponCode.select().where(CouponCode.shop == shop.id).count() - before
    return added, len(pairs) - added


def _exact(amount: Decimal, shop: Shop) -> Decimal:
    # one written form for every amount of the list (SQLite compares amounts as text: "4.8" is not "4.80")
    return Money(amount, shop.currency).rounded().amount


def has_code_list(shop_id: str) -> bool:
    return CouponCode.select().where(CouponCode.shop == shop_id).exists()


def take_code(shop: Shop, payout: Payout, alert_emails: tuple[str, ...], now: datetime) -> str | None:
    """The uploaded code this payout hands out (the one it already took, after a crash), or None when no code of
    its amount is left; inside the caller's transaction. Warns when an amount runs low."""
    taken = CouponCode.get_or_none(CouponCode.payout_key == payout.key)
    if taken is not None:
        return taken.code
    query = CouponCode.select().where((CouponCode.shop == shop.id) & (CouponCode.amount == _exact(payout.amount, shop))
                                      & CouponCode.payout_key.is_null()).order_by(CouponCode.id).limit(1)
    code = (query.for_update("FOR UPDATE SKIP LOCKED") if is_postgresql() else query).first()
    if code is None:
        return None
    CouponCode.update(payout_key=payout.key, used_at=now).where(CouponCode.id == code.id).execute()
    left = codes_left(shop.id).get(payout.amount, 0)
    if left < LOW_CODES:
        amount = format_amount(payout.amount, shop.currency)
        log.warning("uploaded coupon codes run low", extra={"shop": shop.id, "amount": amount, "left": left})
        uploaded = CouponCode.select().where((CouponCode.shop == shop.id)
                                             & (CouponCode.amount == _exact(payout.amount, shop))).count()
        for email in alert_emails:  # once per amount and upload: a new upload can warn again
            enqueue(f"codes_low:{shop.id}:{payout.amount}:{uploaded}:{email}", "codes_low", shop.id, None, email, now,
                    shop_id=shop.id, amount=str(payout.amount), left=left)
    return code.code
