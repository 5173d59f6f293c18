"""Real `bridge tick` processes, killed (SIGKILL) wherever a fake on loopback chooses, again and again; then run
undisturbed. The crash tests of payouts and of events share it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Callable

BRIDGE = os.path.join(os.path.dirname(sys.executable), "bridge")


class KilledTicks:
    """`kill(where)` from a fake's handler kills the running tick; `run(arm, kills, most)` repeats ticks, each one
    armed by `arm()` first, until `kills` of them died (or `most` ran); `finish()` ticks undisturbed."""

    def __init__(self, config_path, start: datetime) -> None:
        self.path, self.start = str(config_path), start
        self.kills: Counter = Counter()
        self.runs = 0
        self._lock, self._victim = threading.Lock(), {}

    def kill(self, where: str) -> None:
        with self._lock:
            process = self._victim.pop("process", None)
        if process is not None:
            os.kill(process.pid, signal.SIGKILL)
            self.kills[where] += 1

    def run(self, arm: Callable[[], None], kills: int, most: int) -> None:
        while sum(self.kills.values()) < kills and self.runs < most:
            self.runs += 1
            arm()
            process = subprocess.Popen([BRIDGE, "--config", self.path, "tick", "--now",
                                        (self.start + timedelta(minutes=10 * self.runs)).isoformat()],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            with self._lock:
                self._victim["process"] = process
            process.communicate(timeout=60)  # read its logs as they come, so that it never blocks on a full pipe
            with self._lock:
                self._victim.pop("process", None)
            time.sleep(1.1)  # the dead process's job lease (1 s) runs out

    def finish(self, ticks: int = 3) -> None:
        """Then the worker runs undisturbed, a day later; each tick must exit 0."""
        for extra in range(ticks):
            done = subprocess.run([BRIDGE, "--config", self.path, "tick", "--now",
                                   (self.start + timedelta(days=1, minutes=10 * extra)).isoformat()],
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            time.sleep(1.1)
