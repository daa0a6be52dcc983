"""Calibrating the fit and intent models, and the conversion model that combines them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from leadscore.config import ThresholdConfig

# Isotonic calibration returns exact 0s and 1s at the extremes; clip before taking logits.
_EPS = 1e-4


def calibrate_classifier(model, X_cal: pd.DataFrame, y_cal: pd.Series, *, method: str) -> CalibratedClassifierCV:
    """Calibrate an already-trained classifier on the calibration split (disjoint from training).

    ``FrozenEstimator`` keeps the trained model as is: only the calibration map is learned.
    """
    return CalibratedClassifierCV(FrozenEstimator(model), method=method).fit(X_cal, y_cal.astype(int))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class ConversionModel(ClassifierMixin, BaseEstimator):
    """Combine calibrated fit and intent probabilities into one conversion probability.

    A logistic regression on ``logit(p_fit)``, ``logit(p_intent)`` and their product. Why this form:
    if fit and intent carried independent evidence, the log-odds would simply add; the product term
    lets the data say how much intent is worth at each level of fit (engaged but poorly matched leads,
    the "danger zone", convert less than the sum suggests). It has four parameters, so it is fitted
    reliably on the calibration split and stays calibrated, and it is monotone in each score wherever
    the interaction is small.

    Input ``X`` is an array of shape (n, 2): columns p_fit, p_intent.
    """

    def __init__(self, *, C: float = 1.0):
        self.C = C

    @staticmethod
    def _design(X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        lf, li = logit(X[:, 0]), logit(X[:, 1])
        return np.column_stack([lf, li, lf * li])

    def fit(self, X, y) -> ConversionModel:
        self.logistic_ = LogisticRegression(C=self.C, max_iter=1000).fit(self._design(X), np.asarray(y).astype(int))
        self.classes_ = self.logistic_.classes_
        self.coef_ = self.logistic_.coef_
        self.intercept_ = self.logistic_.intercept_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "logistic_")
        return self.logistic_.predict_proba(self._design(X))


def score_threshold(scores_cal: np.ndarray, y_cal: np.ndarray, rule: ThresholdConfig) -> float:
    """Turn a quadrant threshold rule into a probability cut, using the calibration split only."""
    if rule.method == "base_rate":
        return float(np.mean(y_cal))
    if rule.method == "probability":
        return float(rule.value)
    # top_share: the cut above which the top `value` share of calibration leads sit.
    return float(np.quantile(scores_cal, 1 - rule.value))


QUADRANTS = ("high_fit_high_intent", "high_fit_low_intent", "low_fit_high_intent", "low_fit_low_intent")


def assign_quadrants(
    p_fit: np.ndarray, p_intent: np.ndarray, fit_threshold: float, intent_threshold: float
) -> np.ndarray:
    """Quadrant name per lead; "high" means strictly above the threshold."""
    high_fit = np.asarray(p_fit) > fit_threshold
    high_intent = np.asarray(p_intent) > intent_threshold
    return np.select(
        [high_fit & high_intent, high_fit & ~high_intent, ~high_fit & high_intent],
        list(QUADRANTS[:3]),
        default=QUADRANTS[3],
    ).astype(object)
