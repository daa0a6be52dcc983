"""dvc.yaml tells the whole story: stage names, and the truth file reaching only evaluate."""

from __future__ import annotations

import yaml
from support import REPO_ROOT

STAGES = (
    "generate",
    "featurize",
    "train_fit",
    "train_intent",
    "baselines",
    "calibrate",
    "evaluate",
    "predict",
    "register",
    "backtest",
)


def _stages() -> dict:
    return yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]


def test_pipeline_has_the_documented_stages():
    assert tuple(_stages()) == STAGES


def test_truth_file_is_read_only_by_evaluate_and_backtest():
    # Both only score with it (the oracle), never train on it.
    readers = [name for name, stage in _stages().items() if any("truth" in d for d in stage.get("deps", []))]
    assert readers == ["evaluate", "backtest"]
    readers = ("generate", "evaluate", "backtest")
    assert all("truth" not in stage["cmd"] for name, stage in _stages().items() if name not in readers)


def test_training_stages_never_see_calibration_or_test_metrics():
    # The leak audit is the one report they may read: it is measured on the train split only.
    for name in ("train_fit", "train_intent", "baselines", "calibrate"):
        deps = _stages()[name].get("deps", [])
        assert not any(d.startswith("reports/") and d != "reports/feature_audit.json" for d in deps), name


def test_model_files_are_data_and_display_text_is_not_a_model_input():
    """No stage writes or reads a pickle; labels and actions are params of predict, not of calibrate."""
    stages = _stages()
    text = (REPO_ROOT / "dvc.yaml").read_text()
    assert ".joblib" not in text and ".pkl" not in text
    assert stages["calibrate"]["outs"] == ["models/lead_scorer.json"]
    assert not {"explain", "explain.labels", "quadrants", "quadrants.actions"} & set(stages["calibrate"]["params"])
    assert {"explain.labels", "quadrants.actions"} <= set(stages["predict"]["params"])
    assert "models/display.json" in stages["predict"]["outs"] and "models/display.json" in stages["register"]["deps"]
