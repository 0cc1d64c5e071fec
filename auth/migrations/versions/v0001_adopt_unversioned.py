"""Adopt a database of an unversioned gateway: bring it, or an empty one, to the schema of 0.1.

Revision ID: v0001
Revises:
Created: 2026-12-01

Before alembic, each store created and migrated its own tables when it opened (ADR 0026). This
revision is those steps, frozen as the last unversioned gateway ran them, so that it runs safely on
an empty database and on one any earlier gateway made, and changes nothing in one already current:

- PostgreSQL: the tables and indexes, the ``outcome`` column filled from old rows' lists (returned →
  accessed, else denied → refused, else nothing), the dead-letter columns, the export-queue index
  that leaves dead letters out, ``security_event``, ``is_open`` and its index, and ``operator_event``
  (made on first use before);
- SQLite (``PRAGMA user_version`` 0 to 3): the same, plus old times rewritten to the fixed-width UTC
  form (a time that cannot be read is left as it is: shown nowhere, set aside by export, listed).

Never edit this file: a change to the schema is a new revision.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import op
from sqlalchemy.engine import Connection

revision = "v0001"
down_revision = None
branch_labels = None
depends_on = None

POSTGRES = """
CREATE TABLE IF NOT EXISTS access_record (
    id text COLLATE "C" PRIMARY KEY,
    at timestamptz NOT NULL,
    request_id text NOT NULL,
    activity text NOT NULL DEFAULT 'read',
    actor_kind text NOT NULL,
    actor_id text NOT NULL,
    actor_name text,
    profession text,
    organisation_sor text,
    organisation_name text,
    client_id text,
    acting_for_id text,
    acting_for_name text,
    patient_cpr text NOT NULL,
    requested_cpr text,
    requested text[] NOT NULL,
    returned text[] NOT NULL,
    denied text[] NOT NULL,
    withheld text[] NOT NULL,
    override_ground text,
    override_reason text,
    operation_hash text NOT NULL,
    operation_name text,
    exported_at timestamptz
);
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'access_record' AND column_name = 'outcome'
    ) THEN
        ALTER TABLE access_record ADD COLUMN outcome text;
        UPDATE access_record SET outcome = CASE
            WHEN cardinality(returned) > 0 THEN 'accessed' WHEN cardinality(denied) > 0 THEN 'refused' ELSE 'nothing'
        END;
        ALTER TABLE access_record ALTER COLUMN outcome SET NOT NULL;
    END IF;
END $$;
ALTER TABLE access_record ADD COLUMN IF NOT EXISTS set_aside_at timestamptz;
ALTER TABLE access_record ADD COLUMN IF NOT EXISTS set_aside_reason text;
ALTER TABLE access_record ADD COLUMN IF NOT EXISTS is_open boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS access_record_open ON access_record (patient_cpr, at, id) WHERE is_open;
DROP INDEX IF EXISTS access_record_pending_export;
CREATE INDEX IF NOT EXISTS access_record_patient ON access_record (patient_cpr, at, id);
CREATE INDEX IF NOT EXISTS access_record_export_queue ON access_record (at, id)
    WHERE exported_at IS NULL AND set_aside_at IS NULL;
CREATE INDEX IF NOT EXISTS access_record_set_aside ON access_record (at, id) WHERE set_aside_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS access_record_at ON access_record (at);
CREATE TABLE IF NOT EXISTS security_event (
    id text COLLATE "C" PRIMARY KEY,
    at timestamptz NOT NULL,
    request_id text NOT NULL,
    kind text NOT NULL,
    actor_kind text NOT NULL,
    actor text NOT NULL,
    client_id text,
    patients integer NOT NULL,
    operation_hash text NOT NULL
);
CREATE INDEX IF NOT EXISTS security_event_at ON security_event (at);
CREATE TABLE IF NOT EXISTS operator_event (
    id text COLLATE "C" PRIMARY KEY,
    at timestamptz NOT NULL,
    command text NOT NULL,
    operator text NOT NULL,
    os_user text NOT NULL,
    host text NOT NULL,
    count integer NOT NULL,
    detail text NOT NULL
);
"""

SQLITE_TABLES = (
    """CREATE TABLE IF NOT EXISTS access_record (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    activity TEXT NOT NULL DEFAULT 'read',
    outcome TEXT NOT NULL DEFAULT '',
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT,
    profession TEXT,
    organisation_sor TEXT,
    organisation_name TEXT,
    client_id TEXT,
    acting_for_id TEXT,
    acting_for_name TEXT,
    patient_cpr TEXT NOT NULL,
    requested_cpr TEXT,
    requested TEXT NOT NULL,
    returned TEXT NOT NULL,
    denied TEXT NOT NULL,
    withheld TEXT NOT NULL,
    override_ground TEXT,
    override_reason TEXT,
    operation_hash TEXT NOT NULL,
    operation_name TEXT,
    exported_at TEXT,
    set_aside_at TEXT,
    set_aside_reason TEXT,
    is_open INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE IF NOT EXISTS security_event (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    client_id TEXT,
    patients INTEGER NOT NULL,
    operation_hash TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS operator_event (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    command TEXT NOT NULL,
    operator TEXT NOT NULL,
    os_user TEXT NOT NULL,
    host TEXT NOT NULL,
    count INTEGER NOT NULL,
    detail TEXT NOT NULL
)""",
)

SQLITE_ADDED_COLUMNS = {
    "activity": "TEXT NOT NULL DEFAULT 'read'",
    "outcome": "TEXT NOT NULL DEFAULT ''",
    "profession": "TEXT",
    "organisation_name": "TEXT",
    "acting_for_id": "TEXT",
    "acting_for_name": "TEXT",
    "requested_cpr": "TEXT",
    "override_ground": "TEXT",
    "override_reason": "TEXT",
    "exported_at": "TEXT",
    "set_aside_at": "TEXT",
    "set_aside_reason": "TEXT",
    "is_open": "INTEGER NOT NULL DEFAULT 0",
}
"""Columns older SQLite schemas lack, with their definitions for ``ALTER TABLE … ADD COLUMN``."""

SQLITE_FILL_OUTCOME = """
UPDATE access_record SET outcome = CASE
    WHEN returned <> '[]' THEN 'accessed' WHEN denied <> '[]' THEN 'refused' ELSE 'nothing' END
WHERE outcome = ''
"""

SQLITE_INDEXES = (
    "DROP INDEX IF EXISTS access_record_patient_at",
    "DROP INDEX IF EXISTS access_record_pending_export",
    "CREATE INDEX IF NOT EXISTS access_record_patient ON access_record (patient_cpr, at, id)",
    "CREATE INDEX IF NOT EXISTS access_record_export_queue ON access_record (at, id) "
    "WHERE exported_at IS NULL AND set_aside_at IS NULL",
    "CREATE INDEX IF NOT EXISTS access_record_set_aside ON access_record (at, id) WHERE set_aside_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS access_record_at ON access_record (at)",
    "CREATE INDEX IF NOT EXISTS access_record_open ON access_record (patient_cpr, at, id) WHERE is_open",
    "CREATE INDEX IF NOT EXISTS security_event_at ON security_event (at)",
)
SQLITE_UNVERSIONED_CURRENT = 3
"""``PRAGMA user_version`` of a file the last unversioned gateway made or migrated."""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.connection.driver_connection.execute(POSTGRES)  # type: ignore[union-attr]  # psycopg: many statements
    else:
        _upgrade_sqlite(bind)


def _upgrade_sqlite(bind: Connection) -> None:
    db = bind.connection.driver_connection
    assert db is not None
    if db.execute("PRAGMA user_version").fetchone()[0] >= SQLITE_UNVERSIONED_CURRENT:
        db.execute(SQLITE_TABLES[2])  # operator_event was made on first use
        return
    for table in SQLITE_TABLES:
        db.execute(table)
    present = {row[1] for row in db.execute("PRAGMA table_info(access_record)")}
    for name, definition in SQLITE_ADDED_COLUMNS.items():
        if name not in present:
            db.execute(f"ALTER TABLE access_record ADD COLUMN {name} {definition}")
    for record_id, at in db.execute("SELECT id, at FROM access_record").fetchall():
        try:
            fixed = _fixed_width(at)
        except (ValueError, TypeError, OverflowError):
            continue  # left as it is: shown nowhere, set aside by export, listed for the operator
        if fixed != at:
            db.execute("UPDATE access_record SET at = ? WHERE id = ?", (fixed, record_id))
    db.execute(SQLITE_FILL_OUTCOME)
    for statement in SQLITE_INDEXES:
        db.execute(statement)
    db.execute(f"PRAGMA user_version = {SQLITE_UNVERSIONED_CURRENT}")


def _fixed_width(text: str) -> str:
    """A stored time as fixed-width UTC ISO 8601 text; a naive one was UTC."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def downgrade() -> None:
    raise NotImplementedError("the unversioned schema is not restored: restore a backup instead")
