"""Peewee models: rows, keys and transactions; no business rules and no platform formats."""

import peewee

from bridge.storage.db import db
from bridge.storage.fields import UTCDateTimeField


class BaseModel(peewee.Model):
    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One applied migration."""

    version = peewee.IntegerField(primary_key=True)
    description = peewee.TextField()
    applied_at = UTCDateTimeField()


class JobState(BaseModel):
    """A scheduled job: who holds its lease until when, and the last instant it ran for."""

    name = peewee.CharField(max_length=200, primary_key=True)
    owner = peewee.CharField(max_length=200, null=True)
    lease_until = UTCDateTimeField(null=True)
    last_run_for = UTCDateTimeField(null=True)
    last_error = peewee.TextField(null=True)


class JobRun(BaseModel):
    """One execution of a job, kept for operations (and to prove that leases hold)."""

    name = peewee.CharField(max_length=200, index=True)
    owner = peewee.CharField(max_length=200)
    run_for = UTCDateTimeField()
    started_at = UTCDateTimeField()
    finished_at = UTCDateTimeField(null=True)
    outcome = peewee.CharField(max_length=20, default="running")
    detail = peewee.TextField(null=True)
