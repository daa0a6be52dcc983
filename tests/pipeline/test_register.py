"""Stage ``register``: one MLflow run per pipeline run, the composite model registered as @challenger.

A real MLflow sqlite store in the test's directory; inputs are the session's small pipeline's files.
"""

from __future__ import annotations

import json

import pytest
from support import REPO_ROOT

from leadscore.errors import DataValidationError
from leadscore.io import sha256_file
from leadscore.pipeline import register


def _options(run, tmp_path, **overrides) -> dict:
    options = {
        "params_path": str(REPO_ROOT / "params.yaml"),
        "raw": str(run.path("generate", "leads_out")),
        "scorer": str(run.path("calibrate", "scorer_out")),
        "fit_model": str(run.path("train_fit", "model_out")),
        "intent_model": str(run.path("train_intent", "model_out")),
        "metrics": str(run.path("evaluate", "metrics_out")),
        "run_out": str(tmp_path / "mlflow_run.json"),
        "artifact": [str(run.path("evaluate", "report_md")), str(run.path("evaluate", "figures_dir"))],
    }
    return {**options, **overrides}


@pytest.mark.slow  # MLflow logs two models and a pyfunc model: ~10 s idle, much more on a loaded machine
def test_the_run_is_logged_and_the_model_registered_in_the_store(small_pipeline, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    params, run, metrics = small_pipeline["params"], small_pipeline["run"], small_pipeline["metrics"]
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.chdir(tmp_path)  # a sqlite store keeps artifacts in ./mlruns: here, not in the repo
    summary = register.run(params, **_options(run, tmp_path))
    assert json.loads((tmp_path / "mlflow_run.json").read_text()) == summary
    assert summary["tracking_uri"] == store and summary["registered_model"] == params.mlflow.registered_model
    assert summary["version"] == "1" and summary["aliases"] == ["challenger", "champion"]  # the first is champion
    assert summary["test_conversion_log_loss"] == pytest.approx(metrics["test"]["conversion"]["log_loss"])

    client = MlflowClient(tracking_uri=store, registry_uri=store)
    logged = client.get_run(summary["run_id"])
    assert logged.data.tags["data_fingerprint"] == sha256_file(run.path("generate", "leads_out"))
    assert logged.data.metrics["test_conversion_auc"] == pytest.approx(metrics["test"]["conversion"]["auc"])
    artifacts = {a.path for a in client.list_artifacts(summary["run_id"])}
    assert {"params.yaml", "metrics.json", "benchmark.md", "figures"} <= artifacts
    champion = client.get_model_version_by_alias(params.mlflow.registered_model, "champion")
    assert champion.run_id == summary["run_id"]


def test_a_missing_input_is_named_and_nothing_is_logged(small_pipeline, tmp_path, monkeypatch):
    params, run = small_pipeline["params"], small_pipeline["run"]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataValidationError, match=r"no_metrics\.json: not found"):
        register.run(params, **_options(run, tmp_path, metrics=str(tmp_path / "no_metrics.json")))
    with pytest.raises(DataValidationError, match=r"no_leads\.parquet: file not found"):
        register.run(params, **_options(run, tmp_path, raw=str(tmp_path / "no_leads.parquet")))
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no store, no summary
