"""Calibration of the fit and intent models, the conversion model, quadrant thresholds and quadrants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from leadscore.config import ThresholdConfig
from leadscore.models.calibration import (
    QUADRANTS,
    ConversionModel,
    assign_quadrants,
    calibrate_classifier,
    logit,
    score_threshold,
)


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
