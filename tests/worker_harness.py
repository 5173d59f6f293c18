"""Run a real worker process with one deliberately slow job, for the lease tests.

    python -m tests.worker_harness CONFIG SECONDS
"""

import os
import signal
import sys
import threading
import time
from datetime import timedelta

from bridge.config import load_config
from bridge.schedule.jobs import Job
from bridge.schedule.runtime import start
from bridge.schedule.worker import run_worker


def slow(now):
    """Hold the job for a while, so that a second runner would overlap if the lease failed."""
    time.sleep(0.3)
    return "slept"


def main(config_path: str, seconds: float) -> None:
    runtime = start(load_config(config_path), log=False)
    threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
    run_worker(runtime, [Job("slow", timedelta(milliseconds=100), slow)])


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
