"""Writing many board rows at once: COPY on PostgreSQL, executemany on SQLite.

Rebuilding a board of 10,000 models writes 10,000 rows, 120,000 cells and 10,000 payloads. As
single-row statements (what an executemany sends) that is seconds of round trips and statement
overhead on PostgreSQL; COPY streams them in one command. SQLite runs in-process, where executemany
is already the fast path.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from operator import itemgetter
from typing import Any

import orjson
from psycopg.types.json import Json, Jsonb
from sqlalchemy import JSON, Table, bindparam, insert, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows (dicts with the same keys) into table."""
    if not rows:
        return
    if not _on_postgresql(session) or len(rows) < 50:  # a few rows: one plain statement is as quick
        session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    wrappers = _json_wrappers(session, table, columns)
    wrapped = [(index, wrappers[name]) for index, name in enumerate(columns) if name in wrappers]
    values_of = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    with _copy(session, f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            values = list(values_of(row))
            for index, wrapper in wrapped:
                if values[index] is not None:
                    values[index] = wrapper(values[index])
            copy.write_row(values)


def update_by_id(session: Session, table: Table, column: str, values: dict[int, Any]) -> None:
    """SET column = value WHERE id = key, for each (key, value) of `values` (a text column)."""
    if not values:
        return
    if not _on_postgresql(session) or len(values) < 50:
        statement = update(table).where(table.c.id == bindparam("key")).values({column: bindparam("value")})
        session.execute(statement, [{"key": key, "value": value} for key, value in values.items()])
        return
    session.execute(
        text("CREATE TEMPORARY TABLE IF NOT EXISTS bulk_update (id integer, value text) ON COMMIT DROP")
    )
    session.execute(text("TRUNCATE bulk_update"))
    with _copy(session, "COPY bulk_update (id, value) FROM STDIN") as copy:
        for key, value in values.items():
            copy.write_row((key, value))
    session.execute(
        text(
            f"UPDATE {table.name} SET {column} = bulk_update.value FROM bulk_update"
            f" WHERE {table.name}.id = bulk_update.id"
        )
    )


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _json_wrappers(session: Session, table: Table, columns: list[str]) -> dict[str, Any]:
    """JSON columns take their Python value wrapped for psycopg (jsonb or json), written by orjson
    (the board's own documents: scores, flags, figures)."""
    dialect = session.get_bind().dialect
    wrappers: dict[str, Any] = {}
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            kind = Jsonb if isinstance(column_type.dialect_impl(dialect), JSONB) else Json
            wrappers[name] = partial(kind, dumps=_json_text)
    return wrappers


def _json_text(value: Any) -> bytes:
    # Keys that are not text are written as text, as json.dumps writes them. (A NaN, which JSON
    # cannot hold, becomes null; json.dumps wrote NaN, which PostgreSQL refused.)
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


@contextmanager
def _copy(session: Session, statement: str) -> Iterator[Any]:
    """psycopg's COPY on the session's own connection (inside its transaction)."""
    connection = session.connection().connection.driver_connection
    assert connection is not None
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        yield copy


# The plain (not constraint-backed) indexes and the foreign keys of some tables, as the catalog
# writes them: dropped and made again exactly, storage options (fillfactor, fastupdate) included.
PLAIN_INDEXES = text(
    "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
    " JOIN pg_class c ON c.oid = i.indexrelid"
    " WHERE i.indrelid = ANY(CAST(:tables AS regclass[]))"
    " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
    " ORDER BY c.relname"
)
FOREIGN_KEYS = text(
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE contype = 'f' AND conrelid = ANY(CAST(:tables AS regclass[])) ORDER BY conname"
)


@contextmanager
def indexed_after_load(session: Session, tables: Sequence[str]) -> Iterator[None]:
    """Fill empty tables without keeping their indexes and foreign keys up to date row by row: on
    PostgreSQL the plain indexes and the foreign keys are dropped, and made again once the rows are
    in (each in one pass over the table; a foreign key is checked by one join). The DDL is part of
    the transaction: an error brings every index back with the rollback. It locks the tables until
    the commit, so it is for tables nobody is reading (a board index built for the first time)."""
    if not _on_postgresql(session):
        yield
        return
    names = {"tables": list(tables)}
    indexes = session.execute(PLAIN_INDEXES, names).all()
    keys = session.execute(FOREIGN_KEYS, names).all()
    for table, name, _ in keys:
        session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        session.execute(text(f'DROP INDEX "{name}"'))
    yield
    for _, definition in indexes:
        session.execute(text(definition))
    for table, name, definition in keys:
        session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
