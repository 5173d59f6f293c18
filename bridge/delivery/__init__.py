"""Delivery: payouts (refunds, coupons, SEPA transfers), e-mails and events, each executed from its outbox row.

Imports: everything below it (basics … sharing); never schedule, web or cli.
"""
