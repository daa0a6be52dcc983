"""Training one LightGBM model: monotone constraints, refused one-class splits, early stopping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import LightGBMConfig
from leadscore.errors import DataValidationError
from leadscore.models.training import monotone_constraints, train_lightgbm

TINY = LightGBMConfig(n_estimators=400, learning_rate=0.3, num_leaves=4, min_child_samples=5)


def _data(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """One informative feature (visits), one pure-noise feature."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"visits": rng.poisson(3, n).astype(float), "noise": rng.normal(size=n)})
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-(X["visits"] - 3)))).astype(int))
    return X, y


def test_monotone_constraints_mark_the_increasing_features_in_column_order():
    assert monotone_constraints(["a", "b", "c"], ("c", "a")) == [1, 0, 1]
    assert monotone_constraints(["a", "b"], ()) == [0, 0]


def test_monotone_constraints_name_the_unknown_feature():
    with pytest.raises(
        DataValidationError, match=r"monotone_increasing lists \['trial_days'\].*features: \['a', 'b'\]"
    ):
        monotone_constraints(["a", "b"], ("a", "trial_days"))


@pytest.mark.parametrize("which", ["training", "early-stopping"])
def test_a_split_with_one_outcome_class_is_refused(which):
    X, y = _data(200, 0)
    one_class = pd.Series(np.zeros(len(y), dtype=int))
    y_train, y_stop = (one_class, y) if which == "training" else (y, one_class)
    with pytest.raises(DataValidationError, match=f"the {which} split has only one outcome class"):
        train_lightgbm(X, y_train, X, y_stop, params=TINY, early_stopping_rounds=5, seed=0)


def test_early_stopping_stops_before_the_budget_and_the_model_learns():
    X, y = _data(600, 1)
    X_stop, y_stop = _data(300, 2)
    model = train_lightgbm(X, y, X_stop, y_stop, params=TINY, early_stopping_rounds=10, seed=0)
    assert 1 <= model.best_iteration_ < TINY.n_estimators  # 400 steps at lr 0.3 overfit long before the end
    p = model.predict_proba(pd.DataFrame({"visits": [0.0, 8.0], "noise": [0.0, 0.0]}))[:, 1]
    assert p[1] > p[0] + 0.3


def test_monotone_feature_never_lowers_the_probability():
    X, y = _data(600, 3)
    X_stop, y_stop = _data(300, 4)
    constrained = TINY.model_copy(update={"monotone_increasing": ("visits",)})
    model = train_lightgbm(X, y, X_stop, y_stop, params=constrained, early_stopping_rounds=10, seed=0)
    grid = pd.DataFrame({"visits": np.repeat(np.arange(0.0, 12.0), 5), "noise": np.tile(np.linspace(-2, 2, 5), 12)})
    p = model.predict_proba(grid)[:, 1].reshape(12, 5)
    assert (np.diff(p, axis=0) >= -1e-12).all()


def test_training_is_deterministic_for_a_seed():
    X, y = _data(400, 5)
    X_stop, y_stop = _data(200, 6)
    a = train_lightgbm(X, y, X_stop, y_stop, params=TINY, early_stopping_rounds=10, seed=7)
    b = train_lightgbm(X, y, X_stop, y_stop, params=TINY, early_stopping_rounds=10, seed=7)
    np.testing.assert_array_equal(a.predict_proba(X_stop), b.predict_proba(X_stop))


def test_one_thread_gives_the_same_model_as_the_default():
    """The tuning search fits with n_jobs=1: its fold scores must be those of the default-thread model."""
    X, y = _data(600, 2)
    default = train_lightgbm(X[:400], y[:400], X[400:], y[400:], params=TINY, early_stopping_rounds=10, seed=1)
    single = train_lightgbm(X[:400], y[:400], X[400:], y[400:], params=TINY, early_stopping_rounds=10, seed=1, n_jobs=1)
    assert single.get_params()["n_jobs"] == 1
    np.testing.assert_array_equal(default.predict_proba(X), single.predict_proba(X))


def test_threads_follow_n_jobs_and_default_to_one_in_params():
    from leadscore.config import TrainConfig

    X, y = _data(400, 8)
    X_stop, y_stop = _data(200, 9)
    one = train_lightgbm(X, y, X_stop, y_stop, params=TINY, early_stopping_rounds=10, seed=7, n_jobs=1)
    two = train_lightgbm(X, y, X_stop, y_stop, params=TINY, early_stopping_rounds=10, seed=7, n_jobs=2)
    assert one.get_params()["n_jobs"] == 1 and two.get_params()["n_jobs"] == 2
    # Threads only split the work: the same trees within float noise.
    np.testing.assert_allclose(one.predict_proba(X_stop), two.predict_proba(X_stop), atol=1e-9)
    assert TrainConfig().n_jobs == 1
