"""calibrate stores the drift reference; predict writes the open leads' drift report (JSON + PNG)."""

from __future__ import annotations

import json

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def small_run(small_pipeline):
    return small_pipeline["params"], small_pipeline["run"]


def test_the_scorer_carries_a_reference_of_every_input_column_and_score(small_run):
    from leadscore.models.persistence import load_scorer

    _, run = small_run
    scorer = load_scorer(run.path("calibrate", "scorer_out"))
    reference = scorer.extras["drift_reference"]
    features = pd.read_parquet(run.path("featurize", "fit_out"))
    assert reference["rows"] == int((features["split"] == "calibration").sum())
    assert set(reference["columns"]) == set(scorer.input_columns) - {scorer.id_column}
    assert set(reference["scores"]) == {"fit_probability", "intent_probability", "conversion_probability"}


def test_predict_reports_drift_of_the_open_leads(small_run):
    _, run = small_run
    report = json.loads(run.path("predict", "drift_out").read_text())
    scored = pd.read_parquet(run.paths("predict", "out")[0])
    assert report["rows"] == len(scored) > 0
    assert {e["status"] for e in [*report["columns"].values(), *report["scores"].values()]} <= {"ok", "warn", "alert"}
    assert report["columns"]["employees"]["status"] == "ok"
    assert run.path("predict", "drift_chart").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_unit_change_in_the_open_leads_raises_an_alert_on_that_column(small_run, tmp_path):
    from leadscore.pipeline import predict

    small, run = small_run
    raw = pd.read_parquet(run.path("generate", "leads_out"))
    raw.loc[raw["status"] == "open", "annual_revenue"] *= 1000  # dollars where thousands were expected
    raw.to_parquet(tmp_path / "leads.parquet")
    scored = predict.run(
        small,
        raw=str(tmp_path / "leads.parquet"),
        features=str(run.path("featurize", "fit_out")),
        scorer=str(run.path("calibrate", "scorer_out")),
        out=[str(tmp_path / "scored.parquet")],
        drift_out=str(tmp_path / "drift.json"),
    )
    report = json.loads((tmp_path / "drift.json").read_text())
    assert report["columns"]["annual_revenue"]["status"] == "alert"
    assert report["columns"]["employees"]["status"] == "ok"
    assert "annual_revenue" in scored.attrs["drift_summary"]
