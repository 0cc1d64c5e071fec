"""Rows written straight into an access-log database, as an older or newer gateway version left them.

The stores never write a row outside the vocabulary; these helpers do, so tests can check that such
rows neither crash a read nor stall the export.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import psycopg

from auth.access_log_rows import COLUMNS, LISTS, to_values
from auth.migrations.versions import v0001_adopt_unversioned as unversioned
from sources.audit import AccessRecord


def insert_raw(url: str, record: AccessRecord, **raw: Any) -> None:
    """Store ``record`` with the column values ``raw`` (e.g. ``actor_kind="anonymous"``) put in verbatim.

    A list column given as a list is stored as the store keeps lists (JSON text on SQLite, ``text[]``
    on PostgreSQL); on SQLite anything else is stored verbatim (``requested="not json"``).
    """
    values = to_values(record) | raw
    if url.startswith("sqlite:///"):
        if "at" not in raw:
            values["at"] = record.at.isoformat(timespec="microseconds")
        for name in LISTS:
            if isinstance(values[name], list):
                values[name] = json.dumps(values[name])
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            placeholders = ", ".join("?" for _ in COLUMNS)
            db.execute(
                f"INSERT INTO access_record ({', '.join(COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
                [values[name] for name in COLUMNS],
            )
            db.commit()
        finally:
            db.close()
        return
    with psycopg.connect(url, autocommit=True) as server:
        placeholders = ", ".join("%s::text[]" if name in LISTS else "%s" for name in COLUMNS)
        server.execute(
            f"INSERT INTO access_record ({', '.join(COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
            [values[name] for name in COLUMNS],
        )


def execute_raw(url: str, statement: str, *parameters: Any) -> None:
    """Run one SQL statement on the store's database directly (``?`` placeholders on both backends)."""
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            db.execute(statement, parameters)
            db.commit()
        finally:
            db.close()
        return
    with psycopg.connect(url, autocommit=True) as server:
        server.execute(statement.replace("?", "%s"), parameters)


def make_previous_version(url: str) -> None:
    """A database as the last unversioned gateway (0.1) left it: its tables, no ``alembic_version``."""
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        for statement in (*unversioned.SQLITE_TABLES, *unversioned.SQLITE_INDEXES):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {unversioned.SQLITE_UNVERSIONED_CURRENT}")
        db.commit()
        db.close()
        return
    with psycopg.connect(url, autocommit=True) as server:
        server.execute(unversioned.POSTGRES)
