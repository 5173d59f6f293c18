"""Read the shared WooCommerce fixtures: live webhook captures (byte-exact) and REST payloads."""

import json
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
LIVE = SHARED / "woocommerce-live"
DOCS = SHARED / "woocommerce"
LIVE_SECRET = "realshop-webhook-secret"  # SOURCES.md: every signed delivery verifies with it


def deliveries():
    """Yield (name, headers, raw body) for each captured webhook request."""
    for request in sorted((LIVE / "webhooks").glob("*.request.txt")):
        lines = request.read_text().split("\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        body = request.with_name(request.name.replace(".request.txt", ".body.bin")).read_bytes()
        yield request.name.split(".request")[0], headers, body


def rest_json(name: str):
    return json.loads((LIVE / "rest" / name).read_text())


def docs_json(name: str):
    return json.loads((DOCS / name).read_text())
