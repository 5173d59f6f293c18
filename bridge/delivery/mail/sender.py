"""The job that sends queued e-mails over SMTP, each once, retrying when the server fails.

A message is marked sent after the SMTP server accepted it. If the process dies between the two,
the message is sent again at the next run with the same Message-ID: at least once, never lost.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Callable

from bridge.config.model import Config
from bridge.delivery.mail.render import Unrenderable, render
from bridge.storage.db import db
from bridge.storage.models import EmailMessage

log = logging.getLogger("bridge.delivery.mail")
MAX_ATTEMPTS = 8
BATCH = 200


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after each failure, at most 2 hours."""
    return min(timedelta(minutes=1) * 2 ** max(attempts - 1, 0), timedelta(hours=2))


def send_queued(config: Config, now: datetime, connect: Callable[[], smtplib.SMTP] | None=None) -> str:
    """Send every queued message that is due; return a summary."""
    smtp = config.server.smtp
    rows = [r for r in EmailMessage.select().where(EmailMessage.state == "queued").order_by(EmailMessage.id).limit(BATCH)
            if not r.attempts or now >= r.updated_at + backoff(r.attempts)]
    if not rows:
        return "no e-mail to send"
    sent = failed = dropped = 0
    try:
        server = (connect or _connect)(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        for row in rows:
            _retry(row, f"cannot connect to the SMTP server: {exc}", now)
        return f"SMTP server unavailable ({type(exc).__name__}); {len(rows)} e-mails wait"
    try:
        for row in rows:
            try:
                message = render(config, row, now)
            except Unrenderable as exc:
                _mark(row, "failed", now, f"dropped: {exc}")
                dropped += 1
                continue
            try:
                # send_message flattens with a generator that writes ">From " for lines starting "From ";
                # the message's own policy (email.policy.default) leaves the text as written.
                server.sendmail(parseaddr(message["From"])[1], [parseaddr(message["To"])[1]],
                                message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
            except smtplib.SMTPRecipientsRefused as exc:
                _mark(row, "failed", now, f"recipient refused: {exc.recipients}")
                failed += 1
            except (OSError, smtplib.SMTPException) as exc:
                _retry(row, f"{type(exc).__name__}: {exc}", now)
                failed += 1
            else:
                _mark(row, "sent", now, None)
                sent += 1
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return f"e-mails: {sent} sent, {failed} failed, {dropped} dropped"


def _connect(smtp):
    """Open an SMTP session as configured (none, starttls or ssl; login when a user is set)."""
    context = ssl.create_default_context()
    if smtp.tls == "ssl":
        server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=30, context=context)
    else:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=30)
        if smtp.tls == "starttls":
            server.starttls(context=context)
    if smtp.username:
        server.login(smtp.username, smtp.password or "")
    return server


def _retry(row: EmailMessage, error: str, now: datetime) -> None:
    state = "failed" if row.attempts + 1 >= MAX_ATTEMPTS else "queued"
    with db.atomic():
        EmailMessage.update(attempts=EmailMessage.attempts + 1, last_error=error[:1000], state=state,
                            updated_at=now).where(EmailMessage.id == row.id).execute()
    log.warning("e-mail not sent", extra={"key": row.key, "state": state, "reason": error})


def _mark(row: EmailMessage, state: str, now: datetime, error: str | None) -> None:
    with db.atomic():
        EmailMessage.update(state=state, last_error=error, updated_at=now,
                            sent_at=now if state == "sent" else None).where(EmailMessage.id == row.id).execute()
