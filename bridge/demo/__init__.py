"""The demo: a WooCommerce double with a storefront, an SMTP catcher, and bridge driving them (`make demo`).

Imports: every layer below the CLI (it runs bridge as a shop owner would).
"""
