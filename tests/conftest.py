"""Shared fixtures: a fresh database per test on the backend BRIDGE_TEST_DB names (sqlite or postgresql)."""

from __future__ import annotations

import itertools
import os
import textwrap

import pytest
from hypothesis import settings
from playwright.sync_api import sync_playwright

from bridge.config import load_config_text
from bridge.storage import bind, upgrade
from bridge.storage.db import db
from tests.pgserver import PostgresServer

BACKEND = os.environ.get("BRIDGE_TEST_DB", "sqlite")
# No timed assertions: hypothesis' per-example deadline fails on a busy 2-core machine, not on slow code.
settings.register_profile("bridge", deadline=None)
settings.load_profile("bridge")
_counter = itertools.count()


def pytest_report_header(config):
    return f"bridge test database: {BACKEND}"


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the whole session (only when testing on PostgreSQL)."""
    if BACKEND != "postgresql":
        yield None
        return
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def database_url(tmp_path, postgres_server):
    """The URL of a new, empty database on the backend under test."""
    if postgres_server is None:
        return f"sqlite:///{tmp_path / 'bridge.db'}"
    return postgres_server.create_database(f"bridge_test_{os.getpid()}_{next(_counter)}")


BASE_CONFIG = """
server:
  public_url: http://127.0.0.1:8000
  secret_key: test-secret-key-0123456789
  database_url: {database_url}
shops:
  - id: shop1
    name: Shop One
    platform: woocommerce
    url: https://shop1.example
    currency: EUR
    timezone: Europe/Paris
    locale: fr
    tone: tu
    woocommerce:
      consumer_key: ck_test_key
      consumer_secret: cs_test_secret_value
campaigns:
  - id: group1
    type: social_buying
    shop: shop1
    window: 48h
    hold: 14d
    eligible_products: any
    tiers:
      - buyers: 2
        cashback: 5%
      - buyers: 3
        cashback: 10%
"""


@pytest.fixture
def config_text(database_url):
    """A small valid configuration on the test database."""
    return textwrap.dedent(BASE_CONFIG).format(database_url=database_url)


@pytest.fixture
def config_file(tmp_path, config_text):
    path = tmp_path / "config.yaml"
    path.write_text(config_text)
    return path


@pytest.fixture
def config(config_text):
    return load_config_text(config_text)


@pytest.fixture
def migrated(config):
    """Bind the test database and bring it to the latest schema."""
    bind(config.server.database_url)
    with db.connection_context():
        upgrade()
    db.connect(reuse_if_open=True)
    yield db
    if not db.is_closed():
        db.close()


def migrated_config(text: str, tmp_path):
    """Write `text` to tmp_path/config.yaml, load it, bind its database and bring it to the latest schema."""
    (tmp_path / "config.yaml").write_text(text)
    loaded = load_config_text(text)
    bind(loaded.server.database_url)
    with db.connection_context():
        upgrade()
    return loaded


CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by scripts/system-deps.sh


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, one per test module."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()
