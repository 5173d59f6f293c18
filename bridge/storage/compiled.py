"""Queries written once: peewee spends more time writing a small query's SQL than SQLite spends running it.

`compiled(name, build)` builds the query with named sentinels (":code"), keeps its SQL and the order
of its parameters per database kind, and `run()` binds values to that order. Used on the hottest
paths only (every click and every widget view).
"""

from __future__ import annotations

from typing import Callable

from bridge.storage.db import db

_cache: dict[tuple[str, type], tuple[str, list]] = {}


def compiled(name: str, build: Callable[[], object]) -> tuple[str, list]:
    """The SQL of a query and its parameters (sentinels like ":code" stand for values given later)."""
    key = (name, type(db.obj))
    if key not in _cache:
        _cache[key] = build().sql()
    return _cache[key]


def sentinel(name: str):
    """A placeholder for a value given at run time, kept away from the field's converter."""
    import peewee

    return peewee.Value(f":{name}", converter=lambda value: value)


def bind_params(params: list, values: dict) -> list:
    """Replace each sentinel (":name") by its value; constants stay."""
    return [values[p[1:]] if isinstance(p, str) and p.startswith(":") and p[1:] in values else p for p in params]


def select(model, name: str, build: Callable[[], object], **values) -> list:
    """Run a compiled SELECT and return model instances (with every field converted as usual)."""
    sql, params = compiled(name, build)
    return list(model.raw(sql, *bind_params(params, values)))


def execute(name: str, build: Callable[[], object], **values) -> None:
    """Run a compiled INSERT, UPDATE or DELETE."""
    sql, params = compiled(name, build)
    db.execute_sql(sql, bind_params(params, values))
