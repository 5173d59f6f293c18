"""Bulk upserts: one SQL statement built once by peewee, run with executemany, and chunks of ids.

Peewee's per-row SQL generation costs more than SQLite's own work at thousands of rows per second.
"""

from __future__ import annotations

from typing import Iterator

import peewee

from bridge.storage.db import db

IN_LIMIT = 500  # ids per IN (...) query: well under SQLite's and PostgreSQL's parameter limits


def chunks(items: list, size: int = IN_LIMIT) -> Iterator[list]:
    """Yield consecutive slices of at most `size` items (for IN lists and multi-row inserts)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def upsert_many(model: type[peewee.Model], rows: list[dict], conflict: list[peewee.Field]) -> None:
    """Insert rows (all with the same keys), replacing every other column of a row that already exists."""
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.fields[name] for name in names]
    keys = {f.name for f in conflict}  # by name: peewee overloads == on fields
    update = [f for f in fields if f.name not in keys]
    template = model.insert({f: rows[0][f.name] for f in fields}).on_conflict(
        conflict_target=conflict, preserve=update)
    sql, params = template.sql()
    order = _param_order(fields, rows[0], params)
    db.cursor().executemany(sql, [tuple(f.db_value(row[f.name]) for f in order) for row in rows])


def insert_ignoring_many(model: type[peewee.Model], rows: list[dict]) -> None:
    """Insert rows, leaving alone any that conflicts with one already there (rows grouped by their keys)."""
    shapes: dict[tuple, list[dict]] = {}
    for row in rows:
        row = {**_defaults(model, row), **row}  # as peewee would fill them in, so that every row has the same columns
        shapes.setdefault(tuple(row), []).append(row)
    for names, same in shapes.items():
        fields = [model._meta.fields[name] for name in names]
        sql, params = model.insert({f: same[0][f.name] for f in fields}).on_conflict_ignore().sql()
        order = _param_order(fields, same[0], params)
        db.cursor().executemany(sql, [tuple(f.db_value(row[f.name]) for f in order) for row in same])


def _defaults(model: type[peewee.Model], row: dict) -> dict:
    """The model's defaults for the columns a row leaves out (an auto-incremented key stays out)."""
    return {f.name: (f.default() if callable(f.default) else f.default) for f in model._meta.sorted_fields
            if f.name not in row and f.default is not None and not isinstance(f, peewee.AutoField)}


def _param_order(fields: list[peewee.Field], row: dict, params: list) -> list[peewee.Field]:
    """Find which field each placeholder of the template stands for (peewee sorts columns its own way)."""
    order = [f for f in sorted(fields, key=lambda f: f._sort_key)]
    expected = [f.db_value(row[f.name]) for f in order]
    if expected != list(params):
        raise RuntimeError(f"unexpected parameter order for {fields[0].model.__name__}: {params!r}")
    return order
