"""SQLAlchemy helpers shared by SQL sources and sinks: URLs, engines, checked identifiers."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
import sqlparse
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


def check_read_only_query(query: str) -> str:
    """Return ``query`` if it is one SELECT statement (``WITH ... SELECT`` included), else raise.

    A first, readable line of defence for ``--query``; the database itself then runs it read-only
    (see :func:`create_engine`), which also stops writes hidden in a SELECT (functions, CTEs).
    """
    statements = [s for s in sqlparse.parse(query) if s.token_first(skip_cm=True, skip_ws=True) is not None]
    if len(statements) != 1:
        raise LeadscoreError(
            f"--query: expected exactly one SELECT statement, got {len(statements)} statements"
            + (f" ({'; '.join(_short(str(s)) for s in statements[:3])})" if statements else "")
        )
    kind = statements[0].get_type()
    if kind != "SELECT":
        raise LeadscoreError(
            f"--query is read-only: only a SELECT may run, got {kind if kind != 'UNKNOWN' else 'a non-SELECT'} "
            f"statement {_short(query)!r}"
        )
    return query


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split()).rstrip(";").rstrip()
    return text if len(text) <= width else text[: width - 3] + "..."


def _read_only_sqlite(url: sa.URL) -> sa.URL:
    """The same SQLite database opened read-only: ``sqlite:///file:PATH?mode=ro&uri=true``."""
    database = url.database or ""
    if database in ("", ":memory:"):
        return url  # a private in-memory database: nothing of the user's can change
    if url.query.get("uri") == "true" and database.startswith("file:"):
        return url.update_query_dict({"mode": "ro"})
    if not Path(database).is_file():
        raise LeadscoreError(f"{_safe(url.render_as_string())}: database file {database} not found")
    # URI filenames percent-decode, so ?, # and % in the path must be escaped.
    return url.set(database="file:" + quote(database, safe="/")).update_query_dict({"mode": "ro", "uri": "true"})


def create_engine(url: str, *, transactional_ddl: bool = False, read_only: bool = False) -> Engine:
    """Engine for ``url``, with one clear error for a malformed URL or a missing driver.

    ``transactional_ddl`` makes SQLite run CREATE/DROP/ALTER inside the surrounding transaction
    (Python's sqlite3 module otherwise commits DDL on its own), which atomic writes rely on.
    ``read_only`` is for sources: SQLite opens the file read-only (a missing file is an error, not a
    new empty database), PostgreSQL runs every transaction READ ONLY.
    """
    try:
        parsed = sa.engine.make_url(url)
        if read_only and parsed.get_backend_name() == "sqlite":
            parsed = _read_only_sqlite(parsed)
        engine = sa.create_engine(parsed)
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

    if read_only and engine.dialect.name == "postgresql":

        @sa.event.listens_for(engine, "begin")
        def _read_only_transaction(conn):
            # The first statement of every transaction, so nothing in it can write; SELECT 1 takes the
            # snapshot, after which not even SET TRANSACTION READ WRITE can lift it.
            # A plain DBAPI cursor: the connection's own options (stream_results) would wrap these in DECLARE.
            cursor = conn.connection.cursor()
            try:
                cursor.execute("SET TRANSACTION READ ONLY")
                cursor.execute("SELECT 1")
            finally:
                cursor.close()

    return engine


def _safe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.split("@")[-1]


def same_database(first: str, second: str) -> bool:
    """True if two SQLAlchemy URLs point at the same database (SQLite: the same file, symlinks resolved)."""
    try:
        a, b = sa.engine.make_url(first), sa.engine.make_url(second)
    except sa.exc.ArgumentError:
        return first == second
    if a.get_backend_name() == b.get_backend_name() == "sqlite":
        paths = [u.database.removeprefix("file:").split("?")[0] if u.database else "" for u in (a, b)]
        if not all(paths) or ":memory:" in paths:
            return False
        return Path(paths[0]).resolve() == Path(paths[1]).resolve()
    keep = ("drivername", "username", "host", "port", "database")
    return all(
        getattr(a, k) == getattr(b, k) if k != "drivername" else a.get_backend_name() == b.get_backend_name()
        for k in keep
    )


def describe(url: str) -> str:
    """A printable form of ``url`` (password hidden)."""
    return _safe(url)
