"""Alembic's migrations of the access-log database (ADR 0026); run them with :mod:`auth.migrate`."""
