"""`bridge demo`: the demo shop, an SMTP catcher and bridge (web and jobs), all on loopback.

The demo shop speaks the WooCommerce REST API and webhooks; bridge drives it with its real
WooCommerce connector, as it would a live shop. "Fast-forward" runs the jobs once as if the
campaign's window and hold were over, then lets the clock go on as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller
from waitress import wasyncore
from waitress.server import create_server

from bridge.config.model import Config
from bridge.connectors import connector_for
from bridge.demo import storefront
from bridge.demo.woo import DemoWooCommerce
from bridge.schedule.jobs import run_due_jobs
from bridge.schedule.runtime import start
from bridge.storage import upgrade
from bridge.storage.db import db
from bridge.storage.models import JobState
from bridge.storage.secrets import ensure_shop_secret
from bridge.web import create_app

log = logging.getLogger("bridge.demo")


class _Catcher:
    """aiosmtpd handler: keep every message for the demo's e-mail page."""

    def __init__(self, outbox: list) -> None:
        self.outbox = outbox

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        from email import message_from_bytes, policy

        self.outbox.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


class Demo:
    """Everything `make demo` runs; `start()` then `stop()` (the end-to-end test does the same)."""

    def __init__(self, config: Config, tick_seconds: float = 2.0) -> None:
        self.config, self.tick_seconds = config, tick_seconds
        self.shop_config = config.shops[0]
        self.campaign = next(c for c in config.campaigns if c.type == "social_buying")
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def start(self) -> "Demo":
        self.runtime = start(self.config)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the demo shop's request lines
        with db.connection_context():
            upgrade()
        woo, shop_url = self.shop_config.woocommerce, urlsplit(self.shop_config.url)
        self.shop = DemoWooCommerce(woo.consumer_key, woo.consumer_secret, port=shop_url.port or 80)
        self.shop.name = self.shop_config.name
        storefront.seed(self.shop)
        storefront.install(self.shop, fast_forward=self.fast_forward, bridge_url=self.config.server.public_url)
        self.shop.snippet = (f'<script src="{self.config.server.public_url}/widget.js" data-shop="{self.shop_config.id}" '
                             f'async></script>')
        self.shop.__enter__()
        smtp = self.config.server.smtp
        self.smtp = Controller(_Catcher(self.shop.outbox), hostname=smtp.host, port=smtp.port)
        self.smtp.start()
        public = urlsplit(self.config.server.public_url)
        self.web = create_server(create_app(self.config, self.runtime), host=public.hostname, port=public.port or 80,
                                 threads=8)
        self.serving = threading.Thread(target=self._serve, daemon=True)
        self.serving.start()
        with db.connection_context():
            secret = ensure_shop_secret(self.shop_config.id)
        connector_for(self.shop_config).install_webhooks(f"{self.config.server.public_url}/webhooks/{self.shop_config.id}",
                                                         secret)
        self.jobs = threading.Thread(target=self._loop, daemon=True)
        self.jobs.start()
        return self

    def _serve(self) -> None:
        """waitress's loop, one poll at a time, ended and closed from this same thread: closing its
        sockets from another thread while select() waits on them fails now and then (EBADF)."""
        while not self.stopping.is_set():
            wasyncore.loop(timeout=0.2, map=self.web._map, count=1)
        self.web.task_dispatcher.shutdown()
        wasyncore.close_all(self.web._map)

    def _loop(self) -> None:
        """Run the jobs every few seconds on the wall clock (the worker's job, kept simple for a demo)."""
        while not self.stopping.wait(self.tick_seconds):
            self.tick(datetime.now(timezone.utc))

    def tick(self, now: datetime) -> dict[str, str]:
        with self.lock, db.connection_context():
            return run_due_jobs(self.runtime.jobs(), now, self.runtime.owner, self.config.server.worker.lease)

    def fast_forward(self) -> str:
        """Run every job as if the window and the hold were over, then let the jobs follow the clock again."""
        later = datetime.now(timezone.utc) + self.campaign.window + self.campaign.hold + timedelta(minutes=1)
        results = self.tick(later)
        with self.lock, db.connection_context():
            JobState.update(last_run_for=None).execute()  # so that the next ticks run on the wall clock
        return "\n".join(f"{name}: {detail}" for name, detail in results.items())

    def stop(self) -> None:
        self.stopping.set()
        self.serving.join(timeout=10)
        self.smtp.stop()
        self.shop.__exit__(None, None, None)


def run(config: Config) -> None:
    """Start the demo and wait for Ctrl-C."""
    demo = Demo(config).start()
    print(f"\n  The demo shop:      {demo.shop.url}/\n  bridge:             {config.server.public_url}/healthz"
          f"\n  bridge admin:       {config.server.public_url}/admin   (password: server.admin_password of the config)"
          f"\n  E-mails sent:       {demo.shop.url}/outbox\n\n  Buy something, open your share link in a private window, buy again "
          "as a friend,\n  then press 'Fast-forward to payout'. Ctrl-C stops the demo.\n", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        demo.stop()
