"""Stage ``register``: one MLflow run per pipeline run, the composite model registered as @challenger,
with a real MLflow sqlite store in the test's directory.

Champion vs challenger on the same leads: the old rule compared each model's log loss on its own test
split; here a challenger that is worse on the same leads but whose own test split is easier (lower base
rate) must not be promoted.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support import REPO_ROOT, run_pipeline, small_params

from leadscore.errors import DataValidationError
from leadscore.io import sha256_file
from leadscore.pipeline import register

N_LEADS = 3_000


def _variant(params, *, seed: int, fit: list[str], intent: list[str], n_estimators: int = 60):
    small = small_params(params, n_leads=N_LEADS, n_estimators=n_estimators, learning_rate=0.15)
    synthetic = small.data.synthetic.model_copy(update={"seed": seed})
    evaluate = small.evaluate.model_copy(update={"bootstrap": small.evaluate.bootstrap.model_copy(update={"n": 20})})
    promotion = small.promotion.model_copy(update={"bootstrap": small.promotion.bootstrap.model_copy(update={"n": 20})})
    monotone = tuple(c for c in small.train.intent.monotone_increasing if c in intent)
    train = small.train.model_copy(
        update={"intent": small.train.intent.model_copy(update={"monotone_increasing": monotone})}
    )
    return small.model_copy(
        update={
            "train": train,
            "data": small.data.model_copy(update={"synthetic": synthetic}),
            "features": small.features.model_copy(
                update={"fit": tuple(fit), "intent": tuple(intent), "ratios": {}, "job_title_columns": ()}
            ),
            "evaluate": evaluate,
            "promotion": promotion,
        }
    )


def _register(params, run, workdir):
    (workdir / "params.yaml").write_text("{}\n")
    return register.run(
        params,
        params_path=str(workdir / "params.yaml"),
        raw=str(run.path("generate", "leads_out")),
        features=str(run.path("featurize", "fit_out")),
        scorer=str(run.path("calibrate", "scorer_out")),
        display=str(run.path("predict", "display_out")),
        fit_model=str(run.path("train_fit", "model_out")),
        intent_model=str(run.path("train_intent", "model_out")),
        metrics=str(run.path("evaluate", "metrics_out")),
        run_out=str(workdir / "run.json"),
        promotion_out=str(workdir / "promotion.json"),
    )


def _easier_test_split(run) -> None:
    """Turn two thirds of the wins among the most recent 20% of closed leads into losses."""
    path = run.path("generate", "leads_out")
    raw = pd.read_parquet(path)
    closed = raw[raw["status"] != "open"].sort_values(["created_at", "lead_id"])
    recent = closed.tail(len(closed) // 5)
    wins = recent.index[recent["status"] == "won"]
    flip = np.random.default_rng(0).permutation(wins)[: 2 * len(wins) // 3]
    raw.loc[flip, "status"] = "lost"
    raw.to_parquet(path)


@pytest.fixture
def store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.mark.slow  # three pipeline runs and three MLflow registrations
def test_champion_vs_challenger_on_the_same_leads_then_rollback(params, tmp_path, store):
    from mlflow.tracking import MlflowClient

    from leadscore import tracking

    # v1: a fair champion (all fit columns, a few intent columns) on month-1 data.
    medium = _variant(
        params, seed=1, fit=list(params.features.fit), intent=["lead_source", "web_visits_30d", "demo_requested"]
    )
    run1 = run_pipeline(medium, tmp_path / "one")
    first = _register(medium, run1, tmp_path / "one")
    assert first["promotion"]["decision"] == "promoted"
    assert "first model" in first["promotion"]["reason"]
    assert first["aliases"] == ["challenger", "champion"]
    champion_run_loss = json.loads(run1.path("evaluate", "metrics_out").read_text())["test"]["conversion"]["log_loss"]

    # v2: a weak model (two columns) on new data whose own test split has a lower base rate.
    weak = _variant(params, seed=2, fit=["industry"], intent=["lead_source"])
    run_pipeline(weak, tmp_path / "two", through="generate")
    run2 = run_pipeline(weak, tmp_path / "two")  # regenerated: the same data again
    _easier_test_split(run2)
    run2 = run_pipeline(weak, tmp_path / "two", start="featurize")
    metrics2 = json.loads(run2.path("evaluate", "metrics_out").read_text())
    # The old rule (own test split vs the champion run's) would have promoted it:
    assert metrics2["test"]["conversion"]["log_loss"] < champion_run_loss
    second = _register(weak, run2, tmp_path / "two")
    decision = json.loads((tmp_path / "two" / "promotion.json").read_text())
    assert decision["decision"] == "kept", decision["reason"]
    assert decision["champion_version"] == "1" and decision["challenger_version"] == "2"
    assert decision["rows_compared"] == int(
        (pd.read_parquet(run2.path("featurize", "fit_out"))["split"] == "test").sum()
    )
    assert decision["challenger"]["log_loss"] > decision["champion"]["log_loss"]
    assert f"{decision['challenger']['log_loss']:.4f}" in decision["reason"]
    assert f"{decision['champion']['log_loss']:.4f}" in decision["reason"]
    assert second["aliases"] == ["challenger"]
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    assert client.get_model_version_by_alias("leadscore", "champion").version == 1
    run_data = client.get_run(second["run_id"]).data
    assert run_data.tags["promotion.decision"] == "kept"
    assert run_data.metrics["promotion_champion_log_loss"] == pytest.approx(decision["champion"]["log_loss"])

    # v3: a good model on the next export: promoted, and the old champion is remembered.
    good = _variant(
        params, seed=2, fit=list(params.features.fit), intent=list(params.features.intent), n_estimators=200
    )
    third = _register(good, run_pipeline(good, tmp_path / "three"), tmp_path / "three")
    assert third["promotion"]["decision"] == "promoted", third["promotion"]["reason"]
    assert client.get_model_version_by_alias("leadscore", "champion").version == 3
    assert client.get_model_version_by_alias("leadscore", "previous-champion").version == 1

    # Rollback: v1 is champion again, and both versions say so.
    result = tracking.rollback(good)
    assert result == {"registered_model": "leadscore", "champion": "1", "rolled_back": "3"}
    assert client.get_model_version_by_alias("leadscore", "champion").version == 1
    assert client.get_model_version("leadscore", "3").tags["leadscore.rolled_back_at"]
    assert client.get_model_version("leadscore", "1").tags["leadscore.champion_by"] == "leadscore rollback"
    with pytest.raises(Exception, match="nothing to roll back to"):
        tracking.rollback(good)

    # By hand: promote v2 anyway; the tags name the command.
    assert tracking.promote(good, "2")["previous_champion"] == "1"
    assert client.get_model_version("leadscore", "2").tags["leadscore.champion_by"] == "leadscore promote"
    with pytest.raises(Exception, match="no version '9'"):
        tracking.promote(good, "9")


@pytest.mark.slow  # two pipeline runs and two MLflow registrations
def test_a_champion_that_cannot_score_the_new_data_leaves_the_decision_to_people(params, tmp_path, store):
    medium = _variant(
        params, seed=1, fit=list(params.features.fit), intent=["lead_source", "web_visits_30d", "demo_requested"]
    )
    run1 = run_pipeline(medium, tmp_path / "one")
    _register(medium, run1, tmp_path / "one")
    # The new export has lost a column the champion reads (and the challenger no longer uses).
    other = _variant(params, seed=2, fit=["industry", "country"], intent=list(params.features.intent))
    run2 = run_pipeline(other, tmp_path / "two", through="generate")
    raw = pd.read_parquet(run2.path("generate", "leads_out")).drop(columns=["employees"])
    raw.to_parquet(run2.path("generate", "leads_out"))
    run2 = run_pipeline(other, tmp_path / "two", start="featurize")
    result = _register(other, run2, tmp_path / "two")
    assert result["promotion"]["decision"] == "manual"
    assert "champion v1 cannot score the new data" in result["promotion"]["reason"]
    assert "employees" in result["promotion"]["reason"]
    assert result["aliases"] == ["challenger"]


def _options(run, tmp_path, **overrides) -> dict:
    options = {
        "params_path": str(REPO_ROOT / "params.yaml"),
        "raw": str(run.path("generate", "leads_out")),
        "features": str(run.path("featurize", "fit_out")),
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
    # No champion yet: promoted, judged on this run's own test leads.
    assert summary["promotion"]["decision"] == "promoted"
    assert summary["promotion"]["rows_compared"] == metrics["data"]["test_leads"]

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
    with pytest.raises(DataValidationError, match=r"no_tuning\.json: not found \(run the train stages first\)"):
        register.run(params, **_options(run, tmp_path, tuning=[str(tmp_path / "no_tuning.json")]))
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no store, no summary


@pytest.mark.slow  # MLflow logs the models as above, plus one child run per trial
def test_tuning_trials_nest_under_the_pipeline_run(small_pipeline, tmp_path, monkeypatch):
    """Issue 15: a search that ran (train.tune) is logged under the register run; one that did not, isn't."""
    from mlflow.tracking import MlflowClient

    from leadscore.pipeline import train

    params, run = small_pipeline["params"], small_pipeline["run"]
    t = params.train
    tuned = params.model_copy(
        update={"train": t.model_copy(update={"tune": t.tune.model_copy(update={"enabled": True, "n_trials": 2})})}
    )
    report = tmp_path / "tuning_fit.json"
    train.run(
        tuned,
        group="fit",
        features=str(run.path("featurize", "fit_out")),
        model_out=str(tmp_path / "fit_model.txt"),
        raw=str(run.path("generate", "leads_out")),
        tuning_out=str(report),
    )
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.chdir(tmp_path)
    off = str(run.path("train_intent", "tuning_out"))  # the pipeline's own: tuning off
    summary = register.run(params, **_options(run, tmp_path, tuning=[str(report), off]))
    assert summary["tuning_child_runs"] == {"fit": 2}
    client = MlflowClient(tracking_uri=store)
    parent = client.get_run(summary["run_id"])
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{summary['run_id']}'"
    )
    assert sorted(c.info.run_name for c in children) == ["tune fit #0", "tune fit #1"]
    assert "tuned.fit.num_leaves" in parent.data.params and "tuned.intent.num_leaves" not in parent.data.params
    assert {"tuning_fit.json", "tuning_intent.json"} <= {a.path for a in client.list_artifacts(summary["run_id"])}
