"""Calibrating the fit and intent models, and the conversion model that combines them."""

from __future__ import annotations

import warnings
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.interpolate import interp1d
from scipy.special import expit
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


def _margin(booster: lgb.Booster | None, X) -> np.ndarray:
    """The booster's raw log-odds margin (all its trees)."""
    if booster is None:
        raise ValueError("no booster given")
    return np.asarray(booster.predict(X, raw_score=True), dtype=np.float64)


class _MarginClassifier(ClassifierMixin, BaseEstimator):
    """A trained booster seen by scikit-learn: ``decision_function`` is its raw log-odds margin.

    Only used to fit a calibration map with :class:`CalibratedClassifierCV`, exactly as it was fitted
    around the ``LGBMClassifier`` (whose ``decision_function`` is the same margin).
    """

    def __init__(self, booster: lgb.Booster | None = None):
        self.booster = booster

    def fit(self, X, y) -> _MarginClassifier:
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X) -> np.ndarray:
        return _margin(self.booster, X)

    def predict_proba(self, X) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(int)


class CalibratedBooster(ClassifierMixin, BaseEstimator):
    """A trained LightGBM booster plus a calibration map learned on the calibration split.

    The map takes the booster's raw margin to a probability: ``sigmoid`` (Platt: ``1 / (1 + exp(a *
    margin + b))``) or ``isotonic`` (a monotone piecewise-linear map, clipped to its range). Fitting
    uses scikit-learn's ``CalibratedClassifierCV(FrozenEstimator(...))``; predicting applies the
    same formulas, so the numbers are those of the scikit-learn object while the whole model is
    data: the booster's text and a few floats (see :mod:`leadscore.models.persistence`).

    Parameters
    ----------
    booster : lightgbm.Booster
        The trained model (its saved trees are all used).
    method : {"sigmoid", "isotonic"}

    Attributes
    ----------
    booster_ : lightgbm.Booster
    best_iteration_ : int
        Number of trees used (all the booster's trees).
    classes_ : ndarray, [0, 1]
    a_, b_ : float
        Sigmoid map parameters (method "sigmoid").
    x_thresholds_, y_thresholds_ : ndarray
        Isotonic map knots, margins and probabilities (method "isotonic"); ``x_min_``/``x_max_`` clip.
    """

    def __init__(self, booster: lgb.Booster | None = None, *, method: str = "sigmoid"):
        self.booster = booster
        self.method = method

    def fit(self, X, y, sample_weight=None) -> CalibratedBooster:
        if self.method not in ("sigmoid", "isotonic"):
            raise ValueError(f"method must be 'sigmoid' or 'isotonic', got {self.method!r}")
        frozen = FrozenEstimator(_MarginClassifier(self.booster).fit(X, y))
        with warnings.catch_warnings():
            # The booster is already trained (frozen): weights are meant for the calibration map only,
            # which is what scikit-learn does and warns about.
            warnings.filterwarnings("ignore", message="Since FrozenEstimator does not appear to accept sample_weight")
            fitted = CalibratedClassifierCV(frozen, method=self.method).fit(
                X, np.asarray(y).astype(int), sample_weight=sample_weight
            )
        calibrator = fitted.calibrated_classifiers_[0].calibrators[0]
        if self.method == "sigmoid":
            mapping = {"a": float(calibrator.a_), "b": float(calibrator.b_)}
        else:
            mapping = {
                "x_thresholds": calibrator.X_thresholds_.tolist(),
                "y_thresholds": calibrator.y_thresholds_.tolist(),
                "x_min": float(calibrator.X_min_),
                "x_max": float(calibrator.X_max_),
            }
        return self._set_map(mapping)

    @classmethod
    def from_map(cls, booster: lgb.Booster, *, method: str, mapping: dict[str, Any]) -> CalibratedBooster:
        """A fitted instance from a saved map (:meth:`calibration_map`'s output)."""
        return cls(booster, method=method)._set_map(mapping)

    def _set_map(self, mapping: dict[str, Any]) -> CalibratedBooster:
        if self.booster is None:
            raise ValueError("CalibratedBooster needs a booster")
        self.booster_: lgb.Booster = self.booster
        self.best_iteration_ = int(self.booster_.current_iteration())
        self.classes_ = np.array([0, 1])
        if self.method == "sigmoid":
            self.a_, self.b_ = float(mapping["a"]), float(mapping["b"])
        elif self.method == "isotonic":
            self.x_thresholds_ = np.asarray(mapping["x_thresholds"], dtype=np.float64)
            self.y_thresholds_ = np.asarray(mapping["y_thresholds"], dtype=np.float64)
            if self.x_thresholds_.ndim != 1 or self.x_thresholds_.shape != self.y_thresholds_.shape:
                raise ValueError("isotonic map: x_thresholds and y_thresholds must be lists of the same length")
            self.x_min_, self.x_max_ = float(mapping["x_min"]), float(mapping["x_max"])
        else:
            raise ValueError(f"calibration method must be 'sigmoid' or 'isotonic', got {self.method!r}")
        return self

    def calibration_map(self) -> dict[str, Any]:
        """The learned map as JSON-able numbers."""
        check_is_fitted(self, "booster_")
        if self.method == "sigmoid":
            return {"a": self.a_, "b": self.b_}
        return {
            "x_thresholds": self.x_thresholds_.tolist(),
            "y_thresholds": self.y_thresholds_.tolist(),
            "x_min": self.x_min_,
            "x_max": self.x_max_,
        }

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "booster_")
        margin = _margin(self.booster_, X)
        if self.method == "sigmoid":
            p = expit(-(self.a_ * margin + self.b_))
        elif len(self.y_thresholds_) == 1:
            p = np.repeat(self.y_thresholds_, len(margin))
        else:
            # scikit-learn's IsotonicRegression(out_of_bounds="clip").predict, step for step.
            curve = interp1d(self.x_thresholds_, self.y_thresholds_, kind="linear", bounds_error=False)
            p = curve(np.clip(margin, self.x_min_, self.x_max_)).astype(np.float64)
        proba = np.column_stack([1.0 - p, p])
        # As CalibratedClassifierCV: values a rounding error above 1 are 1.
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


def calibrate_booster(
    booster: lgb.Booster, X_cal: pd.DataFrame, y_cal: pd.Series, *, method: str, sample_weight: np.ndarray | None = None
) -> CalibratedBooster:
    """Calibrate a trained booster on the calibration split (disjoint from its training data).

    ``sample_weight``: per-row weights (activity snapshots: each lead's rows sum to one)."""
    return CalibratedBooster(booster, method=method).fit(X_cal, y_cal, sample_weight=sample_weight)


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

    def fit(self, X, y, sample_weight=None) -> ConversionModel:
        self.logistic_ = LogisticRegression(C=self.C, max_iter=1000).fit(
            self._design(X), np.asarray(y).astype(int), sample_weight=sample_weight
        )
        self.classes_ = self.logistic_.classes_
        self.coef_ = self.logistic_.coef_
        self.intercept_ = self.logistic_.intercept_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "logistic_")
        return self.logistic_.predict_proba(self._design(X))

    def to_dict(self) -> dict[str, Any]:
        """The fitted parameters as JSON-able numbers."""
        check_is_fitted(self, "logistic_")
        return {
            "C": float(self.C),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
            "classes": self.classes_.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversionModel:
        """A fitted model from :meth:`to_dict`'s output (predictions identical to the original)."""
        model = cls(C=float(data["C"]))
        logistic = LogisticRegression(C=model.C, max_iter=1000)
        logistic.coef_ = np.asarray(data["coef"], dtype=np.float64).reshape(1, 3)
        logistic.intercept_ = np.asarray(data["intercept"], dtype=np.float64).reshape(1)
        logistic.classes_ = np.asarray(data["classes"])
        logistic.n_features_in_ = 3
        model.logistic_ = logistic
        model.classes_, model.coef_, model.intercept_ = logistic.classes_, logistic.coef_, logistic.intercept_
        return model


def score_threshold(scores_cal: np.ndarray, y_cal: np.ndarray, rule: ThresholdConfig) -> float:
    """Turn a quadrant threshold rule into a probability cut, using the calibration split only."""
    if rule.method == "base_rate":
        return float(np.mean(y_cal))
    # The config validator guarantees a value for these two methods.
    value = float(rule.value if rule.value is not None else np.nan)
    if rule.method == "probability":
        return value
    # top_share: the cut above which the top `value` share of calibration leads sit.
    return float(np.quantile(scores_cal, 1 - value))


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
