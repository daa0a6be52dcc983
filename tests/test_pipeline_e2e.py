"""End to end: a real `dvc repro` in a temporary copy of the project, a real MLflow sqlite store.

The whole pipeline runs once on the default synthetic CRM (session fixture ``pipeline`` in conftest),
then these tests check the outputs, that a second `dvc repro` reruns nothing, the MLflow run and aliases, and that the
registered pyfunc model returns exactly what the predict stage wrote, and notebook 02 runs on the project.
Every test of that project lives here (tests/conftest.py enforces it): one worker builds and edits it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from support import N_LEADS, execute_notebook, project_path, run_command

from leadscore.pipeline.paths import stage_commands

pytestmark = pytest.mark.slow


def test_metrics_have_the_documented_shape(pipeline):
    metrics = json.loads((project_path(pipeline["root"], "evaluate", "metrics_out")).read_text())
    for scorer in ("fit", "intent", "conversion", "bant", "oracle"):
        assert set(metrics["test"][scorer]) >= {"auc", "pr_auc", "log_loss", "brier", "ece"}
    assert set(metrics["capacity"]) >= {"bant_volume", "bant_conversions", "model_conversions_at_bant_volume", "ratio"}
    assert set(metrics["quadrants"]) == {
        "high_fit_high_intent",
        "high_fit_low_intent",
        "low_fit_high_intent",
        "low_fit_low_intent",
    }
    assert sum(q["n"] for q in metrics["quadrants"].values()) == metrics["data"]["test_leads"]
    for scorer in ("lightgbm_all", "logistic", "bant_points", "bant_2of4", "bant_4of4", "random"):
        assert scorer in metrics["test"] and scorer in metrics["bootstrap"]["intervals"]
    assert (pipeline["root"] / metrics["report"]["html"]).is_file()


def test_benchmark_page_and_summary_say_where_it_is(pipeline):
    root = pipeline["root"]
    html = (project_path(root, "evaluate", "report_html")).read_text()
    assert html.count("data:image/png;base64,") == 6  # 4 benchmark charts + 2 importance charts
    summary = run_command(
        [sys.executable, "-m", "leadscore", "summary", str(project_path(root, "evaluate", "metrics_out"))],
        root,
        pipeline["env"],
    )
    assert (project_path(root, "evaluate", "report_html")).resolve().as_uri() in summary.stdout.replace("\n", "")


def test_baselines_and_fewer_calls_on_default_data(pipeline):
    """The benchmark's own floors: the model beats the logistic baseline and BANT, with fewer calls."""
    m = json.loads((project_path(pipeline["root"], "evaluate", "metrics_out")).read_text())
    assert m["test"]["conversion"]["auc"] > m["test"]["random"]["auc"] + 0.3
    assert m["test"]["conversion"]["auc"] >= m["test"]["logistic"]["auc"]
    assert abs(m["test"]["conversion"]["auc"] - m["test"]["lightgbm_all"]["auc"]) < 0.01
    assert m["at_bant_volume"]["scorers"]["conversion"]["fewer_calls"] >= 0.3


def test_dvc_plots_and_metrics_diff_run(pipeline):
    root, env = pipeline["root"], pipeline["env"]
    run_command(["dvc", "plots", "show", "-o", str(root / "dvc_plots")], root, env)
    assert (root / "dvc_plots/index.html").is_file()
    # metrics diff compares revisions: commit this run's lock file, then diff the workspace against it.
    git = ["git", "-c", "user.name=leadscore-test", "-c", "user.email=test@localhost"]
    metrics = project_path(root, "evaluate", "metrics_out").relative_to(root)
    run_command([*git, "add", "dvc.yaml", "dvc.lock", "params.yaml", str(metrics)], root, env)
    run_command([*git, "commit", "-q", "-m", "experiment"], root, env)
    diff = run_command(["dvc", "metrics", "diff", "--all", "HEAD"], root, env)
    assert "test.conversion.auc" in diff.stdout, diff.stdout


def test_quality_floor_on_default_data(pipeline):
    """On the test split: within 0.01 AUC of the ceiling, calibrated, and 1.3x BANT's wins."""
    m = json.loads((project_path(pipeline["root"], "evaluate", "metrics_out")).read_text())
    assert m["test"]["conversion"]["auc"] >= m["test"]["oracle"]["auc"] - 0.01
    assert m["test"]["conversion"]["auc"] > m["test"]["bant"]["auc"] + 0.05
    assert m["test"]["conversion"]["ece"] <= 0.02
    assert m["capacity"]["ratio"] >= 1.3


def test_backtest_floors_every_month_on_default_data(pipeline):
    """Issue 11: every backtest month within 0.015 AUC of the oracle and at least 1.4x BANT's wins."""
    report = json.loads(project_path(pipeline["root"], "backtest", "out").read_text())
    assert len(report["periods"]) == 6
    for period in report["periods"]:
        scorers = period["scorers"]
        assert scorers["conversion"]["auc"] >= scorers["oracle"]["auc"] - 0.015, period["label"]
        assert period["capacity_ratio"] >= 1.4, (period["label"], period["capacity_ratio"])


def test_second_repro_reruns_nothing(pipeline):
    second = run_command(["dvc", "repro"], pipeline["root"], pipeline["env"])
    assert "Running stage" not in second.stdout, second.stdout
    status = run_command(["dvc", "status"], pipeline["root"], pipeline["env"])
    assert "up to date" in status.stdout.lower(), status.stdout


@pytest.mark.parametrize(
    ("module", "stages"),
    [
        # where the leak policy and the feature audit live: featurize, and everything downstream of it
        ("features/leakage.py", {"featurize"}),
        # scorer code that only runs when a stage loads the scorer
        ("models/bant.py", {"calibrate", "evaluate", "predict"}),
        ("evaluation/report.py", {"evaluate"}),
        ("pipeline/train.py", {"train_fit", "train_intent"}),
    ],
)
def test_editing_code_a_stage_runs_makes_dvc_status_name_that_stage(pipeline, module, stages):
    root, env = pipeline["root"], pipeline["env"]
    path = root / "src" / "leadscore" / module
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n# an edit\n")
        status = run_command(["dvc", "status", "--json"], root, env)
        changed = set(json.loads(status.stdout))
        assert stages <= changed, f"editing {module}: dvc status names {sorted(changed)}"
        assert "generate" not in changed
    finally:
        path.write_bytes(original)
    assert json.loads(run_command(["dvc", "status", "--json"], root, env).stdout) == {}


def test_predictions_cover_every_open_lead(pipeline):
    root = pipeline["root"]
    scored = pd.read_parquet(project_path(root, "predict", "out"))
    raw = pd.read_parquet(project_path(root, "generate", "leads_out"))
    assert set(scored["lead_id"]) == set(raw.loc[raw["status"] == "open", "lead_id"])
    assert scored["rank"].tolist() == list(range(1, len(scored) + 1))
    assert scored["conversion_probability"].is_monotonic_decreasing
    pd.testing.assert_frame_equal(
        pd.read_csv(root / stage_commands(root / "dvc.yaml")["predict"].options["out"][1])[["lead_id", "rank"]],
        scored[["lead_id", "rank"]],
    )


def test_mlflow_run_and_aliases(pipeline):
    import mlflow
    from mlflow.tracking import MlflowClient

    run_info = json.loads((project_path(pipeline["root"], "register", "run_out")).read_text())
    client = MlflowClient(tracking_uri=f"sqlite:///{pipeline['store']}", registry_uri=f"sqlite:///{pipeline['store']}")
    run = client.get_run(run_info["run_id"])
    assert run.data.metrics["test_conversion_auc"] > 0.7
    assert run.data.params["data.synthetic.n_leads"] == str(N_LEADS)
    assert len(run.data.tags["data_fingerprint"]) == 64
    assert str(client.get_model_version_by_alias("leadscore", "champion").version) == run_info["version"]
    assert str(client.get_model_version_by_alias("leadscore", "challenger").version) == run_info["version"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"params.yaml", "metrics.json", "benchmark.html", "benchmark.md", "figures"} <= artifacts
    figures = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "figures")}
    assert {"gains.png", "reliability.png", "quadrant_map.png", "capacity.png"} <= figures
    del mlflow


def test_champion_pyfunc_equals_predict_stage(pipeline):
    import mlflow

    from leadscore import tracking

    root = pipeline["root"]
    # using_store restores os.environ afterwards: mlflow.set_*_uri alone would leak the store into
    # every later test (and subprocess) through MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI.
    with tracking.using_store(f"sqlite:///{pipeline['store']}"):
        model = mlflow.pyfunc.load_model("models:/leadscore@champion")
    raw = pd.read_parquet(project_path(root, "generate", "leads_out"))
    open_leads = raw[raw["status"] == "open"]
    served = model.predict(open_leads).sort_values("rank", kind="stable").reset_index(drop=True)
    stage = pd.read_parquet(project_path(root, "predict", "out"))
    pd.testing.assert_frame_equal(served, stage)


def test_champion_moves_only_when_the_promotion_decision_says_so(pipeline):
    from leadscore import tracking
    from leadscore.config import load_params

    root = pipeline["root"]
    decision = json.loads(project_path(root, "register", "promotion_out").read_text())
    assert decision["decision"] == "promoted" and "first model" in decision["reason"]
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{pipeline['store']}"
    try:
        params = load_params(root / "params.yaml")
        metrics = json.loads((project_path(root, "evaluate", "metrics_out")).read_text())
        common = {
            "params_path": str(root / "params.yaml"),
            "metrics": metrics,
            "scorer_path": str(project_path(root, "calibrate", "scorer_out")),
            "display_path": str(project_path(root, "predict", "display_out")),
            "fit_model_path": str(project_path(root, "train_fit", "model_out")),
            "intent_model_path": str(project_path(root, "train_intent", "model_out")),
            "input_example": pd.read_parquet(project_path(root, "generate", "leads_out")).head(5),
            "data_fingerprint": "0" * 64,
        }
        result = tracking.log_pipeline_run(params, promotion={"decision": "kept", "reason": "kept: test"}, **common)
        assert result["aliases"] == ["challenger"]
        result = tracking.log_pipeline_run(params, promotion={"decision": "promoted", "reason": "test"}, **common)
        assert result["aliases"] == ["challenger", "champion"]
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI", None)


def test_pyfunc_accepts_nulls_and_ints_in_numeric_columns(pipeline):
    """A served request may carry a count as ints or as floats with nulls; both must score."""
    import mlflow

    from leadscore import tracking

    with tracking.using_store(f"sqlite:///{pipeline['store']}"):
        model = mlflow.pyfunc.load_model("models:/leadscore@champion")
    raw = pd.read_parquet(project_path(pipeline["root"], "generate", "leads_out"))
    two = raw[raw["status"] == "open"].head(2).reset_index(drop=True)
    as_ints = model.predict(two.assign(web_visits_30d=[3, 5]))
    with_null = model.predict(two.assign(web_visits_30d=[None, 5.0]))
    assert as_ints["conversion_probability"].between(0, 1).all()
    assert with_null["conversion_probability"].between(0, 1).all()


def test_model_vs_bant_notebook_runs_on_the_pipeline_project(pipeline, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{pipeline['store']}")
    nb = execute_notebook(
        "02-model-vs-bant.ipynb",
        f'PROJECT_DIR = "{pipeline["root"]}"\nMODEL_URI = "models:/leadscore@champion"\nN_EXAMPLES = 2',
    )
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "model says fast-track, BANT says no" in text
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 2
