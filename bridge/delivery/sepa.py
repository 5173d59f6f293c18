"""SEPA credit transfers: people's accounts from the claim page, batches, and pain.001 files for the bank.

A batch is created (and its payouts moved to `in_batch`) in one transaction; the file is generated
from the batch, so exporting it again gives the same file with the same message id, which banks
refuse to execute twice. `mark_sent` records that the bank took it: its payouts are then paid.
"""

from __future__ import annotations

import os
import secrets
import xml.etree.ElementTree as ET
from datetime import date, datetime
from decimal import Decimal

import xmlschema
from schwifty import BIC, IBAN
from sepaxml import SepaTransfer

from bridge.config.model import Config
from bridge.delivery.payouts import recipient
from bridge.ledger import events
from bridge.ledger.news import enqueue
from bridge.rewards.payouts import APPROVED, AWAITING_IBAN, IN_BATCH, PAID, PENDING, READY
from bridge.sharing.links import check_claim_token
from bridge.storage.db import db
from bridge.storage.models import BankAccount, Payout, Reward, SepaBatch, SepaBatchItem

SCHEMA = "pain.001.001.03"  # the version every SEPA bank accepts
_NS = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}


class AccountRefused(ValueError):
    """An account that cannot receive a SEPA transfer; the message says which field and why."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code = field, code


def claimable_payout(secret_key: str, token: str) -> Payout | None:
    """The SEPA payout a claim link's token names, if the token is genuine (None for anything else)."""
    def key_of(payout_id: int) -> str | None:
        row = Payout.get_or_none((Payout.id == payout_id) & (Payout.method == "sepa"))
        return row.key if row else None

    found = check_claim_token(secret_key, token, key_of)
    return Payout.get_by_id(found) if found else None


def stored_account(payout: Payout) -> BankAccount | None:
    """The bank account already given for a payout (None before the claim page was filled in)."""
    return BankAccount.get_or_none(BankAccount.payout == payout.id)


def check_account(holder: str, iban: str, bic: str | None) -> tuple[str, str, str | None]:
    """Validate what a person typed: holder name, IBAN in the SEPA zone, BIC (optional, must fit the IBAN)."""
    holder = " ".join((holder or "").split())
    if not holder or len(holder) > 70:
        raise AccountRefused("holder", "holder_missing", "the account holder's name is required (70 characters at most)")
    try:
        parsed = IBAN(iban or "")
    except ValueError as exc:
        raise AccountRefused("iban", "iban_invalid", f"this IBAN is not valid ({exc})") from None
    if not parsed.in_sepa_zone:
        raise AccountRefused("iban", "iban_outside_sepa", f"accounts in {parsed.country_code} cannot receive SEPA transfers")
    if bic and bic.strip():
        try:
            checked = BIC(bic)
        except ValueError as exc:
            raise AccountRefused("bic", "bic_invalid", f"this BIC is not valid ({exc})") from None
        if checked.country_code != parsed.country_code and parsed.country_code not in ("MC", "SM", "VA", "AD"):
            raise AccountRefused("bic", "bic_mismatch", f"this BIC is from {checked.country_code}, the IBAN from {parsed.country_code}")
        return holder, parsed.compact, checked.compact
    return holder, parsed.compact, None


def save_account(payout: Payout, holder: str, iban: str, bic: str | None, now: datetime) -> str:
    """Keep the account for a payout that waits for one (or correct it before export); return the state."""
    with db.atomic():
        current = Payout.get_by_id(payout.id)
        if current.state not in (APPROVED, AWAITING_IBAN, READY, PENDING):
            return current.state
        BankAccount.insert(payout=payout.id, holder=holder, iban=iban, bic=bic, created_at=now).on_conflict(
            conflict_target=[BankAccount.payout],
            update={BankAccount.holder: holder, BankAccount.iban: iban, BankAccount.bic: bic}).execute()
        if current.state in (APPROVED, AWAITING_IBAN):
            Payout.update(state=READY, updated_at=now).where(Payout.id == payout.id).execute()
            return READY
        return current.state


def mask_iban(iban: str) -> str:
    """Show an IBAN as FR76 •••• 0189: enough to recognise it, not to use it."""
    return f"{iban[:4]} •••• {iban[-4:]}"


def export_batch(config: Config, shop_id: str, execution_date: date, now: datetime) -> SepaBatch | None:
    """Put every `ready` SEPA payout of a shop into a new batch; None when there is nothing to pay."""
    with db.atomic():
        ready = list(Payout.select(Payout).join(Reward).where(
            (Payout.state == READY) & (Payout.method == "sepa") & (Reward.shop == shop_id)).order_by(Payout.id))
        if not ready:
            return None
        batch = SepaBatch.create(
            message_id=f"BRIDGE-{now:%Y%m%d%H%M%S}-{secrets.token_hex(6).upper()}", shop=shop_id, currency="EUR",
            total=sum((p.amount for p in ready), Decimal(0)), count=len(ready), execution_date=execution_date,
            state="exported", created_at=now)
        SepaBatchItem.insert_many([dict(batch=batch.id, payout=p.id) for p in ready]).execute()
        Payout.update(state=IN_BATCH, external_ref=batch.message_id, updated_at=now).where(
            Payout.id.in_([p.id for p in ready])).execute()
    return batch


def batch_xml(config: Config, batch: SepaBatch) -> bytes:
    """The batch's pain.001 file, validated against the scheme's XSD (the same bytes every time)."""
    debtor = config.shop(batch.shop).sepa
    if debtor is None:
        raise ValueError(f"shop {batch.shop} has no sepa section: bridge does not know the account to pay from")
    transfer = SepaTransfer({"name": debtor.name, "IBAN": debtor.iban, "BIC": debtor.bic, "batch": True,
                             "currency": "EUR"}, schema=SCHEMA, clean=True)
    items = SepaBatchItem.select(SepaBatchItem, Payout).join(Payout).where(SepaBatchItem.batch == batch.id).order_by(Payout.id)
    for item in items:
        payout = item.payout
        account = BankAccount.get(BankAccount.payout == payout.id)
        payment = {"name": account.holder, "IBAN": account.iban, "amount": int(payout.amount * 100),
                   "execution_date": batch.execution_date, "endtoend_id": f"BRIDGE{payout.id}",
                   "description": f"{config.shop(batch.shop).name} cashback {payout.id}"[:140]}
        if account.bic:
            payment["BIC"] = account.bic
        transfer.add_payment(payment)
    root = ET.fromstring(transfer.export(validate=True))
    # sepaxml draws random ids and the current time; the batch's own make every export of it identical.
    root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", _NS).text = batch.message_id
    root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm", _NS).text = batch.created_at.strftime("%Y-%m-%dT%H:%M:%S")
    for index, node in enumerate(root.findall("p:CstmrCdtTrfInitn/p:PmtInf/p:PmtInfId", _NS)):
        node.text = f"{batch.message_id}-{index + 1}"[:35]
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    schema().validate(xml)
    return xml


def schema() -> xmlschema.XMLSchema:
    """The pain.001.001.03 XSD shipped with sepaxml."""
    import sepaxml

    return xmlschema.XMLSchema(os.path.join(os.path.dirname(sepaxml.__file__), "schemas", f"{SCHEMA}.xsd"))


def mark_sent(config: Config, batch: SepaBatch, now: datetime) -> int:
    """Record that the bank took the batch: its payouts are paid (once; a second call changes nothing)."""
    with db.atomic():
        if SepaBatch.update(state="sent", sent_at=now).where((SepaBatch.id == batch.id) & (SepaBatch.state == "exported")).execute() == 0:
            return 0
        payouts = list(Payout.select(Payout, Reward).join(Reward).join_from(Payout, SepaBatchItem, on=(
            SepaBatchItem.payout == Payout.id)).where((SepaBatchItem.batch == batch.id) & (Payout.state == IN_BATCH)))
        Payout.update(state=PAID, updated_at=now).where(Payout.id.in_([p.id for p in payouts])).execute()
        for payout in payouts:
            enqueue(f"paid:{payout.key}", "payout_sent", payout.reward.shop, payout.reward.campaign,
                    recipient(payout.reward), now, payout=payout.key)
        events.store(events.endpoints_of(config, batch.shop), [
            events.payout_event("payout.paid", p, p.reward, now, reference=batch.message_id) for p in payouts])
    return len(payouts)
