"""A registered model: `leadscore score --model models:/...` and `mlflow models serve` give batch scoring's values.

The model is registered through the real `register` path (tracking.log_pipeline_run) into a temp
SQLite MLflow store; the server is a real `mlflow models serve` on a loopback port.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import joblib
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def registry(tmp_path_factory, params, loaded_model, sample_leads):
    """A temp MLflow store holding `leadscore` v1 as @champion; yields its tracking URI."""
    from leadscore import tracking

    d = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{d / 'mlflow.db'}"
    scorer = loaded_model.scorer
    paths = {name: str(d / f"{name}.joblib") for name in ("scorer", "fit", "intent")}
    joblib.dump(scorer, paths["scorer"])
    # The raw LightGBM models sit inside CalibratedClassifierCV(FrozenEstimator(model)).
    joblib.dump(scorer.fit_model.calibrated_classifiers_[0].estimator.estimator, paths["fit"])
    joblib.dump(scorer.intent_model.calibrated_classifiers_[0].estimator.estimator, paths["intent"])
    # log_pipeline_run restores MLflow's URIs and os.environ itself (tracking.using_store); only
    # the env var that points it at this store is set, and patch.dict takes it back.
    with mock.patch.dict(os.environ, {"MLFLOW_TRACKING_URI": uri}):
        summary = tracking.log_pipeline_run(
            params,
            params_path=str(REPO_ROOT / "params.yaml"),
            metrics={"test": {"conversion": {"log_loss": 0.3}}},
            scorer_path=paths["scorer"],
            fit_model_path=paths["fit"],
            intent_model_path=paths["intent"],
            input_example=sample_leads,
            data_fingerprint="test-fixture",
            artifacts=[],
        )
    assert "champion" in summary["aliases"]
    return uri, summary["version"]


def test_score_cli_with_registered_model(tmp_path, monkeypatch, registry, loaded_model, sample_leads):
    from leadscore.cli import app

    uri, version = registry
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    leads = tmp_path / "leads.parquet"
    sample_leads.iloc[:500].to_parquet(leads, index=False)
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--no-progress",
            "--model",
            "models:/leadscore@champion",
            "--input",
            str(leads),
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    got = pd.read_parquet(out)
    assert (got["model_name"] == "leadscore").all() and (got["model_version"] == version).all()
    expected = loaded_model.scorer.predict(sample_leads.iloc[:500])
    np.testing.assert_array_equal(got["conversion_probability"], expected["conversion_probability"])
    result = CliRunner().invoke(
        app,
        ["score", "--no-progress", "--model", "models:/leadscore@nobody", "--input", str(leads), "--output", str(out)],
    )
    assert result.exit_code == 2 and "could not load the model" in result.output
    # Loading must not leak the store into the environment that later subprocesses inherit.
    assert "MLFLOW_REGISTRY_URI" not in os.environ


def _plain(value):
    """A JSON-ready Python value (NaN/NA -> null)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def test_mlflow_serve_answers_like_batch_scoring(registry, loaded_model, sample_leads):
    uri, _ = registry
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    server = subprocess.Popen(
        [
            str(Path(bin_dir) / "mlflow"),
            "models",
            "serve",
            "-m",
            "models:/leadscore@champion",
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"mlflow models serve did not come up: {server.stderr.read()[-2000:] if server.poll() is not None else 'timeout'}"
                )
            time.sleep(0.5)

        two = sample_leads[loaded_model.scorer.input_columns].iloc[[3, 7]].reset_index(drop=True)
        payload = {
            "dataframe_split": {
                "columns": list(two.columns),
                "data": [[_plain(v) for v in row] for row in two.itertuples(index=False)],
            }
        }
        request = urllib.request.Request(
            f"{base}/invocations", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as resp:
            answer = pd.DataFrame(json.loads(resp.read())["predictions"])
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    expected = loaded_model.scorer.predict(two, explain=True)  # served output carries the reasons
    assert list(answer.columns) == list(expected.columns)
    for column in expected.columns:
        if pd.api.types.is_float_dtype(expected[column]):
            np.testing.assert_allclose(answer[column].astype(float), expected[column], rtol=1e-12, err_msg=column)
        else:
            assert answer[column].tolist() == expected[column].tolist(), column
