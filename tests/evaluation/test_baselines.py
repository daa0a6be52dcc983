"""Baselines: points scores, the all-features configuration, seeded random scores.

That the learned baselines never see test labels is tested with their stage (tests/pipeline/test_baselines.py).
"""

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
