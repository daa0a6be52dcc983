"""The drift report finds the drift profiles/synthetic_drift.yaml puts in, and only that (issue 11).

The scorer (with the drift reference the calibrate stage stores) is trained by the real stages on
20,000 leads; its open leads are scored with the real `leadscore score` CLI, whose drift report is read;
the monitor judges the test split (the most recent closed leads).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from support import REPO_ROOT, run_pipeline, small_params
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.data.outcomes import CALIBRATION, OPEN, TEST
from leadscore.io import read_table
from leadscore.models.persistence import load_scorer
from leadscore.monitoring.outcomes import monitor_outcomes
from leadscore.profiles import load_profile

SHIFTED = {"pricing_page_views", "web_visits_30d", "content_downloads"}


def _score_open_leads(params, workdir: Path) -> tuple[dict, dict]:
    """(drift report of the open leads via `leadscore score`, monitor result on the test split)."""
    run = run_pipeline(params, workdir, through="calibrate", skip=("register", "baselines"))
    raw = pd.read_parquet(run.path("generate", "leads_out"))
    table = read_table(run.path("featurize", "fit_out"))
    split = table["split"].to_numpy()
    leads = workdir / "open_leads.parquet"
    raw[split == OPEN].to_parquet(leads, index=False)
    out = workdir / "scores.parquet"
    model = str(run.path("calibrate", "scorer_out"))
    args = ["score", "--no-progress", "--model", model, "--input", str(leads), "--output", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((workdir / "scores.parquet.drift.json").read_text())
    scorer = load_scorer(run.path("calibrate", "scorer_out"))
    labels = table["label"]
    test = scorer.predict(raw[split == TEST]).assign(label=labels[split == TEST].to_numpy())
    cal = scorer.predict(raw[split == CALIBRATION]).assign(label=labels[split == CALIBRATION].to_numpy())
    monitor = monitor_outcomes(
        test,
        config=params.monitor,
        reference_auc=float(roc_auc_score(cal["label"], cal["conversion_probability"])),
        reference_base_rate=float(cal["label"].mean()),
    )
    return report, monitor


# Trains two small scorers with the real stages (20,000 leads each): about a minute on a loaded machine.
@pytest.mark.slow
def test_synthetic_drift_alerts_on_the_shifted_columns_and_the_conversion_score(tmp_path):
    params = small_params(load_profile("synthetic_drift", root=REPO_ROOT), n_leads=20_000, n_estimators=50)
    report, monitor = _score_open_leads(params, tmp_path / "drift")
    psi = {name: e["psi"] for name, e in report["columns"].items()}
    for column in SHIFTED:
        assert report["columns"][column]["status"] == "alert", (column, psi[column])
    for name in ("intent_probability", "conversion_probability"):
        assert report["scores"][name]["status"] == "alert", (name, report["scores"][name]["psi"])
    stable = {c: p for c, p in psi.items() if c not in SHIFTED and report["columns"][c]["status"] == "alert"}
    assert not stable, f"stable columns alert: {stable}"
    assert report["summary"].startswith("drift alert (PSI): pricing_page_views ")
    assert monitor["verdict"] in ("recalibrate", "retrain"), monitor["reason"]

    default = small_params(load_profile("synthetic", root=REPO_ROOT), n_leads=20_000, n_estimators=50)
    report, _ = _score_open_leads(default, tmp_path / "default")
    alerts = [n for g in ("columns", "scores") for n, e in report[g].items() if e["status"] == "alert"]
    assert alerts == [], f"the default data's own open leads alert on {alerts}"
