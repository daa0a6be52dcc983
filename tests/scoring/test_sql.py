"""Reading a database never writes to it: read-only engines on real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore.errors import LeadscoreError
from leadscore.scoring.sources import SqlSource
from leadscore.scoring.sql import (
    check_identifier,
    check_read_only_query,
    create_engine,
    describe,
    is_database_url,
    same_database,
)


def leads_table(url: str) -> None:
    engine = sa.create_engine(url)
    pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "employees": [10, 20, 30]}).to_sql("leads", engine, index=False)
    engine.dispose()


def lead_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM leads")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "query",
    [
        "DROP TABLE leads",
        "DELETE FROM leads",
        "INSERT INTO leads VALUES ('x', 1)",
        "CREATE TABLE t (a int)",
        "PRAGMA x",
    ],
)
def test_only_one_select_is_accepted(query):
    with pytest.raises(LeadscoreError, match=r"--query is read-only: only a SELECT may run"):
        check_read_only_query(query)


def test_several_statements_are_refused():
    with pytest.raises(LeadscoreError, match=r"exactly one SELECT statement, got 2 statements"):
        check_read_only_query("SELECT * FROM leads; DROP TABLE leads")
    assert check_read_only_query("WITH a AS (SELECT 1) SELECT * FROM a;").startswith("WITH")


def test_read_only_engine_cannot_write(db_url):
    leads_table(db_url)
    engine = create_engine(db_url, read_only=True)
    try:
        with pytest.raises(sa.exc.DBAPIError, match=r"read-?only"), engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM leads")
        with pytest.raises(sa.exc.DBAPIError, match=r"read-?only"), engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE leads")
    finally:
        engine.dispose()
    assert lead_count(db_url) == 3


def test_a_select_that_writes_through_a_function_is_stopped_on_postgresql(postgres_url):
    """A single SELECT passes the statement check; the READ ONLY transaction stops what it calls."""
    url = postgres_url
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS leads")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS wipe()")
    engine.dispose()
    leads_table(url)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE FUNCTION wipe() RETURNS int AS 'DELETE FROM leads; SELECT 1' LANGUAGE sql")
    try:
        source = SqlSource(url, query="SELECT * FROM leads WHERE wipe() = 1")
        with pytest.raises(LeadscoreError, match=r"refused the read.*read-only transaction"):
            list(source.iter_chunks(["lead_id"], 2))
        assert lead_count(url) == 3
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP TABLE leads")
            conn.exec_driver_sql("DROP FUNCTION wipe()")
        engine.dispose()


def test_sqlite_source_neither_creates_nor_changes_the_file(tmp_path):
    missing = tmp_path / "no such.db"
    with pytest.raises(LeadscoreError, match=r"database file .*no such.db not found"):
        SqlSource(f"sqlite:///{missing}", table="leads")
    assert not missing.exists()
    path = tmp_path / "odd #name.db"  # escaped for SQLite's URI filename
    leads_table(f"sqlite:///{path}")
    before = path.read_bytes()
    source = SqlSource(f"sqlite:///{path}", table="leads")
    assert source.count() == 3
    assert pd.concat(source.iter_chunks(["lead_id"], 2))["lead_id"].tolist() == ["L1", "L2", "L3"]
    assert path.read_bytes() == before


def test_same_database(tmp_path):
    db = tmp_path / "a.db"
    db.touch()
    (tmp_path / "link.db").symlink_to(db)
    assert same_database(f"sqlite:///{db}", f"sqlite:///{tmp_path / 'link.db'}")
    assert not same_database(f"sqlite:///{db}", f"sqlite:///{tmp_path / 'b.db'}")
    assert same_database("postgresql+psycopg://u:p1@h:5432/crm", "postgresql://u@h:5432/crm")
    assert not same_database("postgresql://u@h:5432/crm", "postgresql://u@h:5432/other")


# -- from the mirrored unit tests ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("sqlite:///leads.db", True),
        ("postgresql+psycopg://user@host/crm", True),
        ("leads.parquet", False),
        ("data/leads.csv", False),
        ("C:\\exports\\leads.csv", False),
        ("s3://bucket/leads.parquet", True),  # a URL: refused later by SQLAlchemy with a clear error
    ],
)
def test_is_database_url(location, expected):
    assert is_database_url(location) is expected


@pytest.mark.parametrize("name", ["scores", "_lead_scores_2026", "Scores"])
def test_plain_identifiers_pass(name):
    assert check_identifier(name, what="--table") == name


@pytest.mark.parametrize("name", ["1scores", "scores; DROP TABLE leads", "lead-scores", "", "sc\u00f6res", 7])
def test_odd_identifiers_are_refused_with_the_option_named(name):
    with pytest.raises(LeadscoreError, match=r"^--table: .* is not a valid identifier"):
        check_identifier(name, what="--table")


def test_create_engine_errors_are_one_line_and_hide_the_password():
    with pytest.raises(LeadscoreError, match="not a usable SQLAlchemy URL") as err:
        create_engine("nosuchdialect://scott:tiger@db.example/crm")
    assert "tiger" not in str(err.value) and "***" in str(err.value)
    with pytest.raises(LeadscoreError, match="not a usable SQLAlchemy URL"):
        create_engine("sqlite:/missing-slashes")
    assert describe("postgresql://scott:tiger@db.example/crm") == "postgresql://scott:***@db.example/crm"


def test_a_missing_driver_says_what_to_install():
    if importlib.util.find_spec("pg8000") is not None:
        pytest.skip("pg8000 is installed here: its absence cannot be shown")
    with pytest.raises(LeadscoreError, match=r"database driver missing .*leadscore\[postgres\]"):
        create_engine("postgresql+pg8000://scott:tiger@127.0.0.1/crm")


def _tables(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_transactional_ddl_rolls_back_a_create_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'leads.db'}"
    engine = create_engine(url, transactional_ddl=True)
    with pytest.raises(RuntimeError, match="half way"), engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scores (lead_id TEXT)")
        conn.exec_driver_sql("INSERT INTO scores VALUES ('L1')")
        raise RuntimeError("half way")
    assert _tables(url) == []  # the DDL went with the rollback
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scores (lead_id TEXT)")
    assert _tables(url) == ["scores"]
    engine.dispose()
