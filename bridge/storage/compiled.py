"""Queries written once: peewee spends more time writing a small query's SQL than SQLite spends running it.

`compiled(name, build)` builds the query with named sentinels (":code"), keeps its SQL and the order
of its parameters per database kind, and `run()` binds values to that order. Used on the hottest
paths only (every click and every widget view).
"""

from __future__ import annotations

from typing import Callable

import peewee

from bridge.storage.db import db

_cache: dict[tuple[str, type], tuple[str, list]] = {}
_converter_cache: dict[tuple, list] = {}


def compiled(name: str, build: Callable[[], object]) -> tuple[str, list]:
    """The SQL of a query and its parameters (sentinels like ":code" stand for values given later)."""
    key = (name, type(db.obj))
    if key not in _cache:
        _cache[key] = build().sql()
    return _cache[key]


def sentinel(name: str) -> str:
    """A placeholder for a value given at run time, kept away from the field's converter."""
    return peewee.Value(f":{name}", converter=lambda value: value)


def bind_params(params: list, values: dict) -> list:
    """Replace each sentinel (":name") by its value; constants stay."""
    return [values[p[1:]] if isinstance(p, str) and p.startswith(":") and p[1:] in values else p for p in params]


def select(model: type[peewee.Model], name: str, build: Callable[[], object], *others, **values) -> list:
    """Run a compiled SELECT and return light rows: attributes named like the columns, each value
    converted by its field as peewee would (without building model instances, the costly part).
    Columns are looked up in `model`, then in `others` (for joins)."""
    sql, params = compiled(name, build)
    cursor = db.execute_sql(sql, bind_params(params, values))
    names = [d[0] for d in cursor.description]
    converters = _converters(name, names, (model, *others))
    rows = cursor.fetchall()
    return _rows(names, rows, converters)


def select_tuples(name: str, build: Callable[[], object], **values) -> list[tuple]:
    """Run a compiled SELECT and return the driver's own tuples, unconverted (the caller converts what it uses)."""
    sql, params = compiled(name, build)
    return db.execute_sql(sql, bind_params(params, values)).fetchall()


def _rows(names: list[str], rows: list, converters: list[tuple[int, Callable]]) -> list:
    if not converters:
        return [Row(zip(names, row)) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for index, convert in converters:
            values[index] = convert(values[index])
        out.append(Row(zip(names, values)))
    return out


# Columns the drivers already give in their Python type (exactly these classes, not subclasses that
# may convert): no converter to call for them.
_AS_IS = (peewee.CharField, peewee.TextField, peewee.IntegerField, peewee.AutoField)


def _converters(name: str, names: list[str], models: tuple) -> list[tuple[int, Callable]]:
    """The (position, converter) pairs of a compiled query's columns that need one, worked out once."""
    key = (name, type(db.obj), tuple(names))
    if key not in _converter_cache:
        pairs = []
        for index, column in enumerate(names):
            field = next((m._meta.columns[column] for m in models if column in m._meta.columns), None)
            if field is not None and type(field) not in _AS_IS:
                pairs.append((index, field.python_value))
        _converter_cache[key] = pairs
    return _converter_cache[key]


class Row(dict):
    """A result row whose columns read as attributes (row.code, row.closes_at)."""

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def execute(name: str, build: Callable[[], object], **values) -> None:
    """Run a compiled INSERT, UPDATE or DELETE."""
    sql, params = compiled(name, build)
    db.execute_sql(sql, bind_params(params, values))
