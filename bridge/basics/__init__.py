"""Plain values every layer may use: money, durations, codes, bounded JSON bodies, structured logs.

Imports: the standard library and kept libraries only, never another part of bridge.
"""
