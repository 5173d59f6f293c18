"""The live tier: one real WooCommerce and one real PrestaShop shop per test session, stopped at the end.

A failing test that used a shop gets the end of that shop's logs in its report, so that what the
shop said is read next to what bridge saw.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

from tests.live.platforms import LiveShop, free_port

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = str(Path(sys.executable).with_name("bridge"))
_SHOPS: dict[str, LiveShop] = {}


def _shop(platform: str) -> LiveShop:
    if platform not in _SHOPS:
        folder = os.environ.get(f"BRIDGE_LIVE_DIR_{platform.upper()}")
        shop = LiveShop(platform, folder)
        _SHOPS[platform] = shop
        shop.start() if folder and (Path(folder) / "shop.json").exists() else shop.start("--port", str(free_port()))
    return _SHOPS[platform]


@pytest.fixture(scope="session")
def woocommerce():
    """A real WordPress + WooCommerce shop (reset per module by `wc_fresh`)."""
    shop = _shop("woocommerce")
    yield shop
    shop.remove()


@pytest.fixture(scope="session")
def prestashop():
    """A real PrestaShop shop (reset per module by `ps_fresh`)."""
    shop = _shop("prestashop")
    yield shop
    shop.remove()


@pytest.fixture
def browser():
    """Headless Chromium from Debian's package, as the widget's own tests use it."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for name, shop in _SHOPS.items():
            if name in getattr(item, "fixturenames", ()):
                report.sections.append((f"{name} shop logs", shop.log_tail()))


class Bridge:
    """bridge as an admin runs it: a config file, the real CLI, and `bridge serve` on a loopback port."""

    def __init__(self, folder: Path, config_text: str, port: int):
        self.folder, self.port = folder, port
        self.url = f"http://127.0.0.1:{port}"
        self.config = folder / "config.yaml"
        self.config.write_text(config_text)
        self.server: subprocess.Popen | None = None
        self.log = folder / "serve.log"

    def cli(self, *args: str, ok: bool = True, timeout: int = 180) -> subprocess.CompletedProcess:
        done = subprocess.run([BRIDGE, "--config", str(self.config), *args], capture_output=True, text=True,
                              timeout=timeout, cwd=self.folder)
        if ok and done.returncode != 0:
            raise AssertionError(f"bridge {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
                                 f"\n--- serve.log\n{self.serve_log()}")
        return done

    def ledger_ok(self) -> str:
        return self.cli("ledger", "check").stdout

    def serve(self) -> None:
        self._log_file = self.log.open("w")
        self.server = subprocess.Popen([BRIDGE, "--config", str(self.config), "serve", "--port", str(self.port)],
                                       stdout=self._log_file, stderr=subprocess.STDOUT, cwd=self.folder)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise AssertionError(f"bridge serve did not answer:\n{self.serve_log()}")

    def serve_log(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)
            self._log_file.close()
            self.server = None


def bridge_for(tmp_path: Path, shops_yaml: str, campaigns_yaml: str, port: int | None = None) -> Bridge:
    """A bridge configured for live shops, on SQLite in tmp_path."""
    port = port or free_port()
    text = textwrap.dedent(f"""\
        server:
          public_url: http://127.0.0.1:{port}
          secret_key: live-test-secret-key-0123456789
          database_url: sqlite:///{tmp_path / 'bridge.db'}
          rate_limits: false
        shops:
        """) + textwrap.indent(textwrap.dedent(shops_yaml), "  ") + "campaigns:\n" + textwrap.indent(
        textwrap.dedent(campaigns_yaml), "  ")
    return Bridge(tmp_path, text, port)

