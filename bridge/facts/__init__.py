"""Facts in: order snapshots and claims stored as they arrive (webhook hints, polls), then handed to the ledger.

Imports: basics, config, rewards, storage, connectors, ledger.
"""
