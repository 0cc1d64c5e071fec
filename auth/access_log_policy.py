"""How long the access-record store waits for its database, and the error of a store that cannot write.

The store sits on every request's path (no record, no data), so a database that is gone must cost a
request milliseconds, not the driver's default waits, and the store must be usable again as soon as
the database is back (ADR 0024). :class:`AccessLogPolicy` holds those bounds
(``PATIENTOVERBLIK_ACCESS_LOG__*``); both stores honour them.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_CONNECT_TIMEOUT_S = 2
"""libpq (and psycopg) read a ``connect_timeout`` below 2 s as 2 s."""


@dataclass(frozen=True, slots=True)
class AccessLogPolicy:
    """Bounds on the store's waits, in seconds."""

    acquire_timeout_s: float = 0.25
    """The longest one operation waits for the database before it fails: a connection from the pool and
    a lock on the table (PostgreSQL), the process's turn and the file's write lock (SQLite)."""
    statement_timeout_s: float = 1.0
    """PostgreSQL: every operation ends within ``acquire_timeout_s + statement_timeout_s`` of its start,
    however silent the network (its statements, its commit, the pool's check of its connection); past it
    the connection is cut and discarded (:mod:`auth.access_log_deadline`)."""
    migrate_timeout_s: float = 300.0
    """PostgreSQL: the longest the migrations a store runs when it opens may take (reading the schema's
    revision keeps to ``statement_timeout_s``); ``patientoverblik migrate`` has no such limit."""
    connect_timeout_s: int = MIN_CONNECT_TIMEOUT_S
    """The longest one new PostgreSQL connection may take (libpq ``connect_timeout``, at least 2), and the
    longest an operation waits for the store to open before its first use."""
    reconnect_timeout_s: float = 1.0
    """How long the PostgreSQL pool keeps retrying, in the background, a connection it lost; after that the
    next operation that needs one connects again at once (psycopg_pool's backoff would wait seconds)."""
    max_lifetime_s: float = 600.0
    """PostgreSQL connections are replaced after this long (so a fail-over is followed within it)."""
    max_connections: int = 10
    """The PostgreSQL pool's size."""
    migrate: bool = True
    """Whether the store runs the migrations its database lacks when it opens (:mod:`auth.migrate`); if not,
    a database behind this version's schema fails the opening with :class:`~auth.migrate.AccessLogNotMigrated`."""


OPERATOR_STATEMENT_TIMEOUT_S = 600.0
"""The statement timeout of the operator's commands: purging two years of records may take minutes."""


class AccessLogUnwritable(Exception):
    """The store answered, but cannot take writes now (a standby, a read-only database)."""
