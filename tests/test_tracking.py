"""tracking.using_store: points MLflow at a store for a block and leaves the process as it was."""

from __future__ import annotations

import os
from unittest import mock


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
