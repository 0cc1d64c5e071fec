"""The access-log database's tables, declared once for both backends (SQLAlchemy Core metadata).

This is the one declaration of the schema (ADR 0026): the migrations in :mod:`auth.migrations` bring a
database to it, and a test checks that a database migrated to the newest revision matches it exactly
(alembic's autogenerate comparison finds no difference), on SQLite and on PostgreSQL. A new column is
a change here *and* a new migration (``alembic revision --autogenerate`` writes its first draft).

The stores still speak SQL through their own drivers (sqlite3, psycopg); SQLAlchemy is used for the
schema and the migrations only. Where the backends differ, a column has a variant per dialect:

- times are ``timestamptz`` on PostgreSQL and fixed-width UTC ISO 8601 text on SQLite
  (``2024-05-01T09:30:00.000000+00:00``, so text order is time order);
- the category lists are ``text[]`` on PostgreSQL and JSON arrays (text) on SQLite;
- ids sort in the "C" collation on PostgreSQL, so paging does not depend on the server's locale;
- flags are ``boolean`` on PostgreSQL and ``0``/``1`` integers on SQLite.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from auth.access_log_query import PENDING

METADATA = sa.MetaData()
"""Every table of the access-log database."""

TIME = sa.DateTime(timezone=True).with_variant(sa.Text(), "sqlite")
"""A point in time: ``timestamptz``, or fixed-width UTC ISO 8601 text on SQLite."""
CATEGORIES = sa.Text().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")
"""A list of data categories: ``text[]``, or a JSON array on SQLite."""
ID = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
"""A row id: ordered byte by byte ("C") on PostgreSQL."""
FLAG = sa.Boolean(create_constraint=False).with_variant(sa.Integer(), "sqlite")
"""A yes/no column: ``boolean``, or ``0``/``1`` on SQLite."""


def _text(name: str, *, nullable: bool = True, default: str | None = None) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable, server_default=default)


ACCESS_RECORD = sa.Table(
    "access_record",
    METADATA,
    sa.Column("id", ID, primary_key=True),
    sa.Column("at", TIME, nullable=False),
    _text("request_id", nullable=False),
    _text("activity", nullable=False, default="read"),
    _text("outcome", nullable=False),
    _text("actor_kind", nullable=False),
    _text("actor_id", nullable=False),
    _text("actor_name"),
    _text("profession"),
    _text("organisation_sor"),
    _text("organisation_name"),
    _text("client_id"),
    _text("acting_for_id"),
    _text("acting_for_name"),
    _text("patient_cpr", nullable=False),
    _text("requested_cpr"),
    sa.Column("requested", CATEGORIES, nullable=False),
    sa.Column("returned", CATEGORIES, nullable=False),
    sa.Column("denied", CATEGORIES, nullable=False),
    sa.Column("withheld", CATEGORIES, nullable=False),
    _text("override_ground"),
    _text("override_reason"),
    _text("operation_hash", nullable=False),
    _text("operation_name"),
    sa.Column("exported_at", TIME),
    sa.Column("set_aside_at", TIME),
    _text("set_aside_reason"),
    sa.Column("is_open", FLAG, nullable=False, server_default=sa.false()),
)
"""One row per patient a request touched (the patient's Min Log), with its export state."""


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on both backends."""
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


sa.Index("access_record_patient", ACCESS_RECORD.c.patient_cpr, ACCESS_RECORD.c.at, ACCESS_RECORD.c.id)
sa.Index("access_record_export_queue", ACCESS_RECORD.c.at, ACCESS_RECORD.c.id, **_where(PENDING))
sa.Index("access_record_set_aside", ACCESS_RECORD.c.at, ACCESS_RECORD.c.id, **_where("set_aside_at IS NOT NULL"))
sa.Index("access_record_at", ACCESS_RECORD.c.at)
sa.Index("access_record_open", ACCESS_RECORD.c.patient_cpr, ACCESS_RECORD.c.at, ACCESS_RECORD.c.id, **_where("is_open"))

SECURITY_EVENT = sa.Table(
    "security_event",
    METADATA,
    sa.Column("id", ID, primary_key=True),
    sa.Column("at", TIME, nullable=False),
    _text("request_id", nullable=False),
    _text("kind", nullable=False),
    _text("actor_kind", nullable=False),
    _text("actor", nullable=False),
    _text("client_id"),
    sa.Column("patients", sa.Integer(), nullable=False),
    _text("operation_hash", nullable=False),
    sa.Index("security_event_at", "at"),
)
"""Refused and anonymous attempts, for the operator (:mod:`auth.security_events`)."""

OPERATOR_EVENT = sa.Table(
    "operator_event",
    METADATA,
    sa.Column("id", ID, primary_key=True),
    sa.Column("at", TIME, nullable=False),
    _text("command", nullable=False),
    _text("operator", nullable=False),
    _text("os_user", nullable=False),
    _text("host", nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    _text("detail", nullable=False),
)
"""Runs of the operator's access-log commands (:mod:`auth.operator_events`)."""

EXPORT_LEASE = sa.Table(
    "export_lease",
    METADATA,
    sa.Column("name", sa.Text(), primary_key=True),
    _text("holder", nullable=False),
    sa.Column("expires_at", TIME, nullable=False),
)
"""Who may export to Min Log now, until when (:mod:`auth.export_lease`): one row per export."""
