"""The score loop: chunked scores equal whole-table scores; interrupted runs keep the old output."""

from __future__ import annotations

import hashlib
import inspect

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore.errors import DataValidationError, LeadscoreError
from leadscore.scoring.batch import BATCH_SCORE_COLUMNS, META_COLUMNS, load_model, score_batches, score_frame
from leadscore.scoring.sinks import open_sink
from leadscore.scoring.sources import open_source

WHEN = pd.Timestamp("2026-07-01T02:00:00Z")


def test_chunked_scores_equal_whole_table_scores(tmp_path, loaded_model, sample_leads):
    path = tmp_path / "leads.parquet"
    sample_leads.to_parquet(path, index=False)
    out = tmp_path / "scores.parquet"
    summary = score_batches(
        model=loaded_model,
        source=open_source(str(path)),
        sink=open_sink(str(out)),
        chunk_size=700,
        scored_at=WHEN,
        show_progress=False,
    )
    assert summary.rows == len(sample_leads)
    got = pd.read_parquet(out)
    assert list(got.columns) == ["lead_id", *BATCH_SCORE_COLUMNS, *META_COLUMNS]
    expected = loaded_model.scorer.predict(sample_leads).drop(columns="rank")
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False)
    assert (got["model_name"] == "test_scorer").all() and (got["model_version"] == "sha256:test").all()
    assert (got["scored_at"] == WHEN).all()


def test_sql_in_sql_out_matches_file_scores(tmp_path, loaded_model, sample_leads):
    """SQLite has no booleans or fixed types: the same leads read back from a table score the same."""
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = sa.create_engine(url)
    sample_leads.to_sql("leads", engine, index=False)
    engine.dispose()
    score_batches(
        model=loaded_model,
        source=open_source(url, table="leads"),
        sink=open_sink(url, table="lead_scores", mode="upsert"),
        chunk_size=1000,
        show_progress=False,
    )
    engine = sa.create_engine(url)
    got = pd.read_sql("SELECT * FROM lead_scores ORDER BY rowid", engine)
    engine.dispose()
    expected = loaded_model.scorer.predict(sample_leads)
    assert got["lead_id"].tolist() == expected["lead_id"].tolist()
    np.testing.assert_allclose(got["conversion_probability"], expected["conversion_probability"], rtol=1e-12)
    assert got["quadrant"].tolist() == expected["quadrant"].tolist()


def test_interrupted_run_leaves_previous_outputs_untouched(tmp_path, loaded_model, sample_leads):
    good = tmp_path / "good.csv"
    sample_leads.iloc[:500].to_csv(good, index=False)
    # Later rows hold text in a numeric column: two chunks are written before the third is refused.
    bad_rows = sample_leads.iloc[:900].copy()
    bad_rows["employees"] = bad_rows["employees"].astype(object)
    bad_rows.loc[600:, "employees"] = "lots"
    bad = tmp_path / "bad.csv"
    bad_rows.to_csv(bad, index=False)
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    targets = [(str(tmp_path / "scores.parquet"), None), (str(tmp_path / "scores_dir"), None), (url, "scores")]
    for location, table in targets:
        score_batches(
            model=loaded_model,
            source=open_source(str(good)),
            sink=open_sink(location, table=table),
            chunk_size=300,
            show_progress=False,
        )
        before = _read(location, table)
        with pytest.raises(DataValidationError, match=r"'employees'.*not finite numbers"):
            score_batches(
                model=loaded_model,
                source=open_source(str(bad)),
                sink=open_sink(location, table=table),
                chunk_size=300,
                show_progress=False,
            )
        pd.testing.assert_frame_equal(_read(location, table), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.csv",
        "good.csv",
        "scores.db",
        "scores.parquet",
        "scores_dir",
    ]


def _read(location, table):
    if table is None:
        return pd.read_parquet(location)
    engine = sa.create_engine(location)
    try:
        return pd.read_sql(f"SELECT * FROM {table}", engine)
    finally:
        engine.dispose()


def test_duplicate_or_missing_ids_are_refused(loaded_model, sample_leads):
    dupes = sample_leads.iloc[[0, 1, 1]]
    with pytest.raises(DataValidationError, match=r"lead_id.*must be unique"):
        score_frame(dupes, model=loaded_model, scored_at=WHEN)


def test_empty_source_still_replaces_output(tmp_path, loaded_model, sample_leads):
    path = tmp_path / "none.parquet"
    sample_leads.iloc[:0].to_parquet(path, index=False)
    out = tmp_path / "scores.csv"
    summary = score_batches(
        model=loaded_model, source=open_source(str(path)), sink=open_sink(str(out)), show_progress=False
    )
    assert summary.rows == 0
    assert list(pd.read_csv(out).columns) == ["lead_id", *BATCH_SCORE_COLUMNS, *META_COLUMNS]


def test_explain_flag(tmp_path, loaded_model, sample_leads):
    """--explain passes explain=True when the scorer supports it; otherwise one clear error."""
    path = tmp_path / "leads.parquet"
    sample_leads.iloc[:50].to_parquet(path, index=False)

    def run() -> None:
        score_batches(
            model=loaded_model,
            source=open_source(str(path)),
            sink=open_sink(str(tmp_path / "o.parquet")),
            explain=True,
            show_progress=False,
        )

    if "explain" in inspect.signature(loaded_model.scorer.predict).parameters:
        run()
        plain = loaded_model.scorer.predict(sample_leads.iloc[:50])
        assert len(pd.read_parquet(tmp_path / "o.parquet").columns) > len(plain.columns) - 1 + len(META_COLUMNS)
    else:
        with pytest.raises(LeadscoreError, match="explanations need leadscore with explain support"):
            run()
        assert not (tmp_path / "o.parquet").exists()


def test_load_model_from_dir_or_file(tmp_path, loaded_model):
    (tmp_path / "models").mkdir()
    from leadscore.models.persistence import save_display, save_scorer

    save_scorer(loaded_model.scorer, tmp_path / "models" / "lead_scorer.json")
    save_display(loaded_model.scorer.display, tmp_path / "models" / "display.json")
    from_dir = load_model(str(tmp_path / "models"))
    from_file = load_model(str(tmp_path / "models" / "lead_scorer.json"))
    assert from_dir.name == from_file.name == "lead_scorer"
    assert from_dir.version == from_file.version and from_dir.version.startswith("sha256:")
    # the version is the file's own sha256 (first 12 hex digits), as recorded for data and models elsewhere
    expected = hashlib.sha256((tmp_path / "models" / "lead_scorer.json").read_bytes()).hexdigest()[:12]
    assert from_file.version == f"sha256:{expected}"
    assert from_dir.scorer.input_columns == loaded_model.scorer.input_columns
    # display.json beside the scorer is picked up: the actions of params.yaml, not the defaults
    assert from_dir.scorer.display == loaded_model.scorer.display and from_dir.scorer.display.actions
    with pytest.raises(LeadscoreError, match="model file not found"):
        load_model(str(tmp_path))
