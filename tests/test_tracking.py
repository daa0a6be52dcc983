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
