"""Stage ``evaluate``: every scorer on the test split only, and one metrics dict behind every output.

Inputs are the files of the session's small pipeline (tests/conftest.py ``small_pipeline``), which
ran this stage once; error paths rerun it on altered copies, writing to the test's own directory.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from leadscore.errors import DataValidationError
from leadscore.pipeline import evaluate


def _options(run, tmp_path, **overrides) -> dict[str, str]:
    paths = {
        "raw": run.path("generate", "leads_out"),
        "truth": run.path("generate", "truth_out"),
        "features": run.path("featurize", "fit_out"),
        "baseline_scores": run.path("baselines", "scores_out"),
        "scorer": run.path("calibrate", "scorer_out"),
        "metrics_out": tmp_path / "metrics.json",
        "plots_dir": tmp_path / "plots",
        "report_html": tmp_path / "benchmark.html",
        "report_md": tmp_path / "benchmark.md",
        "figures_dir": tmp_path / "figures",
    }
    return {name: str(path) for name, path in {**paths, **overrides}.items()}


def test_every_output_comes_from_the_test_split(small_pipeline):
    run, metrics = small_pipeline["run"], small_pipeline["metrics"]
    table = pd.read_parquet(run.path("featurize", "fit_out"))
    assert metrics["split"]["test"] == (table["split"] == "test").sum() == metrics["data"]["test_leads"]
    assert {"conversion", "fit", "intent", "bant", "lightgbm_all", "logistic", "random", "oracle"} <= set(
        metrics["test"]
    )
    assert json.loads(run.path("evaluate", "metrics_out").read_text()) == metrics
    # Issue 15: which conversion model calibrate chose (the default: the logistic form, no cross-validation).
    assert metrics["conversion_selection"] == {"chosen": "logistic", "folds": 0, "candidates": {}}
    figures = run.path("evaluate", "figures_dir")
    expected = {"gains", "reliability", "quadrant_map", "capacity", "importance_fit", "importance_intent"}
    assert {p.stem for p in figures.glob("*.png")} == expected
    assert (run.path("evaluate", "plots_dir") / "roc" / "conversion.csv").is_file()
    md = run.path("evaluate", "report_md").read_text()
    assert md.startswith("# Lead scoring benchmark: model vs BANT vs the ceiling\n")  # synthetic data: there is one
    assert f"{metrics['test']['conversion']['auc']:.3f}" in md


def test_missing_baseline_scores_are_named_and_nothing_written(small_pipeline, tmp_path):
    params, run = small_pipeline["params"], small_pipeline["run"]
    scores = pd.read_parquet(run.path("baselines", "scores_out"))
    partial = tmp_path / "partial_scores.parquet"
    scores.iloc[1:].to_parquet(partial, index=False)
    with pytest.raises(DataValidationError, match=r"partial_scores\.parquet: no baseline scores for some test leads"):
        evaluate.run(params, **_options(run, tmp_path / "out", baseline_scores=partial))
    assert not (tmp_path / "out").exists()


def test_a_truth_file_missing_test_leads_is_named(small_pipeline, tmp_path):
    params, run = small_pipeline["params"], small_pipeline["run"]
    truth = pd.read_parquet(run.path("generate", "truth_out"))
    test_ids = pd.read_parquet(run.path("baselines", "scores_out"))["lead_id"]
    partial = tmp_path / "partial_truth.parquet"
    truth[truth["lead_id"] != test_ids.iloc[0]].to_parquet(partial, index=False)
    with pytest.raises(DataValidationError, match=r"partial_truth\.parquet: no true_p for some test leads"):
        evaluate.run(params, **_options(run, tmp_path / "out", truth=partial))
    assert not (tmp_path / "out").exists()


def test_without_truth_there_is_no_oracle(small_pipeline, tmp_path):
    """A real export has an empty truth file: every output is written, and no scorer is called the ceiling."""
    params, run = small_pipeline["params"], small_pipeline["run"]
    truth = pd.read_parquet(run.path("generate", "truth_out"))
    empty = tmp_path / "truth.parquet"
    truth.iloc[:0].to_parquet(empty, index=False)
    options = _options(run, tmp_path, truth=empty)
    metrics = evaluate.run(params, **options)
    assert "oracle" not in metrics["test"] and "conversion" in metrics["test"]
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert not (tmp_path / "plots" / "roc" / "oracle.csv").exists()
    assert (tmp_path / "figures" / "gains.png").is_file() and (tmp_path / "benchmark.html").is_file()
    assert (tmp_path / "benchmark.md").read_text().startswith("# Lead scoring benchmark: model vs BANT\n")
    assert "<h1>Lead scoring benchmark: model vs BANT</h1>" in (tmp_path / "benchmark.html").read_text()
