"""What the worker runs and how often, in the order poll → settle → pay → tell.

This is the one module that knows the jobs' intervals and their order: one tick polls the shops,
settles the due groups and referrals, delivers the payouts, then sends the e-mails those steps queued
and posts the events they wrote.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from bridge.config.model import Config
from bridge.connectors import connector_for
from bridge.connectors.errors import ConnectorError
from bridge.delivery.events import deliver_events
from bridge.delivery.mail.sender import send_queued
from bridge.delivery.payouts import deliver_payouts
from bridge.facts.sync import sync_shop
from bridge.ledger.buyers import refresh_buyers
from bridge.ledger.grants import settle_due_groups
from bridge.ledger.referrals import settle_referrals
from bridge.ledger.rollup import roll_up
from bridge.schedule.jobs import ExpectedFailure, Job, prune_job_runs

log = logging.getLogger("bridge.schedule")
SEND_EMAILS_EVERY = timedelta(minutes=1)
PRUNE_EVERY = timedelta(hours=1)
DELIVER_EVENTS_EVERY = timedelta(seconds=15)
ROLL_UP_EVERY = timedelta(minutes=1)  # the dashboard rolls up too when it is opened: this keeps each roll-up small


class ShopUnavailable(ExpectedFailure):
    """A poll that could not reach its shop (an expected failure: logged without a traceback)."""


def all_jobs(config: Config) -> list[Job]:
    """Every job of this bridge, housekeeping first, then poll → settle → pay → tell."""
    return ([Job("prune_job_runs", PRUNE_EVERY, prune_job_runs()), Job("roll_up_stats", ROLL_UP_EVERY, _roll_up(config))]
            + sync_jobs(config) + ledger_jobs(config) + payout_jobs(config) + mail_jobs(config) + event_jobs(config))


def _roll_up(config: Config):
    def run(now: datetime) -> str:
        counted = roll_up(now)  # clicks first: a first share or click marks the buyer's row
        return f"counted {counted} clicks and link events, {refresh_buyers(config)} orders"
    return run


def sync_jobs(config: Config) -> list[Job]:
    """One scheduled poll per shop that has a connector and a `poll_every` (webhooks are only hints)."""
    jobs = []
    for shop in config.shops:
        if shop.sync.poll_every is None:
            continue
        try:
            connector_for(shop)
        except LookupError as exc:
            log.warning("shop not polled", extra={"shop": shop.id, "reason": str(exc)})
            continue
        jobs.append(Job(f"sync_{shop.id}", shop.sync.poll_every, _poll(config, shop.id)))
    return jobs


def _poll(config: Config, shop_id: str) -> Callable[[datetime], str]:
    """Build the job that polls one shop; an unreachable shop is reported and tried at the next run."""

    def run(now: datetime) -> str:
        try:
            result = sync_shop(config, shop_id, now)
        except ConnectorError as exc:
            # The cursor only moves with the pages read, so nothing is lost while the shop is away.
            raise ShopUnavailable(str(exc)) from None
        return f"read {result.orders} orders in {result.pages} pages"

    return run


def ledger_jobs(config: Config) -> list[Job]:
    """Settle due groups, then due referrals, every `server.worker.close_groups_every`."""
    every = config.server.worker.close_groups_every
    return [Job("settle_groups", every, lambda now: settle_due_groups(config, now)),
            Job("settle_referrals", every, lambda now: settle_referrals(config, now))]


def payout_jobs(config: Config) -> list[Job]:
    """The delivery job, every `server.worker.payouts_every`."""
    return [Job("deliver_payouts", config.server.worker.payouts_every, lambda now: deliver_payouts(config, now))]


def mail_jobs(config: Config) -> list[Job]:
    """The sending job, when the configuration has an SMTP server (else e-mails wait in the outbox)."""
    if config.server.smtp is None:
        return []
    return [Job("send_emails", SEND_EMAILS_EVERY, lambda now: send_queued(config, now))]


def event_jobs(config: Config) -> list[Job]:
    """The events' delivery, when a shop has event endpoints: after everything that writes events."""
    if not any(shop.events for shop in config.shops):
        return []
    return [Job("deliver_events", DELIVER_EVENTS_EVERY, lambda now: deliver_events(config, now))]
