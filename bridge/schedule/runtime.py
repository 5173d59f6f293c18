"""The running bridge: configuration, database binding and the jobs, built once."""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.basics.logs import setup_logging, url_password
from bridge.config import Config
from bridge.schedule.jobs import Job, new_owner
from bridge.schedule.plan import all_jobs
from bridge.storage import bind


@dataclass
class Runtime:
    """What a CLI command, the web app and the worker share."""

    config: Config
    owner: str = field(default_factory=new_owner)

    def jobs(self) -> list[Job]:
        """Return every job this bridge runs, in the order one tick runs them."""
        return all_jobs(self.config)


def start(config: Config, log: bool = True) -> Runtime:
    """Bind the database and logging for `config` and return the runtime."""
    if log:
        secrets = config.secrets() + tuple(filter(None, [url_password(config.server.database_url)]))
        setup_logging(config.server.log_level, secrets)
    bind(config.server.database_url)
    return Runtime(config)
