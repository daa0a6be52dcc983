"""Chunked lead sources: every row exactly once, only the asked columns, clear errors."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore.errors import DataValidationError, LeadscoreError
from leadscore.scoring.sources import CsvSource, ParquetSource, SqlSource, open_source


@pytest.fixture
def leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(10)],
            "employees": [10.0, None, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0],
            "industry": ["software", "retail", None, "software", "retail", "x", "y", "z", "w", "v"],
            "unused": range(10),
        }
    )


def _collect(source, columns, chunk_size):
    chunks = list(source.iter_chunks(columns, chunk_size))
    return chunks, pd.concat(chunks, ignore_index=True)


def test_parquet_file_streams_every_row_once_in_bounded_chunks(tmp_path, leads):
    path = tmp_path / "leads.parquet"
    leads.to_parquet(path, index=False)
    source = open_source(str(path))
    assert isinstance(source, ParquetSource)
    assert source.count() == 10
    chunks, whole = _collect(source, ["lead_id", "employees"], 4)
    assert [len(c) for c in chunks] == [4, 4, 2]
    pd.testing.assert_frame_equal(whole, leads[["lead_id", "employees"]], check_dtype=False)


def test_parquet_directory_is_one_dataset(tmp_path, leads):
    (tmp_path / "d").mkdir()
    leads.iloc[:6].to_parquet(tmp_path / "d" / "a.parquet", index=False)
    leads.iloc[6:].to_parquet(tmp_path / "d" / "b.parquet", index=False)
    source = open_source(str(tmp_path / "d"))
    assert source.count() == 10
    _, whole = _collect(source, ["lead_id", "industry"], 100)
    assert sorted(whole["lead_id"]) == sorted(leads["lead_id"])


def test_csv_streams_in_chunks(tmp_path, leads):
    path = tmp_path / "leads.csv"
    leads.to_csv(path, index=False)
    source = open_source(str(path))
    assert isinstance(source, CsvSource)
    chunks, whole = _collect(source, ["lead_id", "employees"], 3)
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert whole["lead_id"].tolist() == leads["lead_id"].tolist()
    assert whole["employees"].isna().sum() == 1


def test_sql_table_and_query(tmp_path, leads):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = sa.create_engine(url)
    leads.to_sql("leads", engine, index=False)
    engine.dispose()
    table = open_source(url, table="leads")
    assert table.count() == 10
    chunks, whole = _collect(table, ["lead_id", "employees"], 4)
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert whole["lead_id"].tolist() == leads["lead_id"].tolist()
    everything = open_source(url, query="SELECT * FROM leads")
    assert [len(c) for c in everything.iter_chunks(["lead_id"], 4)] == [4, 4, 2]
    query = open_source(url, query="SELECT * FROM leads WHERE employees >= 50")
    assert query.count() is None
    _, subset = _collect(query, ["lead_id"], 100)
    assert subset["lead_id"].tolist() == ["L4", "L5", "L6", "L7", "L8", "L9"]
    assert list(subset.columns) == ["lead_id"]


def test_missing_column_is_named(tmp_path, leads):
    path = tmp_path / "leads.parquet"
    leads.to_parquet(path, index=False)
    with pytest.raises(DataValidationError, match=r"missing column.*job_title"):
        next(ParquetSource(path).iter_chunks(["lead_id", "job_title"], 5))
    csv = tmp_path / "leads.csv"
    leads.to_csv(csv, index=False)
    with pytest.raises(DataValidationError, match=r"missing column.*job_title"):
        next(CsvSource(csv).iter_chunks(["lead_id", "job_title"], 5))


def test_sql_errors_are_clear(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(LeadscoreError, match=re.escape("empty.db not found")):  # opened read-only: never created
        SqlSource(url, table="leads")
    assert not (tmp_path / "empty.db").exists()
    (tmp_path / "empty.db").touch()  # a 0-byte file is an empty SQLite database
    with pytest.raises(DataValidationError, match="no such table"):
        SqlSource(url, table="leads").count()
    with pytest.raises(LeadscoreError, match="not a valid identifier"):
        SqlSource(url, table="leads; DROP TABLE leads")
    with pytest.raises(LeadscoreError, match="exactly one of --table or --query"):
        SqlSource(url)
    with pytest.raises(LeadscoreError, match="refused the read"):
        next(SqlSource(url, query="SELECT * FROM nowhere").iter_chunks(["lead_id"], 5))


def test_location_errors(tmp_path):
    with pytest.raises(DataValidationError, match="input not found"):
        open_source(str(tmp_path / "nope.parquet"))
    (tmp_path / "leads.xlsx").write_text("x")
    with pytest.raises(DataValidationError, match=re.escape("expected a .csv or .parquet")):
        open_source(str(tmp_path / "leads.xlsx"))
    with pytest.raises(LeadscoreError, match="need a database URL"):
        open_source(str(tmp_path / "leads.xlsx"), table="leads")
