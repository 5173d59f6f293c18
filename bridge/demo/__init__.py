"""The demo: a WooCommerce double with a storefront, an SMTP catcher, and bridge driving them (`make demo`)."""
