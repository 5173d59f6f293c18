"""The running bridge: configuration, database binding and the subsystems' jobs, built once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from bridge.config import Config
from bridge.jobs import Job, build_jobs, new_owner
from bridge.logs import setup_logging, url_password
from bridge.storage import bind


@dataclass
class Runtime:
    """What a CLI command, the web app and the worker share."""

    config: Config
    owner: str = field(default_factory=new_owner)
    job_factories: list[Callable[["Runtime"], list[Job]]] = field(default_factory=list)

    def jobs(self) -> list[Job]:
        """Return every job this bridge runs."""
        return build_jobs(self)


def start(config: Config, log: bool = True) -> Runtime:
    """Bind the database and logging for `config` and return the runtime."""
    if log:
        secrets = config.secrets() + tuple(filter(None, [url_password(config.server.database_url)]))
        setup_logging(config.server.log_level, secrets)
    bind(config.server.database_url)
    from bridge.ledger import ledger_jobs
    from bridge.mail.sender import mail_jobs
    from bridge.payouts import payout_jobs
    from bridge.sync import sync_jobs

    # In this order, so that one tick polls, settles, pays and then tells people.
    return Runtime(config, job_factories=[sync_jobs, ledger_jobs, payout_jobs, mail_jobs])
