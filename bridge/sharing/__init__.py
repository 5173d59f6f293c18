"""Sharing: share links and codes, clicks, the products shown, and the JSON the widget reads.

Imports: everything below it (basics … facts); never delivery, schedule, web or cli.
"""
