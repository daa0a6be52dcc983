"""SQLAlchemy helpers shared by SQL sources and sinks: URLs, engines, checked identifiers."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from leadscore.errors import LeadscoreError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_database_url(location: str) -> bool:
    """True for a SQLAlchemy URL such as ``sqlite:///leads.db`` or ``postgresql+psycopg://...``."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+]*://", location) is not None


def check_identifier(name: str, *, what: str) -> str:
    """Return ``name`` if it is a plain SQL identifier (letters, digits, underscore), else raise.

    Table and column names are only ever passed to SQLAlchemy constructs (which quote them through
    the dialect's identifier preparer); this check additionally refuses anything odd up front.
    """
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise LeadscoreError(
            f"{what}: {name!r} is not a valid identifier (expected letters, digits and _, not starting with a digit)"
        )
    return name


def create_engine(url: str, *, transactional_ddl: bool = False) -> Engine:
    """Engine for ``url``, with one clear error for a malformed URL or a missing driver.

    ``transactional_ddl`` makes SQLite run CREATE/DROP/ALTER inside the surrounding transaction
    (Python's sqlite3 module otherwise commits DDL on its own), which atomic writes rely on.
    """
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as err:
        raise LeadscoreError(f"{_safe(url)}: not a usable SQLAlchemy URL ({err})") from None
    except ImportError as err:
        raise LeadscoreError(
            f"{_safe(url)}: database driver missing ({err}); for PostgreSQL install leadscore[postgres]"
        ) from None
    if transactional_ddl and engine.dialect.name == "sqlite":
        # The recipe from SQLAlchemy's pysqlite docs ("Serializable isolation / Savepoints / Transactional DDL").
        @sa.event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection, _record):
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _explicit_begin(conn):
            conn.exec_driver_sql("BEGIN")

    return engine


def _safe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.split("@")[-1]


def describe(url: str) -> str:
    """A printable form of ``url`` (password hidden)."""
    return _safe(url)
