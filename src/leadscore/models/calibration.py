"""Calibrating the fit and intent models, and the conversion model that combines them."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from functools import partial
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
from sklearn.preprocessing import SplineTransformer
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from leadscore.config import ThresholdConfig

log = logging.getLogger(__name__)

# Isotonic calibration returns exact 0s and 1s at the extremes; clip before taking logits.
_EPS = 1e-4
# |logit| never exceeds this (inputs are clipped to [_EPS, 1 - _EPS]): the box monotonicity is checked on.
_LOGIT_BOUND = float(np.log((1 - _EPS) / _EPS))
_FULL_BOX = (-_LOGIT_BOUND, _LOGIT_BOUND, -_LOGIT_BOUND, _LOGIT_BOUND)


def calibrate_classifier(
    model, X_cal: pd.DataFrame, y_cal: pd.Series, *, method: str, sample_weight=None
) -> CalibratedClassifierCV:
    """Calibrate an already-trained classifier on the calibration split (disjoint from training).

    ``FrozenEstimator`` keeps the trained model as is: only the calibration map is learned (with
    ``sample_weight``, a weighted map: activity snapshots).
    """
    with warnings.catch_warnings():
        # The model is frozen: the weights are meant for the calibration map only, as scikit-learn does.
        warnings.filterwarnings("ignore", message="Since FrozenEstimator does not appear to accept sample_weight")
        return CalibratedClassifierCV(FrozenEstimator(model), method=method).fit(
            X_cal, y_cal.astype(int), sample_weight=sample_weight
        )


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


# The conversion models' input: an (n, 2) array of p_fit, p_intent, or a DataFrame with these two
# columns plus the fit features a segment model reads (:func:`conversion_inputs`).
P_FIT, P_INTENT = "p_fit", "p_intent"


def _scores(X) -> np.ndarray:
    """The (n, 2) array of p_fit, p_intent in ``X`` (an array, or a frame from :func:`conversion_inputs`)."""
    if isinstance(X, pd.DataFrame):
        X = X[[P_FIT, P_INTENT]].to_numpy(dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"conversion models take an (n, 2) array of p_fit, p_intent; got shape {X.shape}")
    return X


def conversion_inputs(
    p_fit, p_intent, X_fit: pd.DataFrame | None = None, *, segments: Sequence[str] = ()
) -> pd.DataFrame:
    """The conversion models' input: p_fit, p_intent and the fit features ``segments`` (row-aligned)."""
    frame = pd.DataFrame({P_FIT: np.asarray(p_fit, dtype=np.float64), P_INTENT: np.asarray(p_intent, dtype=np.float64)})
    for column in segments:
        if X_fit is None or column not in X_fit.columns:
            raise ValueError(f"the conversion model reads fit feature {column!r}, which the fit features do not have")
        if column in (P_FIT, P_INTENT):
            raise ValueError(f"a fit feature named {column!r} clashes with the conversion model's inputs")
        frame[column] = X_fit[column].to_numpy()
    return frame


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class ConversionModel(ClassifierMixin, BaseEstimator):
    """Combine calibrated fit and intent probabilities into one conversion probability.

    A logistic regression on ``logit(p_fit)``, ``logit(p_intent)`` and their product. Why this form:
    if fit and intent carried independent evidence, the log-odds would simply add; the product term
    lets the data say how much intent is worth at each level of fit (engaged but poorly matched leads,
    the "danger zone", convert less than the sum suggests). It has four parameters, so it is fitted
    reliably on the calibration split and stays calibrated.

    Monotone in each score for every input (issue 15, :meth:`is_monotone`): the product term uses the
    logits clipped to the box seen when fitting (``box_``: the calibration leads' range, where the
    data says how strong the interaction is), so beyond it the effect of each score is its own
    coefficient; and when the plain fit would still make conversion fall somewhere as fit or intent
    rises, it is refitted with the product term bounded (same objective, linear constraints).

    Input ``X``: an (n, 2) array of p_fit, p_intent, or a :func:`conversion_inputs` frame (other columns unused).
    """

    def __init__(self, *, C: float = 1.0):
        self.C = C

    @staticmethod
    def _design(X, box: Sequence[float] | None = None) -> np.ndarray:
        X = _scores(X)
        lf, li = logit(X[:, 0]), logit(X[:, 1])
        lo_f, hi_f, lo_i, hi_i = box if box is not None else _FULL_BOX
        return np.column_stack([lf, li, np.clip(lf, lo_f, hi_f) * np.clip(li, lo_i, hi_i)])

    def fit(self, X, y, sample_weight=None) -> ConversionModel:
        """``sample_weight``: per-row weights (activity snapshots: each lead's rows sum to one)."""
        X = _scores(X)
        lf, li = logit(X[:, 0]), logit(X[:, 1])
        self.box_ = (float(lf.min()), float(lf.max()), float(li.min()), float(li.max()))
        D, y = self._design(X, self.box_), np.asarray(y).astype(int)
        self.logistic_ = LogisticRegression(C=self.C, max_iter=1000).fit(D, y, sample_weight=sample_weight)
        if not self.is_monotone():
            # Issue 15: the product term made p_conversion fall somewhere as p_fit or p_intent rises:
            # refit with the interaction bounded so that it cannot (same objective, linear constraints).
            self._fit_monotone(D, y, _weights(sample_weight, len(y)))
        self.classes_ = self.logistic_.classes_
        self.coef_ = self.logistic_.coef_
        self.intercept_ = self.logistic_.intercept_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "logistic_")
        return self.logistic_.predict_proba(self._design(X, self.box_))

    def _constraints(self) -> np.ndarray:
        """Rows ``a`` with ``a @ [b, c_fit, c_intent, c_product] >= 0`` exactly when monotone.

        Inside the box, d logit / d l_fit = c_fit + c_product * clip(l_intent), linear in it, so both
        ends of the box suffice; outside it, it is c_fit alone (and the same for intent).
        """
        lo_f, hi_f, lo_i, hi_i = self.box_
        return np.array(
            [[0, 1, 0, 0], [0, 1, 0, lo_i], [0, 1, 0, hi_i], [0, 0, 1, 0], [0, 0, 1, lo_f], [0, 0, 1, hi_f]],
            dtype=float,
        )

    def is_monotone(self) -> bool:
        """Non-decreasing in p_fit and in p_intent for every input."""
        check_is_fitted(self, "logistic_")
        w = np.concatenate([self.logistic_.intercept_, self.logistic_.coef_[0]])
        return bool((self._constraints() @ w >= 0).all())

    def _fit_monotone(self, D: np.ndarray, y: np.ndarray, weight: np.ndarray) -> None:
        from scipy.optimize import minimize

        start = np.concatenate([self.logistic_.intercept_, self.logistic_.coef_[0]])

        def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
            # LogisticRegression's own: C * sum(log loss) + ||coef||^2 / 2.
            z = w[0] + np.einsum("ij,j->i", D, w[1:])
            r = weight * (expit(z) - y)
            value = self.C * float(np.sum(weight * (np.logaddexp(0.0, z) - y * z))) + 0.5 * float(np.sum(w[1:] ** 2))
            grad = np.concatenate([[self.C * r.sum()], self.C * np.einsum("ij,i->j", D, r) + w[1:]])
            return value, grad

        A = self._constraints()
        with threadpool_limits(limits=1):
            result = minimize(
                objective,
                start,
                jac=True,
                method="SLSQP",
                constraints=[{"type": "ineq", "fun": lambda w: A @ w, "jac": lambda w: A}],
                options={"maxiter": 500, "ftol": 1e-10},
            )
        w = np.asarray(result.x, dtype=np.float64).copy()
        # Rounding can leave a constraint a hair short: c_fit, c_intent >= 0, then the product term
        # into the interval the constraints allow (it holds 0), a hair inside it.
        w[1:3] = np.maximum(w[1:3], 0.0)
        low, high = -np.inf, np.inf
        for a in A:
            k, base = a[3], a[1] * w[1] + a[2] * w[2]
            if k > 0:
                low = max(low, -base / k)
            elif k < 0:
                high = min(high, -base / k)
        w[3] = float(np.clip(w[3], low, high)) * (1 - 1e-9)
        self.logistic_.intercept_ = np.array([w[0]])
        self.logistic_.coef_ = np.array([w[1:]])

    def to_dict(self) -> dict[str, Any]:
        """The fitted parameters as JSON-able numbers."""
        check_is_fitted(self, "logistic_")
        return {
            "C": float(self.C),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
            "classes": self.classes_.tolist(),
            "box": list(self.box_),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversionModel:
        """A fitted model from :meth:`to_dict`'s output (predictions identical to the original).

        A scorer saved before issue 15 has no "box": its product term was never clipped.
        """
        model = cls(C=float(data["C"]))
        logistic = LogisticRegression(C=model.C, max_iter=1000)
        logistic.coef_ = np.asarray(data["coef"], dtype=np.float64).reshape(1, 3)
        logistic.intercept_ = np.asarray(data["intercept"], dtype=np.float64).reshape(1)
        logistic.classes_ = np.asarray(data["classes"])
        logistic.n_features_in_ = 3
        model.logistic_ = logistic
        lo_f, hi_f, lo_i, hi_i = (float(v) for v in data.get("box", _FULL_BOX))
        model.box_ = (lo_f, hi_f, lo_i, hi_i)
        model.classes_, model.coef_, model.intercept_ = logistic.classes_, logistic.coef_, logistic.intercept_
        return model


# -- conversion-model candidates (issue 15) ---------------------------------------------------------
# Each combines the calibrated p_fit and p_intent (X of shape (n, 2)) into p_conversion, is monotone
# non-decreasing in each by construction, and saves as JSON-able data (``to_dict``/``from_dict`` with a
# "kind"). :func:`select_conversion_model` picks one on the calibration split by out-of-fold log loss.
CONVERSION_KINDS = ("logistic", "spline", "monotone_gbm", "segment_spline")


def _weights(sample_weight, n: int) -> np.ndarray:
    """Per-row weights as floats (ones when None)."""
    return np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)


def _logits(X) -> tuple[np.ndarray, np.ndarray]:
    X = _scores(X)
    return logit(X[:, 0]), logit(X[:, 1])


def _monotone_basis(spline: SplineTransformer, x: np.ndarray) -> np.ndarray:
    """Tail sums of the B-spline basis (I-splines): each column is non-decreasing in ``x``.

    B-splines sum to one, so ``sum_j c_j B_j = c_0 + sum_{k>=1} (c_k - c_{k-1}) I_k`` with
    ``I_k = sum_{j>=k} B_j``: non-negative weights on the ``I_k`` make the spline non-decreasing
    (also where it is extrapolated linearly: the tail sums' slopes at the boundary are >= 0).
    """
    basis = spline.transform(x.reshape(-1, 1))
    return np.cumsum(basis[:, ::-1], axis=1)[:, ::-1][:, 1:]


def _spline(knots: np.ndarray, *, degree: int, extrapolation: str) -> SplineTransformer:
    # Explicit knots: the same basis at fit time and after loading from JSON.
    knots = np.asarray(knots, dtype=np.float64).reshape(-1, 1)
    return SplineTransformer(knots=knots, degree=degree, extrapolation=extrapolation).fit(knots)


def _penalised_logistic(
    D: np.ndarray, y, sample_weight, *, penalty: np.ndarray, nonnegative: np.ndarray, maxiter: int = 2000
) -> np.ndarray:
    """``[intercept, *weights]`` minimising the weighted mean log loss of ``D`` plus ``sum(penalty * w**2)``.

    Weights where ``nonnegative`` is True are kept >= 0 (L-BFGS-B bounds); the intercept is free and
    unpenalised. Row weights are rescaled to mean one so that the penalty keeps its meaning.
    """
    from scipy.optimize import minimize

    y = np.asarray(y).astype(np.float64)
    n, k = D.shape
    weight = _weights(sample_weight, n)
    weight = weight * (n / weight.sum())
    rate = float(np.clip(np.average(y, weights=weight), 1e-6, 1 - 1e-6))
    start = np.concatenate([[np.log(rate / (1 - rate))], np.zeros(k)])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = w[0] + np.einsum("ij,j->i", D, w[1:])
        # log(1 + e^z) - y z, stably; its gradient is (sigmoid(z) - y).
        value = np.mean(weight * (np.logaddexp(0.0, z) - y * z)) + float(np.sum(penalty * w[1:] ** 2))
        r = weight * (expit(z) - y) / n
        grad = np.concatenate([[r.sum()], np.einsum("ij,i->j", D, r) + 2 * penalty * w[1:]])
        return float(value), grad

    bounds = [(None, None)] + [(0.0, None) if keep else (None, None) for keep in nonnegative]
    # One BLAS thread: a threaded BLAS on a busy machine made this fit 20x slower (measured).
    with threadpool_limits(limits=1):
        result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": maxiter})
    return np.asarray(result.x, dtype=np.float64)


class SplineConversionModel(ClassifierMixin, BaseEstimator):
    """A GAM-style logistic on ``logit(p_fit)`` and ``logit(p_intent)``, monotone by construction.

    ``logit(p) = b + f(l_fit) + g(l_intent) + h(l_fit, l_intent)``: f and g are cubic splines
    (scikit-learn ``SplineTransformer``, knots at quantiles, extrapolated linearly) and h a tensor
    product of two coarser spline bases (held constant beyond the data), all in the monotone
    (I-spline) parametrisation with non-negative weights. So every term is non-decreasing in each
    score: p_conversion never falls when p_fit or p_intent rises, while the shape of each effect and
    how much intent is worth at each level of fit are learned from the data. Fitted by L-BFGS-B on the
    log loss with a small ridge penalty ``alpha``.

    Input ``X``: an (n, 2) array of p_fit, p_intent, or a :func:`conversion_inputs` frame (other columns unused).
    """

    def __init__(self, *, n_knots: int = 6, interaction_knots: int = 4, alpha: float = 1e-4):
        self.n_knots = n_knots
        self.interaction_knots = interaction_knots
        self.alpha = alpha

    def _splines(self, lf: np.ndarray, li: np.ndarray) -> None:
        q = np.linspace(0.0, 1.0, self.n_knots)
        qi = np.linspace(0.0, 1.0, self.interaction_knots)
        self.knots_ = {
            "fit": np.unique(np.quantile(lf, q)),
            "intent": np.unique(np.quantile(li, q)),
            "fit_interaction": np.unique(np.quantile(lf, qi)),
            "intent_interaction": np.unique(np.quantile(li, qi)),
        }
        self._build()

    def _build(self) -> None:
        for name, knots in self.knots_.items():
            if len(knots) < 2:
                raise ValueError(f"spline conversion model: the {name} scores are all equal")
        self.splines_ = {
            name: _spline(
                knots,
                degree=3 if "interaction" not in name else 2,
                extrapolation="linear" if "interaction" not in name else "constant",
            )
            for name, knots in self.knots_.items()
        }

    def _design(self, X) -> np.ndarray:
        lf, li = _logits(X)
        f = _monotone_basis(self.splines_["fit"], lf)
        g = _monotone_basis(self.splines_["intent"], li)
        hf = _monotone_basis(self.splines_["fit_interaction"], lf)
        hi = _monotone_basis(self.splines_["intent_interaction"], li)
        h = (hf[:, :, None] * hi[:, None, :]).reshape(len(lf), -1)
        return np.column_stack([f, g, h])

    def fit(self, X, y, sample_weight=None) -> SplineConversionModel:
        """``sample_weight``: per-row weights (activity snapshots: each lead's rows sum to one)."""
        lf, li = _logits(X)
        self._splines(lf, li)
        D = self._design(X)
        k = D.shape[1]
        # Non-negative weights: monotone.
        w = _penalised_logistic(D, y, sample_weight, penalty=np.full(k, self.alpha), nonnegative=np.ones(k, bool))
        self.intercept_ = float(w[0])
        self.coef_ = np.asarray(w[1:], dtype=np.float64)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        p = expit(self.intercept_ + np.einsum("ij,j->i", self._design(X), self.coef_))
        return np.column_stack([1.0 - p, p])

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as JSON-able numbers (knots and weights)."""
        check_is_fitted(self, "coef_")
        return {
            "kind": "spline",
            "n_knots": int(self.n_knots),
            "interaction_knots": int(self.interaction_knots),
            "alpha": float(self.alpha),
            "knots": {name: knots.tolist() for name, knots in self.knots_.items()},
            "intercept": self.intercept_,
            "coef": self.coef_.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SplineConversionModel:
        """A fitted model from :meth:`to_dict`'s output (predictions identical to the original)."""
        model = cls(
            n_knots=int(data["n_knots"]), interaction_knots=int(data["interaction_knots"]), alpha=float(data["alpha"])
        )
        return model._restore_spline(data)

    def _restore_spline(self, data: dict[str, Any]):
        """Knots, intercept and spline weights from :meth:`to_dict`'s output, checked against each other."""
        self.knots_ = {name: np.asarray(k, dtype=np.float64) for name, k in data["knots"].items()}
        self._build()
        self.intercept_ = float(data["intercept"])
        self.coef_ = np.asarray(data["coef"], dtype=np.float64)
        self.classes_ = np.array([0, 1])
        if self.coef_.shape != (self._design(np.full((1, 2), 0.5)).shape[1],):
            raise ValueError("spline conversion model: the weights do not match the knots")
        return self


class SegmentSplineConversion(SplineConversionModel):
    """The spline model, plus: how much intent is worth depends on who the lead is.

    ``logit(p) = spline terms + sum over segments s of (a_s[level] + b_s[level] * (l_intent - m))``:
    for each fit feature in ``segments`` (categorical), every level seen on at least ``min_leads``
    (weighted) rows gets its own offset ``a`` and its own extra intent slope ``b >= 0`` (``m`` is the
    median intent logit, so ``a`` is the level's shift at typical intent). Engagement from a student
    or a buyer who cannot sign may be worth less than the same engagement from a decision maker; a
    product of two scores cannot say so, because the fit score does not tell *which* fit a lead has.
    Rarer and unseen levels get no term of their own (the shared spline). With ``b >= 0`` and the
    spline's non-negative weights, p_conversion still never falls when p_fit or p_intent rises, for
    every level. ``segment_alpha`` is the ridge penalty on ``a`` and ``b``.

    Which fit features are segments is chosen on the calibration split by
    :func:`select_conversion_model` (forward selection by out-of-fold log loss); the model itself
    takes them as given. Input ``X``: a :func:`conversion_inputs` frame holding the segment columns.
    """

    def __init__(
        self,
        *,
        segments: Sequence[str] = (),
        n_knots: int = 6,
        interaction_knots: int = 4,
        alpha: float = 1e-4,
        segment_alpha: float = 1e-3,
        min_leads: float = 100.0,
    ):
        super().__init__(n_knots=n_knots, interaction_knots=interaction_knots, alpha=alpha)
        self.segments = segments
        self.segment_alpha = segment_alpha
        self.min_leads = min_leads

    @staticmethod
    def _levels_of(X, column: str) -> np.ndarray:
        if not isinstance(X, pd.DataFrame) or column not in X.columns:
            raise ValueError(f"segment_spline conversion model: the input has no fit feature {column!r}")
        # Text keys: the same at fit time, at scoring time and after a JSON round trip (missing is "nan").
        return X[column].astype(str).to_numpy()

    def _segment_design(self, X, li: np.ndarray) -> np.ndarray:
        blocks = []
        for column in self.segments_:
            values = self._levels_of(X, column)
            onehot = (values[:, None] == np.asarray(self.levels_[column], dtype=object)[None, :]).astype(np.float64)
            blocks += [onehot * (li - self.center_)[:, None], onehot]
        return np.column_stack(blocks) if blocks else np.empty((len(li), 0))

    def _slopes(self) -> np.ndarray:
        """True for the columns of :meth:`_segment_design` that are intent slopes (kept >= 0)."""
        return np.concatenate(
            [np.r_[np.ones(len(self.levels_[c]), bool), np.zeros(len(self.levels_[c]), bool)] for c in self.segments_]
            or [np.zeros(0, bool)]
        )

    def fit(self, X, y, sample_weight=None) -> SegmentSplineConversion:
        """``sample_weight``: per-row weights (activity snapshots: each lead's rows sum to one)."""
        lf, li = _logits(X)
        self._splines(lf, li)
        weight = _weights(sample_weight, len(lf))
        self.segments_ = tuple(self.segments)
        self.center_ = float(np.median(li))
        self.levels_ = {}
        for column in self.segments_:
            counts = pd.Series(weight).groupby(self._levels_of(X, column)).sum()
            self.levels_[column] = sorted(str(k) for k, v in counts.items() if v >= self.min_leads)
        D_spline, D_segment = self._design(X), self._segment_design(X, li)
        k_spline = D_spline.shape[1]
        penalty = np.r_[np.full(k_spline, self.alpha), np.full(D_segment.shape[1], self.segment_alpha)]
        # Spline weights and intent slopes non-negative (monotone); level offsets free.
        nonnegative = np.r_[np.ones(k_spline, bool), self._slopes()]
        w = _penalised_logistic(
            np.column_stack([D_spline, D_segment]),
            y,
            weight,
            penalty=penalty,
            nonnegative=nonnegative,
            maxiter=3000,
        )
        self.intercept_ = float(w[0])
        self.coef_ = w[1 : 1 + k_spline]
        self.segment_coef_ = w[1 + k_spline :]
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "segment_coef_")
        _, li = _logits(X)
        z = self.intercept_ + self._design(X) @ self.coef_ + self._segment_design(X, li) @ self.segment_coef_
        p = expit(z)
        return np.column_stack([1.0 - p, p])

    def _level_weights(self) -> Iterator[tuple[str, list[str], np.ndarray, np.ndarray]]:
        """Per segment: ``(column, levels, extra intent slopes, offsets)``, read from ``segment_coef_``
        (laid out as :meth:`_segment_design`'s columns: each segment's slopes, then its offsets)."""
        at = 0
        for column in self.segments_:
            levels = self.levels_[column]
            k = len(levels)
            yield column, levels, self.segment_coef_[at : at + k], self.segment_coef_[at + k : at + 2 * k]
            at += 2 * k

    def segment_terms(self, X) -> pd.DataFrame:
        """Per row and segment: the log-odds its level adds to the shared spline (offset plus extra slope
        times the intent logit's distance from the median); 0 for levels without a term of their own."""
        check_is_fitted(self, "segment_coef_")
        _, li = _logits(X)
        out = {}
        for column, levels, slopes, offsets in self._level_weights():
            index = pd.Index(levels, dtype=object).get_indexer(pd.Index(self._levels_of(X, column)))
            known = index >= 0
            term = np.zeros(len(li))
            term[known] = offsets[index[known]] + slopes[index[known]] * (li[known] - self.center_)
            out[column] = term
        return pd.DataFrame(out, index=range(len(li)))

    def segment_effects(self, X=None, sample_weight=None) -> dict[str, dict[str, dict[str, float]]]:
        """Per segment and level: ``offset`` (log-odds at median intent) and extra ``intent_slope``.

        Both are on top of what p_fit and p_intent already say (the shared spline), relative to the
        levels without a term of their own. With ``X`` (a :func:`conversion_inputs` frame, e.g. the
        calibration leads) each level also gets ``leads``: its (weighted) number of rows there.
        """
        check_is_fitted(self, "segment_coef_")
        out = {}
        weight = None if X is None else _weights(sample_weight, len(X))
        for column, levels, slopes, offsets in self._level_weights():
            pairs = zip(levels, offsets, slopes, strict=True)
            out[column] = {lv: {"offset": float(o), "intent_slope": float(b)} for lv, o, b in pairs}
            if X is not None:
                leads = pd.Series(weight).groupby(self._levels_of(X, column)).sum()
                for lv, effect in out[column].items():
                    effect["leads"] = float(leads.get(lv, 0.0))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as JSON-able data (knots, levels and weights)."""
        check_is_fitted(self, "segment_coef_")
        return {
            **super().to_dict(),
            "kind": "segment_spline",
            "segment_alpha": float(self.segment_alpha),
            "min_leads": float(self.min_leads),
            "segments": list(self.segments_),
            "levels": {c: list(v) for c, v in self.levels_.items()},
            "center": self.center_,
            "segment_coef": self.segment_coef_.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentSplineConversion:
        """A fitted model from :meth:`to_dict`'s output (predictions identical to the original)."""
        model = cls(
            segments=tuple(data["segments"]),
            n_knots=int(data["n_knots"]),
            interaction_knots=int(data["interaction_knots"]),
            alpha=float(data["alpha"]),
            segment_alpha=float(data["segment_alpha"]),
            min_leads=float(data["min_leads"]),
        )
        model._restore_spline(data)
        model.segments_ = tuple(str(c) for c in data["segments"])
        model.levels_ = {str(c): [str(v) for v in levels] for c, levels in data["levels"].items()}
        model.center_ = float(data["center"])
        model.segment_coef_ = np.asarray(data["segment_coef"], dtype=np.float64)
        if set(model.levels_) != set(model.segments_) or model.segment_coef_.shape != model._slopes().shape:
            raise ValueError("segment_spline conversion model: the weights do not match the levels")
        return model


class MonotoneGBMConversion(ClassifierMixin, BaseEstimator):
    """A small LightGBM on ``logit(p_fit)`` and ``logit(p_intent)`` with monotone constraints [1, 1].

    Trees can express any monotone interaction (e.g. intent mattering only above some fit). The rows
    given to :meth:`fit` are split in order: the first ``1 - holdout`` grow the trees, the last
    ``holdout`` (the most recent when rows are in time order) stop the boosting early and learn a
    Platt map of the margin (slope kept positive, so monotonicity survives calibration).
    """

    def __init__(
        self,
        *,
        holdout: float = 0.3,
        num_leaves: int = 7,
        learning_rate: float = 0.05,
        min_child_samples: int = 100,
        max_rounds: int = 500,
        early_stopping_rounds: int = 30,
        seed: int = 42,
    ):
        self.holdout = holdout
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.min_child_samples = min_child_samples
        self.max_rounds = max_rounds
        self.early_stopping_rounds = early_stopping_rounds
        self.seed = seed

    def fit(self, X, y, sample_weight=None) -> MonotoneGBMConversion:
        """``sample_weight``: per-row weights (activity snapshots: each lead's rows sum to one)."""
        lf, li = _logits(X)
        Z = np.column_stack([lf, li])
        y = np.asarray(y).astype(int)
        cut = round(len(y) * (1 - self.holdout))
        if cut < 50 or len(y) - cut < 50:
            raise ValueError(f"monotone_gbm conversion model: {len(y)} rows are too few (need 100+)")
        params = {
            "objective": "binary",
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "min_data_in_leaf": self.min_child_samples,
            "lambda_l2": 1.0,
            "monotone_constraints": [1, 1],
            "monotone_constraints_method": "advanced",
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbose": -1,
        }
        weight = _weights(sample_weight, len(y))
        train = lgb.Dataset(Z[:cut], y[:cut], weight=weight[:cut], free_raw_data=False)
        valid = lgb.Dataset(Z[cut:], y[cut:], weight=weight[cut:], reference=train)
        booster = lgb.train(
            params,
            train,
            num_boost_round=self.max_rounds,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        # Keep only the early-stopped trees, so the saved text is the model that is used.
        self.booster_ = lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))
        margin = self._margin(Z[cut:])
        platt = LogisticRegression(C=1e6, max_iter=1000).fit(margin.reshape(-1, 1), y[cut:], sample_weight=weight[cut:])
        self.a_ = max(float(platt.coef_[0, 0]), 1e-6)  # a positive slope: monotone
        self.b_ = float(platt.intercept_[0])
        self.classes_ = np.array([0, 1])
        return self

    def _margin(self, Z: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster_.predict(Z, raw_score=True), dtype=np.float64)

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "booster_")
        lf, li = _logits(X)
        p = expit(self.a_ * self._margin(np.column_stack([lf, li])) + self.b_)
        return np.column_stack([1.0 - p, p])

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as data: the booster's text and the Platt map's two floats."""
        check_is_fitted(self, "booster_")
        return {"kind": "monotone_gbm", "a": self.a_, "b": self.b_, "booster": self.booster_.model_to_string()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonotoneGBMConversion:
        """A fitted model from :meth:`to_dict`'s output (predictions identical to the original)."""
        model = cls()
        model.booster_ = lgb.Booster(model_str=str(data["booster"]))
        model.a_, model.b_ = float(data["a"]), float(data["b"])
        model.classes_ = np.array([0, 1])
        return model


def new_conversion_model(kind: str, *, seed: int = 42, segments: Sequence[str] = ()) -> Any:
    """An unfitted conversion model of ``kind`` (one of :data:`CONVERSION_KINDS`).

    ``segments``: the fit features a ``segment_spline`` model reads (ignored by the other kinds).
    """
    if kind == "segment_spline":
        return SegmentSplineConversion(segments=tuple(segments))
    if kind == "logistic":
        return ConversionModel()
    if kind == "spline":
        return SplineConversionModel()
    if kind == "monotone_gbm":
        return MonotoneGBMConversion(seed=seed)
    raise ValueError(f"conversion model kind must be one of {list(CONVERSION_KINDS)}, got {kind!r}")


def conversion_model_from_dict(data: dict[str, Any]) -> Any:
    """The fitted conversion model a ``to_dict`` described; no "kind" (older scorers): the logistic form."""
    kind = data.get("kind", "logistic")
    if kind == "logistic":
        return ConversionModel.from_dict(data)
    if kind == "spline":
        return SplineConversionModel.from_dict(data)
    if kind == "monotone_gbm":
        return MonotoneGBMConversion.from_dict(data)
    if kind == "segment_spline":
        return SegmentSplineConversion.from_dict(data)
    raise ValueError(f"unknown conversion model kind {kind!r} (expected one of {list(CONVERSION_KINDS)})")


def _log_loss(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> float:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.average(y * np.log(p) + (1 - y) * np.log(1 - p), weights=weight))


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    ranks = pd.Series(p).rank(method="average").to_numpy()
    pos = float(y.sum())
    neg = len(y) - pos
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


# Forward selection of a segment_spline model's segments: a fit feature is added only if it lowers the
# out-of-fold log loss by more than this (the loss is measured on the same folds it is chosen on, so
# a sliver of improvement is as likely to be luck), and at most this many are added.
SEGMENT_MIN_GAIN = 1e-4
MAX_SEGMENTS = 3


def _out_of_fold(make, X, y: np.ndarray, block: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Each row's probability from a model (``make()``) fitted on the other blocks."""
    oof = np.empty(len(y))
    rows = (lambda m: X.loc[m]) if isinstance(X, pd.DataFrame) else (lambda m: X[m])
    for k in np.unique(block):
        held = block == k
        w_fit = None if weight is None else weight[~held]
        oof[held] = make().fit(rows(~held), y[~held], sample_weight=w_fit).predict_proba(rows(held))[:, 1]
    return oof


def select_conversion_model(
    X, y, *, candidates: Sequence[str], folds: int = 5, seed: int = 42, sample_weight=None
) -> tuple[Any, dict[str, Any]]:
    """Choose the conversion model among ``candidates`` by out-of-fold log loss, refit it on all rows.

    The rows (the calibration split, in time order) are cut into ``folds`` contiguous blocks; each
    candidate is fitted on the other blocks and scored on each block in turn, so its log loss is
    measured on rows it did not see: a flexible form wins only if it predicts better, not because
    it remembers more. Ties go to the earlier candidate. The test split is never involved.
    ``sample_weight`` (activity snapshots: each lead's rows sum to one) weighs the fits and the log loss.

    ``X``: an (n, 2) array of p_fit, p_intent, or a :func:`conversion_inputs` frame whose other
    columns are the fit features a ``segment_spline`` candidate may use: its segments are chosen by
    forward selection on the same folds (each step adds the feature that lowers the out-of-fold log
    loss most, while it lowers it by more than :data:`SEGMENT_MIN_GAIN`, at most
    :data:`MAX_SEGMENTS`).

    Returns
    -------
    (model, report)
        The chosen model fitted on all rows, and ``{"chosen", "folds", "candidates": {kind:
        {"cv_log_loss", "cv_auc"}}}`` (``segment_spline`` adds the ``"segments"`` it chose).
        A single candidate other than ``segment_spline`` is fitted without the cross-validation.
    """
    if isinstance(X, pd.DataFrame):
        X = X.reset_index(drop=True)
        features = [c for c in X.columns if c not in (P_FIT, P_INTENT)]
    else:
        X, features = np.asarray(X, dtype=float), []
    y = np.asarray(y).astype(int)
    weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    kinds = list(dict.fromkeys(candidates))
    if not kinds:
        raise ValueError("no conversion model candidates given")
    report: dict[str, Any] = {"chosen": kinds[0], "folds": 0, "candidates": {}}
    segments: tuple[str, ...] = ()
    # One candidate is fitted as is, unless it is segment_spline, whose segments need the folds.
    if len(kinds) > 1 or kinds == ["segment_spline"]:
        block = np.minimum((np.arange(len(y)) * folds) // max(len(y), 1), folds - 1)
        report["folds"] = int(folds)
        best = None
        for kind in kinds:
            if kind == "segment_spline":
                entry = _forward_segments(X, y, block, weight, features)
            else:
                oof = _out_of_fold(partial(new_conversion_model, kind, seed=seed), X, y, block, weight)
                entry = {"cv_log_loss": _log_loss(y, oof, weight), "cv_auc": _auc(y, oof)}
            report["candidates"][kind] = entry
            if best is None or entry["cv_log_loss"] < best:
                best, report["chosen"] = entry["cv_log_loss"], kind
        segments = tuple(report["candidates"].get("segment_spline", {}).get("segments", ()))
    model = new_conversion_model(report["chosen"], seed=seed, segments=segments)
    return model.fit(X, y, sample_weight=weight), report


def _forward_segments(X, y: np.ndarray, block: np.ndarray, weight: np.ndarray | None, features: list[str]) -> dict:
    """Forward selection of a segment_spline model's segments by out-of-fold log loss (see above)."""

    def measure(segments: tuple[str, ...]) -> tuple[float, float]:
        oof = _out_of_fold(partial(SegmentSplineConversion, segments=segments), X, y, block, weight)
        return _log_loss(y, oof, weight), _auc(y, oof)

    chosen: tuple[str, ...] = ()
    loss, auc = measure(chosen)
    log.info("segment_spline without segments: out-of-fold log loss %.5f", loss)
    while len(chosen) < MAX_SEGMENTS and len(chosen) < len(features):
        tried = {c: measure((*chosen, c)) for c in features if c not in chosen}
        column = min(tried, key=lambda c: tried[c][0])
        if tried[column][0] > loss - SEGMENT_MIN_GAIN:
            break
        chosen = (*chosen, column)
        loss, auc = tried[column]
        log.info("segment_spline segments %s: out-of-fold log loss %.5f", list(chosen), loss)
    return {"cv_log_loss": loss, "cv_auc": auc, "segments": list(chosen)}


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
