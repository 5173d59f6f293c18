"""Bulk upserts: one SQL statement built once by peewee, run for many rows at once, and chunks of ids.

Peewee's per-row SQL generation costs more than SQLite's own work at thousands of rows per second.
"""

from __future__ import annotations

import re
from typing import Iterator

import peewee
from psycopg2.extras import execute_batch, execute_values

from bridge.storage.db import db, is_postgresql
from bridge.storage.fields import UTCDateTimeField

# (model, columns, conflict handling, database class) -> (SQL, fields in placeholder order)
_templates: dict[tuple, tuple[str, list[peewee.Field]]] = {}
IN_LIMIT = 500  # ids per IN (...) query: well under SQLite's and PostgreSQL's parameter limits


def chunks(items: list, size: int = IN_LIMIT) -> Iterator[list]:
    """Yield consecutive slices of at most `size` items (for IN lists and multi-row inserts)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def execute_many(sql: str, params: list[tuple]) -> None:
    """Run one statement for every parameter tuple, in as few round trips as the driver allows.

    psycopg2's executemany sends one statement per row, each a round trip that the server parses and
    plans. An INSERT goes as one statement of many rows (execute_values); anything else as pages of
    statements (execute_batch). sqlite3's executemany is already one call that prepares once.
    """
    if not is_postgresql():
        db.cursor().executemany(sql, params)
        return
    values = _ONE_ROW.search(sql) if sql.startswith("INSERT") else None
    if values:
        execute_values(db.cursor(), sql[:values.start()] + "VALUES %s" + sql[values.end():], params,
                       template=values.group(1), page_size=500)
    else:
        execute_batch(db.cursor(), sql, params, page_size=250)


# The one row of placeholders peewee writes in an INSERT: "VALUES (%s, %s, %s)"
_ONE_ROW = re.compile(r"VALUES (\(%s(?:, %s)*\))")


def upsert_many(model: type[peewee.Model], rows: list[dict], conflict: list[peewee.Field]) -> None:
    """Insert rows (all with the same keys), replacing every other column of a row that already exists."""
    if not rows:
        return
    keys = {f.name for f in conflict}  # by name: peewee overloads == on fields
    sql, order = _template(model, rows[0], tuple(sorted(keys)), lambda query, fields: query.on_conflict(
        conflict_target=conflict, preserve=[f for f in fields if f.name not in keys]))
    execute_many(sql, _values(rows, order))


def insert_ignoring_many(model: type[peewee.Model], rows: list[dict]) -> None:
    """Insert rows, leaving alone any that conflicts with one already there (rows grouped by their keys)."""
    insert_rows(model, rows, ignore_conflicts=True)


def insert_rows(model: type[peewee.Model], rows: list[dict], ignore_conflicts: bool = False) -> None:
    """Insert rows with one statement per shape of row; a conflict raises unless `ignore_conflicts`."""
    shapes: dict[tuple, list[dict]] = {}
    for row in rows:
        missing = _missing(model, tuple(row))
        if missing:  # filled in as peewee would, so that every row has the same columns
            row = {**{name: default() if call else default for name, default, call in missing}, **row}
        shapes.setdefault(tuple(row), []).append(row)
    for same in shapes.values():
        sql, order = _template(model, same[0], ignore_conflicts, lambda query, fields: (
            query.on_conflict_ignore() if ignore_conflicts else query))
        execute_many(sql, _values(same, order))


def _template(model: type[peewee.Model], row: dict, variant: object, finish) -> tuple[str, list[peewee.Field]]:
    """The INSERT of rows shaped like `row` (`finish` adds its conflict clause), written once per shape and variant."""
    key = (model, tuple(row), variant, type(db.obj))
    if key not in _templates:
        fields = [model._meta.fields[name] for name in row]
        sql, params = finish(model.insert({f: row[f.name] for f in fields}), fields).sql()
        _templates[key] = sql, _param_order(fields, row, params)
    return _templates[key]


def _values(rows: list[dict], order: list[peewee.Field]) -> list[tuple]:
    """Each row's parameters in placeholder order, as each field would write them.

    A text column given a str needs no conversion: skipping the call for those halves the cost of
    the largest batches (e-mails, decisions). Anything else still goes through the field.
    """
    plain = [(f.name, isinstance(f, (peewee.CharField, peewee.TextField)) and not isinstance(f, peewee.ForeignKeyField),
              {} if isinstance(f, UTCDateTimeField) else None, f.db_value) for f in order]
    out = []
    for row in rows:
        values = []
        for name, text, seen, db_value in plain:
            value = row[name]
            if text and type(value) is str:
                values.append(value)
            elif seen is not None:  # a batch's instants repeat (created_at = updated_at = now): convert each once
                if value not in seen:
                    seen[value] = db_value(value)
                values.append(seen[value])
            else:
                values.append(db_value(value))
        out.append(tuple(values))
    return out


_missing_defaults: dict[tuple, tuple] = {}


def _missing(model: type[peewee.Model], columns: tuple[str, ...]) -> tuple[tuple[str, object, bool], ...]:
    """The model's defaults for the columns a row leaves out, as (name, default, callable); an auto key stays out.

    Worked out once per model and shape of row: a batch of e-mails or marks has thousands of rows alike.
    """
    key = (model, columns)
    if key not in _missing_defaults:
        _missing_defaults[key] = tuple((f.name, f.default, callable(f.default)) for f in model._meta.sorted_fields
                                       if f.name not in columns and f.default is not None
                                       and not isinstance(f, peewee.AutoField))
    return _missing_defaults[key]


def _param_order(fields: list[peewee.Field], row: dict, params: list) -> list[peewee.Field]:
    """Find which field each placeholder of the template stands for (peewee sorts columns its own way)."""
    order = [f for f in sorted(fields, key=lambda f: f._sort_key)]
    expected = [f.db_value(row[f.name]) for f in order]
    if expected != list(params):
        raise RuntimeError(f"unexpected parameter order for {fields[0].model.__name__}: {params!r}")
    return order
