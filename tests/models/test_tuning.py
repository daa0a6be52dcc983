"""Tuning LightGBM parameters on time-ordered folds inside the train split (params train.tune)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from leadscore.config import LightGBMConfig, TuneConfig
from leadscore.errors import DataValidationError
from leadscore.models.tuning import SEARCH_SPACE, time_folds, tune_lightgbm

N = 800
# Time order is not row order: the table is shuffled, so folds must follow `order`, not positions.
SPLITS = ["train"] * 420 + ["early_stopping"] * 80 + ["calibration"] * 150 + ["test"] * 150
BASE = LightGBMConfig(n_estimators=30, learning_rate=0.2, num_leaves=4, min_child_samples=20)


def _table(seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    visits = rng.poisson(3, N).astype(float)
    size = rng.normal(size=N)
    y = (rng.random(N) < 1 / (1 + np.exp(-(visits - 3 + size)))).astype(float)
    order = pd.Series(np.arange(N, dtype=float))  # position in time: SPLITS are in time order
    frame = pd.DataFrame({"visits": visits, "size": size, "noise": rng.normal(size=N)})
    shuffle = rng.permutation(N)
    index = pd.Index(shuffle + 1000)  # index labels unrelated to positions
    X = frame.iloc[shuffle].set_axis(index)
    return (
        X,
        pd.Series(y[shuffle], index=index),
        pd.Series(np.array(SPLITS)[shuffle], index=index),
        pd.Series(order.to_numpy()[shuffle], index=index),
    )


def _tune(X, y, splits, order, offset=None, **tune):
    return tune_lightgbm(
        X,
        y,
        splits=splits,
        order=order,
        base=BASE,
        tune=TuneConfig(enabled=True, **{"n_trials": 3, "seed": 7, "n_folds": 2, **tune}),
        early_stopping_rounds=5,
        early_stopping_share=0.1,
        seed=42,
        offset=offset,
    )


def test_folds_expand_in_time_and_validate_on_later_leads():
    order = pd.Series([5.0, 1.0, 3.0, 0.0, 4.0, 2.0, 7.0, 6.0, 9.0, 8.0], index=list("abcdefghij"))
    folds = time_folds(order, n_folds=2, early_stopping_share=0.2)
    assert len(folds) == 2
    for fold in folds:
        seen = order[fold.fit.union(fold.stop)]
        assert seen.max() < order[fold.valid].min()  # trains on the past, judged on the future
        assert order[fold.fit].max() < order[fold.stop].min()  # early-stops on its most recent leads
    assert list(folds[0].valid) == ["a", "h", "g"]  # times 5, 6, 7: the later half, cut in two
    assert list(folds[1].valid) == ["j", "i"]  # times 8, 9
    assert len(folds[0].fit) + len(folds[0].stop) == 5  # everything before its block
    assert list(folds[1].stop) == ["h", "g"]  # 20% of its 8 training leads, the most recent


def test_the_search_never_sees_calibration_or_test_rows():
    X, y, splits, order = _table()
    result = _tune(X, y, splits, order)
    period = set(splits.index[splits.isin(["train", "early_stopping"])])
    folds = time_folds(order[splits.isin(["train", "early_stopping"])], n_folds=2, early_stopping_share=0.1)
    used = set().union(*(set(f.fit) | set(f.stop) | set(f.valid) for f in folds))
    assert used == period
    assert sum(f["train"] + f["early_stopping"] for f in result.folds[-1:]) + result.folds[-1]["validation"] == 500
    # Labels of later splits flipped: the same search, the same parameters.
    later = ~splits.isin(["train", "early_stopping"])
    flipped = _tune(X, y.where(~later, 1 - y), splits, order)
    assert flipped.best_params == result.best_params
    assert flipped.best_value == result.best_value


def test_same_seed_same_parameters_and_trial_zero_is_the_configuration():
    X, y, splits, order = _table()
    first, second = _tune(X, y, splits, order), _tune(X, y, splits, order)
    assert first.best_params == second.best_params
    assert [t["log_loss"] for t in first.trials] == [t["log_loss"] for t in second.trials]
    assert len(first.trials) == 3 and not first.timed_out
    assert first.trials[0]["params"]["num_leaves"] == BASE.num_leaves
    assert first.trials[0]["params"]["learning_rate"] == BASE.learning_rate
    assert first.configured_value == first.trials[0]["log_loss"]
    assert first.best_value <= first.configured_value
    assert first.config.n_estimators == BASE.n_estimators  # not searched: early stopping sizes the model
    assert set(first.best_params) == set(SEARCH_SPACE)
    other = _tune(X, y, splits, order, seed=8)
    assert [t["params"] for t in other.trials[1:]] != [t["params"] for t in first.trials[1:]]


def test_the_report_is_json_and_says_what_tuning_gained():
    import json

    X, y, splits, order = _table()
    report = _tune(X, y, splits, order).to_dict()
    text = json.dumps(report, allow_nan=False)
    assert json.loads(text)["n_trials_completed"] == 3
    assert math.isclose(report["improvement"], report["configured_log_loss"] - report["best_log_loss"])
    assert report["params"]["num_leaves"] == report["best_params"]["num_leaves"]
    assert len(report["trials"][0]["fold_log_losses"]) == 2


def test_a_configured_value_outside_the_search_range_is_still_trial_zero():
    X, y, splits, order = _table()
    result = tune_lightgbm(
        X,
        y,
        splits=splits,
        order=order,
        base=BASE.model_copy(update={"num_leaves": 2, "reg_lambda": 0.0}),
        tune=TuneConfig(enabled=True, n_trials=1, n_folds=2),
        early_stopping_rounds=5,
        early_stopping_share=0.1,
        seed=42,
    )
    assert result.trials[0]["params"]["num_leaves"] == 2
    assert result.search_space["num_leaves"]["low"] == 2


def test_too_many_folds_for_the_data_is_one_clear_error():
    X, y, splits, order = _table()
    y = y.where(order < 300, 0.0)  # no wins after the first 300 leads
    with pytest.raises(DataValidationError, match=r"train.tune.n_folds 2: fold 2's early-stopping rows hold 38 leads"):
        _tune(X, y, splits, order)


def test_an_offset_is_boosted_from_and_scored_with():
    """train.intent_given_fit: the folds' models start from the offset and their log loss includes it.

    Given the part of the truth that ``size`` carries as an offset, a search on ``visits`` alone
    scores far better than without it (``size`` is not among the searched model's columns).
    """
    X, y, splits, order = _table()
    offset = X["size"].to_numpy()  # the true logit's size term, as a fitted fit model would give it
    alone = _tune(X[["visits", "noise"]], y, splits, order, n_trials=1)
    given = _tune(X[["visits", "noise"]], y, splits, order, offset=offset, n_trials=1)
    assert given.best_value < alone.best_value - 0.03
