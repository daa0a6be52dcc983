"""The extra scorers the conversion model is benchmarked against.

- rule variants: BANT with another "at least k criteria" cut, and a weighted points score;
- one LightGBM on fit and intent features together (what splitting into two models costs or gains);
- a logistic regression on all features (the classic analyst's model);
- random scores (the floor).

The learned baselines follow the main models' protocol exactly: fitted on the train split only, early
stopping on the early-stopping split, calibrated on the calibration split. Test leads are never seen
until they are scored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, QuantileTransformer

from leadscore.config import LightGBMConfig
from leadscore.models.calibration import calibrate_classifier
from leadscore.models.training import train_lightgbm


def bant_points(criteria: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Weighted points score: the sum of the weights of the criteria a lead passes.

    Parameters
    ----------
    criteria : DataFrame
        One boolean column per criterion (see :func:`leadscore.models.bant.bant_criteria`).
    weights : dict
        Criterion name -> points.
    """
    missing = sorted(set(weights) - set(criteria.columns))
    if missing:
        raise KeyError(f"no BANT criterion named {missing}")
    points = sum(criteria[name].astype(float) * float(w) for name, w in weights.items())
    return pd.Series(points, index=criteria.index, name="bant_points")


def all_features_lightgbm_config(fit: LightGBMConfig, intent: LightGBMConfig) -> LightGBMConfig:
    """Hyper-parameters for the single all-features model: the fit model's, with both groups'
    monotone constraints (so it is held to the same rules as the pair it is compared with)."""
    increasing = tuple(dict.fromkeys([*fit.monotone_increasing, *intent.monotone_increasing]))
    return fit.model_copy(update={"monotone_increasing": increasing})


def train_all_features_lightgbm(
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_early_stopping: pd.DataFrame,
    y_early_stopping: pd.Series,
    X_calibration: pd.DataFrame,
    y_calibration: pd.Series,
    *,
    params: LightGBMConfig,
    early_stopping_rounds: int,
    seed: int,
    calibration_method: str,
    n_jobs: int | None = None,
    weights: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
):
    """One LightGBM on fit + intent features, trained and calibrated like the main models.

    ``weights``: per-row weights of the train, early-stopping and calibration rows (activity
    snapshots: each lead's rows sum to one, as for the fit and intent models), or None.
    """
    w_train, w_stop, w_cal = (None, None, None) if weights is None else weights
    model = train_lightgbm(
        X_train,
        y_train,
        X_early_stopping,
        y_early_stopping,
        params=params,
        early_stopping_rounds=early_stopping_rounds,
        seed=seed,
        n_jobs=n_jobs,
        sample_weight=w_train,
        eval_sample_weight=w_stop,
    )
    return calibrate_classifier(model, X_calibration, y_calibration, method=calibration_method, sample_weight=w_cal)


def _categories_as_text(X: pd.DataFrame) -> pd.DataFrame:
    # pandas Categoricals with NaN -> plain objects with an explicit "missing" level for one-hot.
    return X.astype(object).where(X.notna(), "missing")


def logistic_pipeline(X: pd.DataFrame, *, C: float = 1.0, seed: int = 0):
    """Impute, rank-transform numbers (counts and revenues are heavy-tailed), one-hot categories,
    then an L2 logistic regression. Missingness gets its own indicator columns."""
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    categorical = [c for c in X.columns if c not in numeric]
    prep = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    QuantileTransformer(n_quantiles=200, output_distribution="normal", random_state=seed),
                ),
                numeric,
            ),
            (
                "categorical",
                make_pipeline(
                    FunctionTransformer(_categories_as_text), OneHotEncoder(handle_unknown="ignore", min_frequency=20)
                ),
                categorical,
            ),
        ]
    )
    # Newton-Cholesky: a few exact steps (many more rows than columns), where lbfgs needs hundreds.
    return make_pipeline(prep, LogisticRegression(C=C, solver="newton-cholesky", max_iter=100))


def train_logistic(
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_calibration: pd.DataFrame,
    y_calibration: pd.Series,
    *,
    C: float,
    seed: int,
    calibration_method: str,
    weights: tuple[np.ndarray, np.ndarray] | None = None,
):
    """Logistic regression on all features: fitted on the train split, calibrated on the calibration split.

    ``weights``: per-row weights of the train and calibration rows (activity snapshots), or None.
    """
    w_train, w_cal = (None, None) if weights is None else weights
    model = logistic_pipeline(X_train, C=C, seed=seed).fit(
        X_train, np.asarray(y_train).astype(int), logisticregression__sample_weight=w_train
    )
    return calibrate_classifier(model, X_calibration, y_calibration, method=calibration_method, sample_weight=w_cal)


def random_scores(n: int, *, seed: int) -> np.ndarray:
    """Seeded uniform scores: the floor every scorer must beat."""
    return np.random.default_rng(seed).uniform(size=n)
