"""Who is who: normalised e-mails and addresses, self-referral refusals and fraud flags."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from functools import lru_cache

from disposable_email_domains import blocklist as _DISPOSABLE

from bridge.rewards.model import Check, Order

_GMAIL = {"gmail.com", "googlemail.com"}
SAME_DEVICE_WINDOW = timedelta(hours=24)


@lru_cache(maxsize=16384)  # pure, and asked again for the same people at every join and every decision
def normalise_email(email: str | None) -> str | None:
    """Lower-case, trim, and fold Gmail dots and +tags: ' Marie.D+shop@GMail.com' -> 'maried@gmail.com'."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else None


@lru_cache(maxsize=16384)
def normalise_address(address: str | None) -> str | None:
    """Fold case, accents, punctuation and spacing so that two spellings of one address compare equal."""
    if not address:
        return None
    text = unicodedata.normalize("NFKD", address).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return text or None


def is_disposable(email: str | None) -> bool:
    """Tell whether the e-mail's domain is a known disposable-mail provider."""
    normal = normalise_email(email)
    return bool(normal) and normal.rpartition("@")[2] in _DISPOSABLE


def self_referral_checks(friend: Order, sponsor: Order) -> tuple[Check, ...]:
    """Compare a friend's order with the sponsor's: each way of being the same person is a failed check."""
    checks = []
    email = normalise_email(friend.email)
    same_email = email is not None and email == normalise_email(sponsor.email)
    checks.append(Check("self_referral_email", not same_email,
                        "same e-mail as the person who shared the link" if same_email else "a different e-mail"))
    same_customer = bool(friend.customer_id) and friend.customer_id not in ("0",) and friend.customer_id == sponsor.customer_id
    checks.append(Check("self_referral_customer", not same_customer,
                        "same customer account as the person who shared the link" if same_customer
                        else "a different customer account"))
    address, theirs = normalise_address(friend.billing_address), normalise_address(sponsor.billing_address)
    same_address = address is not None and address == theirs
    unknown = address is None or theirs is None
    checks.append(Check("self_referral_address", not same_address,
                        "same billing address as the person who shared the link" if same_address
                        else "billing address not checked (the shop gave none)" if unknown
                        else "a different billing address"))
    same_device = bool(friend.ip and friend.user_agent) and (friend.ip, friend.user_agent) == (sponsor.ip, sponsor.user_agent) \
        and abs(friend.created_at - sponsor.created_at) <= SAME_DEVICE_WINDOW
    checks.append(Check("self_referral_device", not same_device,
                        "same IP address and browser as the person who shared the link, within 24 hours" if same_device
                        else "a different device or more than 24 hours apart"))
    return tuple(checks)
