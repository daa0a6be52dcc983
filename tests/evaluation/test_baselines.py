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


def test_learned_baselines_never_fit_on_test_labels(small_pipeline):
    """Scrambling (or erasing) the test split's labels leaves the baselines' test scores unchanged."""
    from leadscore import stages

    params, paths = small_pipeline["params"], small_pipeline["paths"]
    fit, intent = pd.read_parquet(paths["fit"]), pd.read_parquet(paths["intent"])
    before = stages._baseline_probabilities(params, fit, intent)
    test = (fit["split"] == "test").to_numpy()
    scrambled = fit.copy()
    scrambled.loc[test, "label"] = np.random.default_rng(0).permutation(fit.loc[test, "label"].to_numpy())
    after = stages._baseline_probabilities(params, scrambled, intent)
    erased = fit.copy()
    erased.loc[test, "label"] = 1.0 - erased.loc[test, "label"]
    flipped = stages._baseline_probabilities(params, erased, intent)
    for name in before:
        np.testing.assert_array_equal(before[name], after[name])
        np.testing.assert_array_equal(before[name], flipped[name])
        assert len(before[name]) == test.sum()
