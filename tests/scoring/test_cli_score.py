"""`leadscore score` end to end: files, SQLite and PostgreSQL tables, reruns, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.scoring.batch import BATCH_SCORE_COLUMNS, META_COLUMNS

runner = CliRunner()


def score(*args):
    result = runner.invoke(app, ["score", "--no-progress", *map(str, args)])
    return result


def test_parquet_to_parquet_and_rerun_gives_the_same_scores(tmp_path, models_dir, loaded_model, sample_leads):
    leads = tmp_path / "leads.parquet"
    sample_leads.to_parquet(leads, index=False)
    out = tmp_path / "scores.parquet"
    result = score("--model", models_dir, "--input", leads, "--output", out, "--chunk-size", 1000)
    assert result.exit_code == 0, result.output
    assert "scored 3,000 leads with lead_scorer sha256:" in result.output
    first = pd.read_parquet(out)
    assert list(first.columns) == ["lead_id", *BATCH_SCORE_COLUMNS, *META_COLUMNS]
    expected = loaded_model.scorer.predict(sample_leads)
    np.testing.assert_array_equal(first["conversion_probability"], expected["conversion_probability"])
    assert score("--model", models_dir, "--input", leads, "--output", out, "--chunk-size", 999).exit_code == 0
    again = pd.read_parquet(out)
    pd.testing.assert_frame_equal(again.drop(columns="scored_at"), first.drop(columns="scored_at"))


def _leads_table(url, frame, table="leads"):
    engine = sa.create_engine(url)
    frame.to_sql(table, engine, index=False, if_exists="replace")
    engine.dispose()


def _scores(url, table="lead_scores"):
    engine = sa.create_engine(url)
    try:
        return pd.read_sql(f"SELECT * FROM {table} ORDER BY lead_id", engine)
    finally:
        engine.dispose()


def test_database_in_database_out_replace_then_upsert(db_url, models_dir, loaded_model, sample_leads):
    """Reads a leads table and writes scores back, on SQLite and on a real PostgreSQL server."""
    _leads_table(db_url, sample_leads.iloc[:2000])
    common = (
        "--model",
        models_dir,
        "--input",
        db_url,
        "--output",
        db_url,
        "--output-table",
        "lead_scores",
        "--chunk-size",
        700,
    )
    result = score(*common, "--table", "leads", "--mode", "replace")
    assert result.exit_code == 0, result.output
    replaced = _scores(db_url)
    assert len(replaced) == 2000
    expected = loaded_model.scorer.predict(sample_leads.iloc[:2000]).sort_values("lead_id", ignore_index=True)
    assert replaced["lead_id"].tolist() == expected["lead_id"].tolist()
    np.testing.assert_allclose(replaced["conversion_probability"], expected["conversion_probability"], rtol=1e-12)
    assert replaced["quadrant"].tolist() == expected["quadrant"].tolist()

    # New leads arrive and one lead changes: upsert a query's rows on lead_id.
    changed = sample_leads.iloc[1500:2500].copy()
    changed.loc[1500, "demo_requested"] = not bool(changed.loc[1500, "demo_requested"])
    _leads_table(db_url, changed, table="leads_today")
    result = score(*common, "--query", "SELECT * FROM leads_today", "--mode", "upsert")
    assert result.exit_code == 0, result.output
    upserted = _scores(db_url)
    assert len(upserted) == 2500
    expected = loaded_model.scorer.predict(pd.concat([sample_leads.iloc[:1500], changed])).sort_values(
        "lead_id", ignore_index=True
    )
    assert upserted["lead_id"].tolist() == expected["lead_id"].tolist()
    np.testing.assert_allclose(upserted["conversion_probability"], expected["conversion_probability"], rtol=1e-12)
    assert upserted["scored_at"].nunique() == 2, "upserted rows carry the second run's time"


def test_bad_input_is_one_clear_message(tmp_path, models_dir, sample_leads):
    leads = tmp_path / "leads.parquet"
    sample_leads.drop(columns=["job_title"]).iloc[:10].to_parquet(leads, index=False)
    result = score("--model", models_dir, "--input", leads, "--output", tmp_path / "s.parquet")
    assert result.exit_code == 2
    assert "missing column(s) job_title" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "s.parquet").exists()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = score(
        "--model", models_dir, "--input", url, "--table", "leads; DROP TABLE leads", "--output", tmp_path / "s.parquet"
    )
    assert result.exit_code == 2 and "not a valid identifier" in result.output
    result = score("--model", models_dir, "--input", leads, "--output", tmp_path / "s.parquet", "--engine", "spark")
    assert result.exit_code == 2 and "--engine: expected single or dask" in result.output
    result = score("--model", tmp_path / "nowhere", "--input", leads, "--output", tmp_path / "s.parquet")
    assert result.exit_code == 2 and "model file not found" in result.output


def test_query_cannot_write_on_postgresql(postgres_url, models_dir, sample_leads, tmp_path):
    """A DELETE is refused up front; a SELECT calling a writing function hits the READ ONLY transaction."""
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    sample_leads.iloc[:300].to_sql("leads_ro", admin, index=False, if_exists="replace")
    with admin.connect() as conn:
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION wipe() RETURNS int AS 'DELETE FROM leads_ro; SELECT 1' LANGUAGE sql"
        )
    try:
        out = tmp_path / "out.parquet"
        result = score(
            "--model", models_dir, "--input", postgres_url, "--query", "DELETE FROM leads_ro", "--output", out
        )
        assert result.exit_code == 2 and "--query is read-only: only a SELECT may run, got DELETE" in result.output
        query = "SELECT * FROM leads_ro WHERE wipe() = 1"
        result = score("--model", models_dir, "--input", postgres_url, "--query", query, "--output", out)
        assert result.exit_code == 2, result.output
        assert "refused the read" in result.output and "read-only transaction" in result.output
        with admin.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM leads_ro").scalar_one() == 300
        assert not out.exists()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS leads_ro")
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS wipe()")
        admin.dispose()
