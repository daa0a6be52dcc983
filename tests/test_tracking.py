"""tracking.using_store: points MLflow at a store for a block and leaves the process as it was."""

from __future__ import annotations

import os
from unittest import mock

import pytest


def test_using_store_restores_the_environment(tmp_path):
    import mlflow

    from leadscore import tracking

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with mock.patch.dict(os.environ, {}, clear=False):
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        os.environ["MLFLOW_REGISTRY_URI"] = "sqlite:///elsewhere.db"
        with tracking.using_store(uri):
            assert mlflow.get_tracking_uri() == uri
            assert mlflow.get_registry_uri() == "sqlite:///elsewhere.db"  # a user's registry is kept
        # mlflow.set_*_uri exported these; they must not leak into later subprocesses.
        assert "MLFLOW_TRACKING_URI" not in os.environ
        assert os.environ["MLFLOW_REGISTRY_URI"] == "sqlite:///elsewhere.db"


def test_store_uri_prefers_the_environment(params, monkeypatch):
    from leadscore import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///from-env.db")
    assert tracking.store_uri(params) == "sqlite:///from-env.db"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert tracking.store_uri(params).endswith("/mlflow.db")


@pytest.mark.slow  # creates a real MLflow registry (schema migrations)
def test_promote_and_rollback_on_an_empty_registry_say_why_in_one_line(tmp_path, monkeypatch):
    from support import REPO_ROOT
    from typer.testing import CliRunner

    from leadscore.cli import app

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    params = str(REPO_ROOT / "params.yaml")
    result = CliRunner().invoke(app, ["rollback", "--params", params])
    assert result.exit_code == 2
    assert "has no @champion to roll back" in result.output
    result = CliRunner().invoke(app, ["promote", "7", "--params", params])
    assert result.exit_code == 2
    assert "has no version '7'" in result.output


def test_default_store_climbs_out_of_a_dvc_experiment_copy(tmp_path):
    """`dvc exp run --temp` runs stages in .dvc/tmp/exps/<name>: runs must land in the real repo's store."""
    from leadscore import tracking

    copy = tmp_path / ".dvc" / "tmp" / "exps" / "tmpabc123"
    assert tracking.default_tracking_uri(copy) == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert tracking.default_tracking_uri(tmp_path / "repo") == f"sqlite:///{tmp_path.resolve() / 'repo' / 'mlflow.db'}"


def test_only_numeric_metrics_are_logged_with_flat_names():
    from leadscore import tracking

    metrics = {"test": {"conversion": {"auc": 0.8, "ece": None}}, "split": {"method": "time", "test": 20}, "ok": True}
    assert tracking._metric_items(metrics) == {"test_conversion_auc": 0.8, "split_test": 20.0}


def test_the_served_model_pins_exactly_the_installed_versions():
    from importlib import metadata

    from leadscore import tracking

    pins = dict(line.split("==") for line in tracking.pip_requirements())
    assert pins["lightgbm"] == metadata.version("lightgbm") and pins["scikit-learn"] == metadata.version("scikit-learn")


def test_safe_params_sanitises_keys_mlflow_refuses(params):
    from leadscore import tracking

    odd = params.model_copy(
        update={
            "features": params.features.model_copy(
                update={"category_aliases": {"industry": {"retail & e-commerce": "retail"}}}
            ),
            "explain": params.explain.model_copy(update={"labels": {"Sessions (90d)": "Sessions"}}),
        }
    )
    safe = tracking.safe_params(odd)
    assert safe["features.category_aliases.industry.retail _ e-commerce"] == "retail"
    assert safe["explain.labels.Sessions _90d_"] == "Sessions"
    assert all(tracking._UNSAFE_KEY.search(k) is None and len(v) <= 6000 for k, v in safe.items())


@pytest.mark.slow  # logs and registers a model in a real MLflow store
def test_register_tags_the_run_and_the_model_version_with_the_kept_leak(leaky_run, tmp_path, monkeypatch, caplog):
    """The leak run registers (no MLflow traceback on "&" or parentheses) and says what it kept. Its
    input example is the most complete leads, not the open ones (whose rep_note is always blank)."""
    import yaml
    from mlflow.tracking import MlflowClient

    from leadscore.pipeline import register

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)  # the registry lives in the same store
    run, small = leaky_run["run"], leaky_run["params"]
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(small.model_dump(mode="json", by_alias=True)))
    caplog.set_level("WARNING")
    summary = register.run(
        small,
        params_path=str(params_file),
        raw=str(run.path("generate", "leads_out")),
        features=str(run.path("featurize", "fit_out")),
        scorer=str(run.path("calibrate", "scorer_out")),
        fit_model=str(run.path("train_fit", "model_out")),
        intent_model=str(run.path("train_intent", "model_out")),
        metrics=str(run.path("evaluate", "metrics_out")),
        run_out=str(tmp_path / "run.json"),
    )
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    logged = client.get_run(summary["run_id"])
    assert logged.data.tags["suspected_leaks"] == "rep_note (AUC 1.000)"
    assert logged.data.params["features.category_aliases.industry.retail _ e-commerce"] == "retail"
    version = client.get_model_version(summary["registered_model"], summary["version"])
    assert version.tags["suspected_leaks"] == "rep_note (AUC 1.000)"
    assert "params.yaml" in [a.path for a in client.list_artifacts(summary["run_id"])]
    assert "entirely missing" not in caplog.text


def _tuning_report(group: str, n: int) -> dict:
    trials = [
        {
            "number": k,
            "log_loss": 0.5 - 0.01 * k,
            "params": {"num_leaves": 4 + k, "learning_rate": 0.1},
            "fold_log_losses": [0.5 - 0.01 * k, 0.52 - 0.01 * k],
            "fold_trees": [10 + k, 12 + k],
            "seconds": 0.1,
        }
        for k in range(n)
    ]
    return {
        "group": group,
        "enabled": True,
        "n_trials_completed": n,
        "seconds": 1.5,
        "best_trial": n - 1,
        "best_log_loss": trials[-1]["log_loss"],
        "configured_log_loss": trials[0]["log_loss"],
        "best_params": trials[-1]["params"],
        "trials": trials,
    }


@pytest.mark.slow  # a fresh sqlite store migrates its schema (~10 s)
def test_tuning_trials_are_child_runs_of_the_pipeline_run(params, tmp_path, monkeypatch):
    """A real sqlite store: one parent run, one nested run per trial, the best params on the parent."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from leadscore import tracking
    from leadscore.errors import LeadscoreError

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    with tracking.using_store(store):
        mlflow.set_experiment(params.mlflow.experiment)
        with mlflow.start_run() as run:
            mlflow.log_param("train.fit.num_leaves", 15)
    off = {"group": "intent", "enabled": False, "params": {}}
    children = tracking.log_tuning(params, parent_run_id=run.info.run_id, reports=[_tuning_report("fit", 3), off])
    assert set(children) == {"fit"} and len(children["fit"]) == 3
    client = MlflowClient(tracking_uri=store)
    parent = client.get_run(run.info.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.params["tuned.fit.num_leaves"] == "6"
    assert parent.data.metrics["tuning_fit_best_log_loss"] == pytest.approx(0.48)
    found = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert sorted(r.info.run_id for r in found) == sorted(children["fit"])
    best = [r for r in found if r.data.tags.get("leadscore.tuning.best") == "true"]
    assert len(best) == 1 and best[0].data.params["num_leaves"] == "6"
    assert best[0].data.metrics["fold_2_log_loss"] == pytest.approx(0.50)
    assert best[0].info.run_name == "tune fit #2"
    with pytest.raises(LeadscoreError, match=r"no MLflow run 'nope' to log the tuning trials under"):
        tracking.log_tuning(params, parent_run_id="nope", reports=[_tuning_report("fit", 1)])
