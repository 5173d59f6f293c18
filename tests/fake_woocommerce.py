"""The WooCommerce double for tests (bridge.demo.woo) and helpers to make orders and configs for it."""

from __future__ import annotations

from datetime import datetime

from bridge.demo.woo import PREFIX, _error  # noqa: F401
from bridge.demo.woo import DemoWooCommerce as FakeWooCommerce  # noqa: F401  (the name the tests use)


def make_order(order_id: int, modified: datetime, template: dict) -> dict:
    """A copy of a fixture order with another id and modification time (both local and GMT, in UTC)."""
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%S")
    return {**template, "id": order_id, "number": str(order_id), "date_modified": stamp, "date_modified_gmt": stamp,
            "billing": {**template["billing"], "email": f"buyer{order_id}@example.test"}}


def touch(order: dict, modified: datetime) -> dict:
    """The same order, modified at another instant (as a status change would do)."""
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%S")
    return {**order, "date_modified": stamp, "date_modified_gmt": stamp}


def config_for(config_text: str, url: str, auth: str = "oauth", sync: str = "") -> str:
    """The tests' base configuration with shop1 pointing at a fake shop (`sync`: extra YAML lines)."""
    text = config_text.replace("url: https://shop1.example", f"url: {url}").replace(
        "      consumer_secret: cs_test_secret_value", f"      consumer_secret: cs_test_secret_value\n      auth: {auth}")
    if sync:
        text = text.replace("    tone: tu", "    tone: tu\n    sync:\n" + "".join(f"      {line}\n" for line in sync.split(";")))
    return text
