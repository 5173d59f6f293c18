"""The rewards engine: pure functions of facts and `now`.

Nothing in this package does I/O: no Flask, no peewee, no network, no clock. Functions take frozen
dataclasses and the instant to decide for, and return decisions with their reasons.

Imports: basics.money and config.model only (tests/test_layers.py checks it).
"""
