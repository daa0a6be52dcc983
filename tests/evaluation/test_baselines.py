"""Baselines: points scores, and learned baselines that never see test labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import LightGBMConfig
from leadscore.evaluation.baselines import all_features_lightgbm_config, bant_points, random_scores


def test_points_add_the_weights_of_the_criteria_passed():
    criteria = pd.DataFrame({"budget": [True, False, True], "need": [True, True, False]})
    assert bant_points(criteria, {"budget": 30, "need": 20}).tolist() == [50.0, 20.0, 30.0]
    with pytest.raises(KeyError, match="timeline"):
        bant_points(criteria, {"timeline": 10})


def test_all_features_model_keeps_both_groups_monotone_constraints():
    fit = LightGBMConfig(monotone_increasing=("uses_crm",))
    intent = LightGBMConfig(monotone_increasing=("demo_requested", "uses_crm"))
    assert all_features_lightgbm_config(fit, intent).monotone_increasing == ("uses_crm", "demo_requested")


def test_random_scores_are_seeded():
    assert np.array_equal(random_scores(5, seed=1), random_scores(5, seed=1))
    assert not np.array_equal(random_scores(5, seed=1), random_scores(5, seed=2))


def test_learned_baselines_never_fit_on_test_labels(small_pipeline, tmp_path):
    """Scrambling (or flipping) the test split's labels leaves the baselines' test scores unchanged."""
    from leadscore.pipeline import baselines

    params, run = small_pipeline["params"], small_pipeline["run"]
    fit_path, intent_path = run.path("featurize", "fit_out"), run.path("featurize", "intent_out")
    fit = pd.read_parquet(fit_path)
    test = (fit["split"] == "test").to_numpy()

    def scores(labels: np.ndarray, name: str) -> pd.DataFrame:
        changed = fit.copy()
        changed.loc[test, "label"] = labels
        changed.to_parquet(tmp_path / f"{name}.parquet")
        out = tmp_path / f"{name}_scores.parquet"
        baselines.run(
            params,
            fit_features=str(tmp_path / f"{name}.parquet"),
            intent_features=str(intent_path),
            scores_out=str(out),
        )
        return pd.read_parquet(out)

    truth = fit.loc[test, "label"].to_numpy()
    before = scores(truth, "original")
    scrambled = scores(np.random.default_rng(0).permutation(truth), "scrambled")
    flipped = scores(1.0 - truth, "flipped")
    assert len(before) == test.sum()
    pd.testing.assert_frame_equal(before, scrambled)
    pd.testing.assert_frame_equal(before, flipped)
