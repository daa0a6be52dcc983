"""SQL helpers: what counts as a database URL, checked identifiers, engines with clear errors."""

from __future__ import annotations

import importlib.util

import pytest
import sqlalchemy as sa

from leadscore.errors import LeadscoreError
from leadscore.scoring.sql import check_identifier, create_engine, describe, is_database_url


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
