"""E-mails: an outbox written with the change that causes them, rendered and sent by a job."""
