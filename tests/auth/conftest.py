"""Fixtures for the access record stores: one URL per backend, and a fresh store on it.

``access_log_url`` runs a test once on SQLite (a file in ``tmp_path``) and once on PostgreSQL
(127.0.0.1:5432, database ``test``, trust auth; override with ``PATIENTOVERBLIK_TEST_POSTGRES_URL``).
Each PostgreSQL test gets its own schema, chosen through ``search_path`` in the URL and dropped
afterwards. Without a server the PostgreSQL tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from auth.access_log import AccessLog, open_access_log

POSTGRES_URL_VARIABLE = "PATIENTOVERBLIK_TEST_POSTGRES_URL"


def _candidate_urls() -> list[str]:
    if url := os.environ.get(POSTGRES_URL_VARIABLE):
        return [url]
    try:
        users = [getpass.getuser(), "postgres"]
    except OSError:
        users = ["postgres"]
    return [f"postgresql://{user}@127.0.0.1:5432/test" for user in dict.fromkeys(users)]


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """A URL that connects to the test server, or skip (fail under ``CI=true``) when none does."""
    reasons = []
    for url in _candidate_urls():
        try:
            with psycopg.connect(url, connect_timeout=3):
                return url
        except psycopg.OperationalError as exc:
            reasons.append(next(iter(str(exc).strip().splitlines()), type(exc).__name__))
    message = f"PostgreSQL is not running on 127.0.0.1:5432: {'; '.join(reasons)}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """The test server, with ``search_path`` set to a schema of this test's own."""
    schema = f"access_log_test_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_server_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres_server_url else "?"
    yield f"{postgres_server_url}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres_server_url, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def access_log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty access log's URL, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'access.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def access_log(access_log_url: str) -> AsyncIterator[AccessLog]:
    """An empty access log, closed after the test."""
    store = open_access_log(access_log_url)
    yield store
    await store.aclose()
