"""Shop platforms in bridge's terms: one module per platform behind `base.Connector`, and the registry.

The registry lives here, above the platform modules, so that `base` imports none of them.
"""

from __future__ import annotations

from bridge.config.model import Shop
from bridge.connectors.base import Connector
from bridge.connectors.prestashop import PrestaShopConnector
from bridge.connectors.woocommerce import WooCommerceConnector

PLATFORMS: dict[str, type[Connector]] = {c.name: c for c in (WooCommerceConnector, PrestaShopConnector)}


def connector_for(shop: Shop) -> Connector:
    """Return the connector of a shop's platform; a precise error names the known platforms."""
    if shop.platform not in PLATFORMS:
        raise LookupError(f"no connector for platform {shop.platform!r} yet; available: {', '.join(sorted(PLATFORMS))}")
    return PLATFORMS[shop.platform](shop)
