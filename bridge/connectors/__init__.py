"""Shop platforms in bridge's terms: one module per platform behind `base.Connector`, and the registry.

Imports: basics, config's model, rewards' model (connectors speak bridge's Order). The registry lives
here, above the platform modules, so that `base` imports none of them. It keeps one connector per
configured shop, so that each connector's memos (order states, e-mails, tax rate) live as long as it.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from bridge.config.model import Shop
from bridge.connectors.base import Connector
from bridge.connectors.custom import CustomConnector
from bridge.connectors.prestashop import PrestaShopConnector
from bridge.connectors.woocommerce import WooCommerceConnector

PLATFORMS: dict[str, type[Connector]] = {c.name: c for c in (WooCommerceConnector, PrestaShopConnector, CustomConnector)}
_lock = threading.Lock()
_instances: dict[int, tuple[Shop, Connector]] = {}


def connector_for(shop: Shop) -> Connector:
    """Return the connector of a shop's platform (one per shop object); a precise error names the known ones."""
    if shop.platform not in PLATFORMS:
        raise LookupError(f"no connector for platform {shop.platform!r} yet; available: {', '.join(sorted(PLATFORMS))}")
    with _lock:
        found = _instances.get(id(shop))
        if found is None or found[0] is not shop:
            # The shop is kept with its connector, so that its id() is never reused while the entry lives.
            found = _instances[id(shop)] = (shop, PLATFORMS[shop.platform](shop))
        return found[1]


def impatient_connector(shop: Shop, timeout: timedelta) -> Connector:
    """A connector for a person who is waiting: each call at most `timeout`, no second try (not kept)."""
    connector_for(shop)  # the same error as connector_for for an unknown platform
    quick = replace(shop, sync=replace(shop.sync, timeout=min(shop.sync.timeout, timeout)))
    connector = PLATFORMS[shop.platform](quick)
    connector.retry_delays = ()
    return connector


def forget_caches() -> None:
    """Forget every connector and its memos (tests, or after a shop's settings changed)."""
    with _lock:
        _instances.clear()
