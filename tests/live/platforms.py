"""Real WooCommerce and PrestaShop shops on loopback (../shared/platforms), and what a test does with them.

A `LiveShop` wraps one platform folder's `start`/`stop` scripts: the shop runs in a temporary folder under
/tmp (PrestaShop's web server user must be able to reach it), `fresh()` brings it back to the installed
state, and `log_tail()` is what a failing test prints of the shop's own side.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"
PLATFORMS = SHARED / "platforms"
LOGS = {"woocommerce": ("web", "wp_debug", "start"), "prestashop": ("apache_error", "start")}


def free_port() -> int:
    """A TCP port nobody listens on right now (the shop or bridge takes it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ShopFailed(RuntimeError):
    """A platform script failed: its own words and the log tail are in the message."""


class LiveShop:
    """One real shop of `platform`, started in its own folder on its own port."""

    def __init__(self, platform: str, folder: str | None = None):
        self.platform = platform
        self.scripts = PLATFORMS / platform
        # A developer may keep a shop between runs (BRIDGE_LIVE_DIR_WOOCOMMERCE=/tmp/wc): it is reset, never removed.
        self.kept = bool(folder)
        self.dir = Path(folder) if folder else Path(tempfile.mkdtemp(prefix=f"bridge-live-{platform}-", dir="/tmp"))
        self.info: dict = {}

    def start(self, *args: str) -> dict:
        """Run `start DIR ARGS` and keep the shop.json it prints."""
        done = subprocess.run([str(self.scripts / "start"), str(self.dir), *args], capture_output=True, text=True,
                              timeout=900)
        if done.returncode != 0:
            raise ShopFailed(f"{self.platform} start {' '.join(args)} exited {done.returncode}:\n"
                             f"{done.stderr[-3000:]}\n{self.log_tail()}")
        self.info = json.loads(done.stdout.strip().splitlines()[-1])
        return self.info

    def fresh(self) -> dict:
        """Back to the just-installed state (orders, customers, webhooks, coupons gone; files kept)."""
        return self.start("--fresh")

    def stop(self) -> None:
        subprocess.run([str(self.scripts / "stop"), str(self.dir)], capture_output=True, text=True, timeout=300)

    def remove(self) -> None:
        if self.kept:
            return
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_paths(self) -> list[Path]:
        logs = self.info.get("logs") or {}
        paths = [Path(logs[name]) for name in LOGS[self.platform] if isinstance(logs.get(name), str)]
        return paths or sorted((self.dir / "logs").glob("*.log"))

    def log_tail(self, lines: int = 25) -> str:
        """The end of the shop's own logs (web server, PHP, platform), for a failing test's report."""
        out = []
        for path in self.log_paths():
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            out.append(f"--- {path} (last {len(text)} lines)\n" + "\n".join(text))
        return "\n".join(out)

    def run(self, *argv: str, timeout: int = 120) -> str:
        """Run one of the shop's helper commands (wp-cli, order.php...) and return its stdout; fail loudly."""
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise ShopFailed(f"{' '.join(argv)} exited {done.returncode}:\n"
                             f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return done.stdout
