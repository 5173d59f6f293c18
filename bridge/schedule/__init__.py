"""The schedule: the running bridge, its jobs in the order poll → settle → pay → tell, and the worker.

Imports: every layer below it; only web, cli and demo import it.
"""
