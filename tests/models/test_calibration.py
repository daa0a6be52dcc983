"""CalibratedBooster: the numbers of CalibratedClassifierCV(FrozenEstimator(LGBMClassifier)), as data."""

from __future__ import annotations

import json

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from leadscore.config import ThresholdConfig
from leadscore.models.calibration import (
    QUADRANTS,
    CalibratedBooster,
    ConversionModel,
    assign_quadrants,
    calibrate_booster,
    calibrate_classifier,
    logit,
    score_threshold,
)
from leadscore.models.persistence import booster_from_text, booster_text


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n = 2400
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": pd.Categorical(rng.choice(["x", "y", "z"], n)),
            "c": rng.integers(0, 5, n).astype(float),
        }
    )
    X.loc[::9, "a"] = np.nan
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-(X["a"].fillna(0) + (X["b"] == "x"))))).astype(int))
    parts = {"train": slice(0, 1200), "stop": slice(1200, 1600), "cal": slice(1600, 2000), "test": slice(2000, n)}
    classifier = lgb.LGBMClassifier(n_estimators=200, verbose=-1, deterministic=True, force_row_wise=True).fit(
        X[parts["train"]],
        y[parts["train"]],
        eval_X=X[parts["stop"]],
        eval_y=y[parts["stop"]],
        callbacks=[lgb.early_stopping(10, verbose=False)],
    )
    assert classifier.best_iteration_ < 200  # early stopping kicked in: only the best trees are saved
    return X, y, parts, classifier


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_same_numbers_as_calibrated_classifier_cv(data, method):
    X, y, p, classifier = data
    reference = CalibratedClassifierCV(FrozenEstimator(classifier), method=method).fit(X[p["cal"]], y[p["cal"]])
    # Through the booster's text model, as the pipeline does (train writes it, calibrate reads it).
    booster = booster_from_text(booster_text(classifier))
    ours = calibrate_booster(booster, X[p["cal"]], y[p["cal"]], method=method)
    np.testing.assert_allclose(
        ours.predict_proba(X[p["test"]]), reference.predict_proba(X[p["test"]]), rtol=0, atol=1e-12
    )
    assert ours.best_iteration_ == classifier.best_iteration_


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_map_round_trips_through_json(data, method):
    X, y, p, classifier = data
    fitted = CalibratedBooster(booster_from_text(booster_text(classifier)), method=method).fit(X[p["cal"]], y[p["cal"]])
    mapping = json.loads(json.dumps(fitted.calibration_map()))
    again = CalibratedBooster.from_map(booster_from_text(booster_text(fitted.booster_)), method=method, mapping=mapping)
    np.testing.assert_array_equal(again.predict_proba(X[p["test"]]), fitted.predict_proba(X[p["test"]]))
    assert set(mapping) == ({"a", "b"} if method == "sigmoid" else {"x_thresholds", "y_thresholds", "x_min", "x_max"})


def test_unknown_method_is_refused(data):
    X, y, p, classifier = data
    with pytest.raises(ValueError, match="'sigmoid' or 'isotonic'"):
        CalibratedBooster(classifier.booster_, method="temperature").fit(X[p["cal"]], y[p["cal"]])


def test_conversion_model_round_trips_through_json():
    rng = np.random.default_rng(3)
    X = rng.uniform(0.01, 0.99, size=(500, 2))
    y = (rng.random(500) < X.mean(axis=1)).astype(int)
    model = ConversionModel().fit(X, y)
    again = ConversionModel.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


# -- from the mirrored unit tests ----------------------------------------------------------------
def _leads(n: int, *, intercept: float, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n)})
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-(intercept + 2 * X["x"])))).astype(int))
    return X, y


def test_calibration_learns_the_map_on_the_calibration_split_only():
    """A model trained where half the leads convert, calibrated where few do: the calibrated mean
    follows the calibration split, the trained model is left as it was, and the ranking is kept."""
    X_train, y_train = _leads(2000, intercept=0.0, seed=0)
    X_cal, y_cal = _leads(2000, intercept=-3.0, seed=1)
    model = LogisticRegression().fit(X_train, y_train)
    before = model.predict_proba(X_cal)[:, 1]
    calibrated = calibrate_classifier(model, X_cal, y_cal, method="sigmoid")
    after = calibrated.predict_proba(X_cal)[:, 1]
    assert before.mean() > 0.3  # the uncalibrated model believes the training base rate ...
    assert after.mean() == pytest.approx(y_cal.mean(), abs=0.02)  # ... the calibrated one the new one
    np.testing.assert_array_equal(model.predict_proba(X_cal)[:, 1], before)  # frozen: not refitted
    np.testing.assert_array_equal(np.argsort(after, kind="stable"), np.argsort(before, kind="stable"))


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_probabilities_are_probabilities(method):
    X_train, y_train = _leads(500, intercept=0.0, seed=2)
    X_cal, y_cal = _leads(500, intercept=-1.0, seed=3)
    calibrated = calibrate_classifier(LogisticRegression().fit(X_train, y_train), X_cal, y_cal, method=method)
    p = calibrated.predict_proba(X_cal)
    assert p.shape == (500, 2) and ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_logit_is_finite_at_zero_and_one():
    values = logit(np.array([0.0, 0.5, 1.0]))
    assert np.isfinite(values).all() and values[1] == 0.0 and values[0] < -9 and values[2] > 9


def _conversion_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p_fit, p_intent = rng.uniform(0.01, 0.99, n), rng.uniform(0.01, 0.99, n)
    z = -1.0 + 0.8 * logit(p_fit) + 0.6 * logit(p_intent) + 0.05 * logit(p_fit) * logit(p_intent)
    return np.column_stack([p_fit, p_intent]), (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)


def test_conversion_model_is_monotone_in_fit_and_in_intent_on_a_grid():
    X, y = _conversion_data(4000, 0)
    model = ConversionModel().fit(X, y)
    grid = np.linspace(0.02, 0.98, 25)
    pf, pi = np.meshgrid(grid, grid, indexing="ij")
    p = model.predict_proba(np.column_stack([pf.ravel(), pi.ravel()]))[:, 1].reshape(25, 25)
    assert (np.diff(p, axis=0) > 0).all()  # more fit, same intent: higher conversion
    assert (np.diff(p, axis=1) > 0).all()  # more intent, same fit: higher conversion
    assert list(model.classes_) == [0, 1] and model.coef_.shape == (1, 3)


def test_conversion_model_is_calibrated_on_its_own_data_and_must_be_fitted():
    X, y = _conversion_data(4000, 1)
    with pytest.raises(NotFittedError):
        ConversionModel().predict_proba(X)
    p = ConversionModel().fit(X, y).predict_proba(X)[:, 1]
    assert p.mean() == pytest.approx(y.mean(), abs=0.01)  # logistic regression with an intercept


def test_score_threshold_rules():
    scores = np.linspace(0.0, 1.0, 101)
    y = np.array([1] * 30 + [0] * 71)
    assert score_threshold(scores, y, ThresholdConfig(method="base_rate")) == pytest.approx(30 / 101)
    assert score_threshold(scores, y, ThresholdConfig(method="probability", value=0.42)) == 0.42
    cut = score_threshold(scores, y, ThresholdConfig(method="top_share", value=0.2))
    assert cut == pytest.approx(0.8)
    assert (scores > cut).mean() == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize("method", ["probability", "top_share"])
def test_threshold_rules_needing_a_value_say_so(method):
    with pytest.raises(ValidationError, match=f"method '{method}' needs a `value` between 0 and 1"):
        ThresholdConfig(method=method)


def test_assign_quadrants_high_means_strictly_above_the_threshold():
    p_fit = np.array([0.6, 0.6, 0.2, 0.2, 0.5, 0.5, 0.51])
    p_intent = np.array([0.4, 0.1, 0.4, 0.1, 0.3, 0.31, 0.3])
    out = assign_quadrants(p_fit, p_intent, 0.5, 0.3)
    assert out.tolist() == [
        "high_fit_high_intent",
        "high_fit_low_intent",
        "low_fit_high_intent",
        "low_fit_low_intent",
        "low_fit_low_intent",  # exactly at both thresholds: low
        "low_fit_high_intent",
        "high_fit_low_intent",
    ]
    assert set(out) <= set(QUADRANTS) and out.dtype == object
    assert assign_quadrants(np.array([]), np.array([]), 0.5, 0.5).tolist() == []
