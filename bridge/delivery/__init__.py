"""Delivery: payouts (refunds, coupons, SEPA transfers) and e-mails, each executed once from its outbox row.

Imports: everything below it (basics … sharing); never schedule, web or cli.
"""
