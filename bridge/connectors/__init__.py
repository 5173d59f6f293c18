"""Connectors: one module per shop platform, each one class behind one small interface."""
