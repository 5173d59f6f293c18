"""The ledger: decisions stored with their checks, rewards granted, clawbacks, balances and explanations.

Also the news and events a change causes (outbox rows written in the change's transaction). Imports: basics,
config, rewards, storage, connectors (to name an order's page in the shop).
"""
