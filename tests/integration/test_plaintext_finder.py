"""The plaintext finder (tests/support/plaintext.py) finds values in every table and form it claims, and nothing else."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import psycopg

from tests.support.plaintext import find_plaintext

CPR = "211062-5629"
NUMBER = "+4520304050"
SENTENCE = "Borgeren råbte på gangen"
VALUES = [CPR, NUMBER, SENTENCE]


def test_it_finds_each_value_in_text_json_and_bytes_of_any_schema_on_postgresql(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA side")
        conn.execute("CREATE TABLE notes (id int, note text, extra varchar(80), kept jsonb, raw json)")
        conn.execute("CREATE TABLE side.blobs (id int, body bytea, tags text[], digest text)")
        conn.execute(
            "INSERT INTO notes VALUES (1, %s, %s, %s, %s)",
            (f"ring på {NUMBER}", "CPR 2110625629", json.dumps({"n": SENTENCE}), json.dumps({"s": SENTENCE})),
        )
        body = b"\xff\xfe" + "tlf. 20 30 40 50".encode() + b"\x80"  # not valid UTF-8 as a whole
        digest = hashlib.sha256(CPR.encode()).hexdigest()
        conn.execute("INSERT INTO side.blobs VALUES (1, %s, %s, %s)", (body, ["x", CPR], digest))
    assert sorted(find_plaintext(database_url, VALUES)) == sorted([
        ("notes", "note", NUMBER), ("notes", "extra", CPR), ("notes", "kept", SENTENCE), ("notes", "raw", SENTENCE),
        ("side.blobs", "body", NUMBER), ("side.blobs", "tags", CPR),
    ])


def test_it_finds_each_value_in_text_and_blob_columns_of_every_table_on_sqlite(tmp_path):
    path = tmp_path / "found.sqlite"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE a (id INTEGER, note TEXT, body BLOB, at TIMESTAMPTZ)")
        conn.execute("CREATE TABLE b (state BLOB)")
        conn.execute("INSERT INTO a VALUES (1, ?, ?, ?)", ("20304050", b"\xff" + CPR.encode(), "2026-01-01"))
        conn.execute("INSERT INTO b VALUES (?)", (json.dumps({"why": SENTENCE}).encode(),))  # "r\u00e5bte"
        conn.execute("INSERT INTO b VALUES (?)", (hashlib.sha256(NUMBER.encode()).hexdigest(),))
    conn.close()
    assert sorted(find_plaintext(path, VALUES)) == sorted([
        ("a", "note", NUMBER), ("a", "body", CPR), ("b", "state", SENTENCE),
    ])
    assert find_plaintext(str(path), ["Ingen her"]) == []
