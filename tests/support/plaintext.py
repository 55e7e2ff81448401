"""Finding values in clear anywhere in a database: every table, every column that can hold text.

`find_plaintext(db, values)` reads every row of every table of a PostgreSQL database (every
schema but pg_catalog, information_schema and PostgreSQL's own toast and temporary schemas; the
columns of a text type, json/jsonb, xml, arrays of these (as text), and bytea) or of a SQLite
file (every table, every column holding text or a blob: SQLite keeps any value in any column),
and returns where each value was found, as (table, column, value). PostgreSQL tables outside
`public` are named with their schema.

A value is looked for as it is and in the forms it is commonly stored in: JSON-escaped (with and
without non-ASCII escaped), a CPR number with and without its dash, a phone number in E.164
(+4520304050) and national forms (20304050, 20 30 40 50). Bytes are searched raw (UTF-8) and
decoded as UTF-8 with errors ignored. A value encrypted, hashed or compressed is not found: that
is the point.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from os import PathLike
from typing import Any

import phonenumbers
import psycopg
from psycopg import sql

Finding = tuple[str, str, str]

_CPR = re.compile(r"^(\d{6})-?(\d{4})$")
_TEXT_TYPES = ("text", "varchar", "bpchar", "name", "json", "jsonb", "xml", "citext", "bytea")
_COLUMNS = """
    SELECT n.nspname, c.relname, a.attname, t.typname
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
    WHERE c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
      AND COALESCE(e.typname, t.typname) = ANY(%s)
    ORDER BY n.nspname, c.relname, a.attnum
"""


def find_plaintext(db: str | PathLike[str], values: list[str]) -> list[Finding]:
    """Where each of `values` is held in clear in the database at `db`: a postgresql:// URL or a SQLite file's path."""
    forms = {value: stored_forms(value) for value in values}
    target = str(db)
    cells = _postgres_cells(target) if target.startswith(("postgresql://", "postgres://")) else _sqlite_cells(target)
    found: dict[Finding, None] = {}
    for table, column, cell in cells:
        for value, variants in forms.items():
            if _holds(cell, variants):
                found[(table, column, value)] = None
    return list(found)


def stored_forms(value: str) -> tuple[str, ...]:
    """`value` and the forms it is commonly stored in."""
    forms = [value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]]
    cpr = _CPR.match(value)
    if cpr:
        forms += [f"{cpr[1]}-{cpr[2]}", f"{cpr[1]}{cpr[2]}"]
    else:
        forms += _phone_forms(value)
    return tuple(dict.fromkeys(form for form in forms if form))


def _phone_forms(value: str) -> list[str]:
    """A phone number's E.164 and national forms (numbers without a country code are Danish); none for other text."""
    try:
        number = phonenumbers.parse(value, "DK")
    except phonenumbers.NumberParseException:
        return []
    if not phonenumbers.is_valid_number(number):
        return []
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return [phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), national,
            re.sub(r"\D", "", national)]


def _holds(cell: Any, variants: tuple[str, ...]) -> bool:
    if isinstance(cell, (bytes, bytearray, memoryview)):
        raw = bytes(cell)
        decoded = raw.decode("utf-8", errors="ignore")
        return any(v.encode("utf-8") in raw or v in decoded for v in variants)
    return isinstance(cell, str) and any(v in cell for v in variants)


def _postgres_cells(url: str) -> Iterator[tuple[str, str, Any]]:
    """Every value of every text-like or bytea column of every table, as text (bytea as bytes)."""
    with psycopg.connect(url, autocommit=True) as conn:
        columns = conn.execute(_COLUMNS, (list(_TEXT_TYPES),)).fetchall()
        for schema, table, column, kind in columns:
            name = sql.Identifier(column)
            selected = name if kind == "bytea" else sql.SQL("{}::text").format(name)
            query = sql.SQL("SELECT {} FROM {}.{} WHERE {} IS NOT NULL").format(
                selected, sql.Identifier(schema), sql.Identifier(table), name
            )
            cells = (row[0] for row in conn.execute(query))
            yield from _named(table if schema == "public" else f"{schema}.{table}", column, cells)


def _sqlite_cells(path: str) -> Iterator[tuple[str, str, Any]]:
    """Every text or blob value of every table of the SQLite file (opened read-only)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                cells = (row[0] for row in conn.execute(f'SELECT "{column}" FROM "{table}"'))
                yield from _named(table, column, (c for c in cells if isinstance(c, (str, bytes))))
    finally:
        conn.close()


def _named(table: str, column: str, cells: Iterable[Any]) -> Iterator[tuple[str, str, Any]]:
    return ((table, column, cell) for cell in cells)
