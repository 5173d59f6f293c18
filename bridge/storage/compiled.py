"""Queries written once: peewee spends more time writing a small query's SQL than SQLite spends running it.

`compiled(name, build)` builds the query with named sentinels (":code"), keeps its SQL and the order
of its parameters per database kind, and `run()` binds values to that order. Used on the hottest
paths only (every click and every widget view).
"""

from __future__ import annotations

from typing import Callable, Iterable

import peewee

from bridge.storage.bulk import chunks
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


def select_in(name: str, fields: list[peewee.Field], where: Callable[[list], object], ids: Iterable,
              order_by: tuple = (), for_update: bool = False, **values) -> list[list]:
    """Rows of `fields` (as lists, each value converted by its field) where `where(ids)` holds, for any number of ids.

    `where` receives the placeholders of an IN list. Lists are padded to a power of two with their last
    id (which changes no IN), so that a query has about ten SQL texts, each written once by peewee: an
    IN list of 500 ids written afresh cost more than running it. `order_by` orders each chunk's rows;
    `for_update` locks them (PostgreSQL), and must be the same at every call of one name and database.
    """
    model = fields[0].model
    convert = [(index, f.python_value) for index, f in enumerate(fields) if type(f) not in _AS_IS]
    out = []
    for part in chunks(list(ids)):
        size = 1 << (len(part) - 1).bit_length()
        def build():
            query = model.select(*fields).where(where([sentinel(f"in{k}") for k in range(size)])).order_by(*order_by)
            return query.for_update() if for_update else query
        sql, params = compiled(f"{name}/{size}", build)
        bound = {**values, **{f"in{k}": part[min(k, len(part) - 1)] for k in range(size)}}
        for row in db.execute_sql(sql, bind_params(params, bound)).fetchall():
            row = list(row)
            for index, python_value in convert:
                row[index] = python_value(row[index])
            out.append(row)
    return out


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
