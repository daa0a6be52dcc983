"""`leadscore drift` and `leadscore monitor` end to end on a real trained scorer and real files."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.models.persistence import save_scorer
from leadscore.monitoring.drift import reference_for_scorer

runner = CliRunner()


@pytest.fixture(scope="module")
def scorer_with_reference(trained_scorer):
    scorer, raw = trained_scorer
    scorer = copy.copy(scorer)
    scorer.extras = {**scorer.extras, "drift_reference": reference_for_scorer(scorer, raw.iloc[:4000])}
    return scorer, raw


@pytest.fixture
def model_file(tmp_path, scorer_with_reference):
    path = tmp_path / "lead_scorer.json"
    save_scorer(scorer_with_reference[0], path)
    return path


def test_drift_on_stable_and_shifted_batches(tmp_path, model_file, scorer_with_reference):
    _, raw = scorer_with_reference
    stable = tmp_path / "stable.parquet"
    raw.iloc[4000:7000].to_parquet(stable, index=False)
    out, chart = tmp_path / "drift.json", tmp_path / "drift.png"
    result = runner.invoke(
        app,
        ["drift", "--model", str(model_file), "--input", str(stable), "--out", str(out), "--chart", str(chart)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["rows"] == 3000 and report["input"] == str(stable)
    assert all(e["status"] != "alert" for e in report["columns"].values())
    assert set(report["scores"]) == {"fit_probability", "intent_probability", "conversion_probability"}
    assert chart.read_bytes()[:4] == b"\x89PNG"
    assert report["summary"] in result.output.replace("\n", "")

    shifted = raw.iloc[4000:7000].copy()
    shifted["pricing_page_views"] = shifted["pricing_page_views"] + np.random.default_rng(0).poisson(6, len(shifted))
    csv = tmp_path / "shifted.csv"
    shifted.to_csv(csv, index=False)
    args = ["drift", "--model", str(model_file), "--input", str(csv), "--out", str(out), "--chunk-size", "700"]
    assert runner.invoke(app, args).exit_code == 0
    report = json.loads(out.read_text())
    assert report["columns"]["pricing_page_views"]["status"] == "alert"
    assert report["scores"]["intent_probability"]["status"] == "alert"
    assert report["summary"].startswith("drift alert (PSI): pricing_page_views ")


def test_drift_without_a_reference_is_one_clear_error(tmp_path, trained_scorer):
    scorer, raw = trained_scorer
    path = tmp_path / "old.json"
    # A model from before drift references (the calibrate stage now stores one): extras without it.
    old_scorer = dataclasses.replace(scorer, extras={k: v for k, v in scorer.extras.items() if k != "drift_reference"})
    save_scorer(old_scorer, path)
    leads = tmp_path / "leads.parquet"
    raw.iloc[:100].to_parquet(leads, index=False)
    out = tmp_path / "drift.json"
    result = runner.invoke(app, ["drift", "--model", str(path), "--input", str(leads), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{path}: the model has no drift reference" in " ".join(result.output.split())
    assert not out.exists()


def test_monitor_from_score_and_outcome_files(tmp_path, scorer_with_reference):
    scorer, raw = scorer_with_reference
    closed = raw[raw["status"] != "open"].iloc[-3000:]
    scored = scorer.predict(closed).drop(columns="rank")
    scored["scored_at"] = pd.Timestamp("2026-05-01", tz="UTC")
    scores = tmp_path / "scores.parquet"
    scored.to_parquet(scores, index=False)
    outcomes = tmp_path / "outcomes.csv"
    closed[["lead_id", "status"]].to_csv(outcomes, index=False)
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"test": {"conversion": {"auc": 0.84}}, "data": {"test_base_rate": 0.15}}))
    out, chart = tmp_path / "monitor.json", tmp_path / "monitor.png"
    args = ["monitor", "--scores", str(scores), "--outcomes", str(outcomes), "--out", str(out), "--chart", str(chart)]
    result = runner.invoke(app, [*args, "--reference-metrics", str(metrics)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["n"] == 3000 and report["counts"]["matched"] == 3000
    assert report["verdict"] in ("fine", "recalibrate", "retrain")
    assert report["reference_auc"] == 0.84 and report["bant_auc"] < report["auc"]
    assert chart.read_bytes()[:4] == b"\x89PNG"
    assert report["verdict"] + ":" in result.output

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"lead_id": ["L1"], "outcome": ["won"]}).to_csv(bad, index=False)
    result = runner.invoke(app, ["monitor", "--scores", str(scores), "--outcomes", str(bad), "--out", str(out)])
    assert result.exit_code == 2 and f"{bad}: missing column(s) status" in " ".join(result.output.split())
