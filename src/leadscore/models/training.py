"""Training one LightGBM binary model on one feature group (fit or intent)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.config import LightGBMConfig
from leadscore.errors import DataValidationError


def monotone_constraints(feature_names: list[str], increasing: tuple[str, ...]) -> list[int]:
    """LightGBM constraint vector: +1 for features whose effect must never be negative."""
    unknown = sorted(set(increasing) - set(feature_names))
    if unknown:
        raise DataValidationError(
            f"params train.*.monotone_increasing lists {unknown}, which are not features of this model "
            f"(features: {feature_names})"
        )
    return [1 if name in increasing else 0 for name in feature_names]


def train_lightgbm(
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_early_stopping: pd.DataFrame,
    y_early_stopping: pd.Series,
    *,
    params: LightGBMConfig,
    early_stopping_rounds: int,
    seed: int,
    n_jobs: int | None = None,
    sample_weight: np.ndarray | None = None,
    eval_sample_weight: np.ndarray | None = None,
    init_score: np.ndarray | None = None,
    eval_init_score: np.ndarray | None = None,
) -> lgb.LGBMClassifier:
    """Fit a LightGBM classifier with early stopping on a held-out slice of the training period.

    The early-stopping slice must come from the training period: stopping on calibration or test
    leads would leak them into model selection. ``n_jobs``: LightGBM threads (None: LightGBM's
    default, all cores; params ``train.n_jobs``); the tuning search fits many small models with one
    thread each, which on a busy 2-core machine was 2-15x faster than two. ``sample_weight`` /
    ``eval_sample_weight``: per-row weights (activity snapshots: each lead's rows sum to one); None
    weighs every row one. ``init_score`` / ``eval_init_score``: per-row log-odds the model boosts
    from (params ``train.intent_given_fit``: the fit model's); the model's own output then excludes
    them. None: LightGBM starts from the base rate.
    """
    for name, y in (("training", y_train), ("early-stopping", y_early_stopping)):
        if y.nunique() < 2:
            raise DataValidationError(f"the {name} split has only one outcome class; cannot train")
    model = lgb.LGBMClassifier(
        objective="binary",
        n_estimators=params.n_estimators,
        learning_rate=params.learning_rate,
        num_leaves=params.num_leaves,
        min_child_samples=params.min_child_samples,
        subsample=params.subsample,
        subsample_freq=1,
        colsample_bytree=params.colsample_bytree,
        reg_lambda=params.reg_lambda,
        monotone_constraints=monotone_constraints(list(X_train.columns), params.monotone_increasing),
        random_state=seed,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
        n_jobs=n_jobs,
    )
    model.fit(
        X_train,
        y_train.astype(np.int8),
        eval_X=X_early_stopping,
        eval_y=y_early_stopping.astype(np.int8),
        sample_weight=sample_weight,
        eval_sample_weight=None if eval_sample_weight is None else [eval_sample_weight],
        init_score=init_score,
        eval_init_score=None if eval_init_score is None else [eval_init_score],
        eval_metric="binary_logloss",
        callbacks=[lgb.early_stopping(early_stopping_rounds, verbose=False)],
    )
    return model


@contextlib.contextmanager
def lightgbm_threads(n_jobs: int | None) -> Iterator[None]:
    """Cap the OpenMP threads LightGBM predicts with inside the block (params ``train.n_jobs``).

    A Booster read from its text model predicts on every core; on cores shared with other work the
    extra threads mostly wait (see params ``train.n_jobs``). None: no cap.
    """
    if n_jobs is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_jobs, user_api="openmp"):
        yield
