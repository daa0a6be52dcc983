"""Stages ``train_fit`` / ``train_intent``: one LightGBM model per group, fitted on the train split only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.errors import DataValidationError, LeadscoreError
from leadscore.models.persistence import load_booster
from leadscore.pipeline import train

SPLITS = ["train"] * 300 + ["early_stopping"] * 100 + ["calibration"] * 100 + ["test"] * 100 + ["open"] * 50


def _feature_table(seed: int = 0) -> pd.DataFrame:
    """A feature table as featurize writes it: id, split, label (NaN for open leads), features."""
    rng = np.random.default_rng(seed)
    n = len(SPLITS)
    visits = rng.poisson(3, n).astype(float)
    label = (rng.random(n) < 1 / (1 + np.exp(-(visits - 3)))).astype(float)
    split = np.array(SPLITS)
    label[split == "open"] = np.nan
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "split": split,
            "label": label,
            "visits": visits,
            "noise": rng.normal(size=n),
        }
    )


@pytest.fixture
def tiny(params):
    budget = {"n_estimators": 60, "learning_rate": 0.2, "num_leaves": 4, "min_child_samples": 10}
    t = params.train
    return params.model_copy(
        update={
            "train": t.model_copy(
                update={
                    "early_stopping_rounds": 10,
                    "fit": t.fit.model_copy(update=budget),
                    "intent": t.intent.model_copy(update=budget),
                }
            )
        }
    )


def _write(table: pd.DataFrame, path) -> str:
    table.to_parquet(path, index=False)
    return str(path)


def test_the_model_is_written_and_learns_from_the_train_split(tiny, tmp_path):
    out = tmp_path / "fit_model.txt"
    train.run(tiny, group="fit", features=_write(_feature_table(), tmp_path / "fit.parquet"), model_out=str(out))
    model = load_booster(out)  # LightGBM's text format: data, not a pickle
    p = model.predict(pd.DataFrame({"visits": [0.0, 9.0], "noise": [0.0, 0.0]}))
    assert p[1] > p[0]


def test_labels_outside_the_training_splits_are_never_read(tiny, tmp_path):
    table = _feature_table()
    later = table["split"].isin(["calibration", "test"]).to_numpy()
    flipped = table.assign(label=np.where(later, 1 - table["label"], table["label"]))
    models = []
    for name, t in (("original", table), ("flipped", flipped)):
        out = tmp_path / f"{name}.txt"
        train.run(tiny, group="fit", features=_write(t, tmp_path / f"{name}.parquet"), model_out=str(out))
        models.append(load_booster(out))
    X = table[["visits", "noise"]]
    np.testing.assert_array_equal(models[0].predict(X), models[1].predict(X))


def test_an_unknown_group_is_refused(tiny, tmp_path):
    with pytest.raises(LeadscoreError, match=r"--group must be 'fit' or 'intent', got 'activity'"):
        train.run(tiny, group="activity", features=str(tmp_path / "x.parquet"), model_out=str(tmp_path / "m.txt"))


def test_a_monotone_feature_missing_from_the_table_is_named(tiny, tmp_path):
    """params train.intent.monotone_increasing lists the synthetic CRM's engagement columns."""
    out = tmp_path / "intent_model.txt"
    with pytest.raises(DataValidationError, match=r"monotone_increasing lists \[.*'web_visits_30d'.*not features"):
        train.run(
            tiny, group="intent", features=_write(_feature_table(), tmp_path / "intent.parquet"), model_out=str(out)
        )
    assert not out.exists()


def test_a_training_split_without_wins_is_refused_and_nothing_written(tiny, tmp_path):
    table = _feature_table()
    no_wins = table.assign(label=np.where(table["split"] == "train", 0.0, table["label"]))
    out = tmp_path / "fit_model.txt"
    with pytest.raises(DataValidationError, match="the training split has only one outcome class"):
        train.run(tiny, group="fit", features=_write(no_wins, tmp_path / "fit.parquet"), model_out=str(out))
    assert not out.exists()
