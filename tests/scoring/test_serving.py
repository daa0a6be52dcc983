"""A registered model: `leadscore score --model models:/...` and `mlflow models serve` give batch scoring's values.

The model is registered through the real `register` path (tracking.log_pipeline_run) into a temp
SQLite MLflow store; the server is a real `mlflow models serve` on a loopback port. Bad requests get
HTTP 400 with one line naming the column (no stack trace); text/csv requests are scored like JSON.
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
    from leadscore.models.persistence import save_booster, save_display, save_scorer

    d = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{d / 'mlflow.db'}"
    scorer = loaded_model.scorer
    paths = {
        "scorer": str(d / "lead_scorer.json"),
        "display": str(d / "display.json"),
        "fit": str(d / "fit_model.txt"),
        "intent": str(d / "intent_model.txt"),
    }
    save_scorer(scorer, paths["scorer"])
    save_display(scorer.display, paths["display"])
    save_booster(scorer.fit_model.booster_, paths["fit"])
    save_booster(scorer.intent_model.booster_, paths["intent"])
    # log_pipeline_run restores MLflow's URIs and os.environ itself (tracking.using_store); only
    # the env var that points it at this store is set, and patch.dict takes it back.
    with mock.patch.dict(os.environ, {"MLFLOW_TRACKING_URI": uri}):
        summary = tracking.log_pipeline_run(
            params,
            params_path=str(REPO_ROOT / "params.yaml"),
            metrics={"test": {"conversion": {"log_loss": 0.3}}},
            scorer_path=paths["scorer"],
            display_path=paths["display"],
            fit_model_path=paths["fit"],
            intent_model_path=paths["intent"],
            input_example=sample_leads,
            data_fingerprint="test-fixture",
            artifacts=[],
            # The register stage decides on the same leads first; here the first model is promoted.
            promotion={"decision": "promoted", "reason": "first model (test fixture)", "rows_compared": 0},
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


@pytest.fixture(scope="module")
def server(registry):
    """A real `mlflow models serve` of models:/leadscore@champion on a loopback port; yields its base URL."""
    uri, _ = registry
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    proc = subprocess.Popen(
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
            if proc.poll() is not None or time.monotonic() > deadline:
                reason = proc.stderr.read()[-2000:] if proc.poll() is not None else "timeout"
                pytest.fail(f"mlflow models serve did not come up: {reason}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def post(base: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{base}/invocations", data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def split_json(frame: pd.DataFrame) -> bytes:
    payload = {
        "dataframe_split": {
            "columns": list(frame.columns),
            "data": [[_plain(v) for v in row] for row in frame.itertuples(index=False)],
        }
    }
    return json.dumps(payload).encode()


def assert_same_as_batch(answer: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(answer.columns) == list(expected.columns)
    for column in expected.columns:
        if pd.api.types.is_float_dtype(expected[column]):
            np.testing.assert_allclose(answer[column].astype(float), expected[column], rtol=1e-12, err_msg=column)
        else:
            assert answer[column].tolist() == expected[column].tolist(), column


def test_mlflow_serve_answers_like_batch_scoring(server, loaded_model, sample_leads):
    two = sample_leads[loaded_model.scorer.input_columns].iloc[[3, 7]].reset_index(drop=True)
    status, body = post(server, split_json(two), "application/json")
    assert status == 200, body
    answer = pd.DataFrame(json.loads(body)["predictions"])
    expected = loaded_model.scorer.predict(two, explain=True)  # served output carries the reasons
    assert_same_as_batch(answer, expected)
    # The labels and actions of display.json, not the defaults.
    assert set(answer["recommended_action"]) <= set(loaded_model.scorer.display.actions.values())


def test_mlflow_serve_accepts_text_csv(server, loaded_model, sample_leads):
    rows = sample_leads[loaded_model.scorer.input_columns].iloc[10:15].reset_index(drop=True)
    status, body = post(server, rows.to_csv(index=False).encode(), "text/csv")
    assert status == 200, body
    expected = loaded_model.scorer.predict(rows, explain=True)
    assert_same_as_batch(pd.DataFrame(json.loads(body)["predictions"]), expected)


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("missing_column", "employees"),
        ("wrong_type", "web_visits_30d"),
        ("null_id", "lead_id"),
        ("duplicate_ids", "lead_id"),
        ("numbers_in_text_column", "industry"),
    ],
)
def test_mlflow_serve_bad_request_is_one_line_400(server, loaded_model, sample_leads, case, named):
    rows = sample_leads[loaded_model.scorer.input_columns].iloc[20:23].reset_index(drop=True).astype(object)
    if case == "missing_column":
        rows = rows.drop(columns="employees")
    elif case == "wrong_type":
        rows["web_visits_30d"] = "many"
    elif case == "null_id":
        rows.loc[1, "lead_id"] = None
    elif case == "duplicate_ids":
        rows.loc[2, "lead_id"] = rows.loc[0, "lead_id"]
    else:
        rows["industry"] = [101, 202, 303]
    for content_type, body in (("application/json", split_json(rows)), ("text/csv", rows.to_csv(index=False).encode())):
        status, answer = post(server, body, content_type)
        assert status == 400, (content_type, answer)
        text = answer.decode()
        assert "\n" not in text.strip() and "\n" not in json.loads(text)["message"]
        error = json.loads(text)
        assert set(error) == {"error_code", "message"}, error  # no stack_trace
        assert error["error_code"] == "INVALID_PARAMETER_VALUE"
        assert named in error["message"] and "Traceback" not in text, error["message"]
