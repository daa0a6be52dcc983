"""Tuning a group's LightGBM parameters on time-ordered folds inside the train split (params ``train.tune``).

The hand-set parameters in params fit one generator; another CRM wants other leaves, leaf sizes and
sampling. :func:`tune_lightgbm` searches them with Optuna's TPE sampler, seeded, one trial at a time,
scoring each candidate by its log loss on time-ordered folds of the **train period only** (the train
and early-stopping splits): calibration and test leads are dropped before any fold is cut, so neither
the calibration map nor the test figures ever see a tuned choice made on them.

Folds (expanding window, as the pipeline itself trains on the past and is judged on the future): the
train period in time order, its later half cut into ``n_folds`` consecutive validation blocks; fold
``k`` trains on every lead before its block, early-stopped on the most recent ``early_stopping_share``
of those (as the final model is), and is scored on the block. The objective is the mean of the folds'
log losses. Trial 0 is the configured parameters, so the report always says what tuning gained over
them, and the best trial is never worse than the configuration on the folds.

Deterministic: the sampler is seeded, trials run one after another, and LightGBM runs with
``deterministic=True`` (see :func:`~leadscore.models.training.train_lightgbm`), so the same data,
seed and trial count give the same parameters. A ``timeout_seconds`` that stops the search before
``n_trials`` makes the count depend on the machine's speed; the result says when that happened.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
from scipy.special import expit
from sklearn.metrics import log_loss

from leadscore.config import LightGBMConfig, TuneConfig
from leadscore.data.outcomes import TRAINING_SPLITS
from leadscore.errors import DataValidationError
from leadscore.models.training import train_lightgbm

# What is searched: name -> (low, high, integer, log scale). n_estimators is not: early stopping picks
# the number of trees in every fold and in the final model. monotone_increasing is kept as configured.
SEARCH_SPACE: dict[str, tuple[float, float, bool, bool]] = {
    "learning_rate": (0.01, 0.2, False, True),
    "num_leaves": (4, 64, True, True),
    "min_child_samples": (5, 500, True, True),
    "subsample": (0.5, 1.0, False, False),
    "colsample_bytree": (0.3, 1.0, False, False),
    "reg_lambda": (1e-3, 100.0, False, True),
}


@dataclass(frozen=True)
class Fold:
    """One time-ordered fold: index labels of the rows it trains on, early-stops on and is scored on."""

    fit: pd.Index
    stop: pd.Index
    valid: pd.Index


@dataclass(frozen=True)
class TuningResult:
    """The search: the best parameters, the configured ones' score (trial 0) and every trial.

    ``config`` is the configuration with the best parameters in place: what the final model trains with.
    """

    config: LightGBMConfig
    best_params: dict[str, Any]
    best_value: float
    best_trial: int
    configured_value: float
    trials: list[dict[str, Any]]
    folds: list[dict[str, Any]]
    n_trials: int
    timed_out: bool
    seconds: float
    seed: int
    search_space: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able report (the ``reports/tuning_<group>.json`` body, without the group)."""
        return {
            "enabled": True,
            "objective": "mean log loss over time-ordered folds of the train split (uncalibrated model)",
            "seed": self.seed,
            "n_trials_requested": self.n_trials,
            "n_trials_completed": len(self.trials),
            "timed_out": self.timed_out,
            "seconds": round(self.seconds, 2),
            "best_trial": self.best_trial,
            "best_log_loss": self.best_value,
            "configured_log_loss": self.configured_value,
            "improvement": self.configured_value - self.best_value,
            "best_params": self.best_params,
            "params": self.config.model_dump(mode="json"),
            "search_space": self.search_space,
            "folds": self.folds,
            "trials": self.trials,
        }


def time_folds(
    order: pd.Series, *, n_folds: int, early_stopping_share: float, initial_share: float = 0.5
) -> list[Fold]:
    """Expanding-window folds over rows in time order (``order``: sortable time per row, index = rows).

    The later ``1 - initial_share`` of the rows is cut into ``n_folds`` consecutive validation blocks;
    fold ``k`` trains on every row before its block, its most recent ``early_stopping_share`` held out
    for early stopping. Ties in time keep the rows' given order.
    """
    ranked = order.index[np.argsort(order.to_numpy(), kind="stable")]
    n = len(ranked)
    edges = [round(n * (initial_share + (1 - initial_share) * k / n_folds)) for k in range(n_folds + 1)]
    folds = []
    for start, end in itertools.pairwise(edges):
        n_stop = max(1, round(early_stopping_share * start))
        folds.append(Fold(fit=ranked[: start - n_stop], stop=ranked[start - n_stop : start], valid=ranked[start:end]))
    return folds


def _check_folds(folds: list[Fold], y: pd.Series, n_folds: int) -> None:
    for k, fold in enumerate(folds, start=1):
        for part in ("fit", "stop", "valid"):
            rows = getattr(fold, part)
            classes = sorted(y.loc[rows].unique().tolist())
            if len(rows) == 0 or len(classes) < 2:
                what = {"fit": "training rows", "stop": "early-stopping rows", "valid": "validation block"}[part]
                raise DataValidationError(
                    f"params train.tune.n_folds {n_folds}: fold {k}'s {what} hold {len(rows)} leads with outcome "
                    f"classes {classes}; the train split is too small or one-sided for that many folds (lower "
                    "train.tune.n_folds, or turn tuning off)"
                )


def _space(base: LightGBMConfig) -> dict[str, tuple[float, float, bool, bool]]:
    """The search ranges, widened to include the configured values (trial 0 must lie inside them)."""
    space = {}
    for name, (low, high, integer, log) in SEARCH_SPACE.items():
        value = getattr(base, name)
        if not (log and value <= 0):  # reg_lambda 0 cannot sit on a log scale: trial 0 uses the low end
            low, high = min(low, value), max(high, value)
        space[name] = (low, high, integer, log)
    return space


def _configured(base: LightGBMConfig, space: dict[str, tuple[float, float, bool, bool]]) -> dict[str, Any]:
    return {name: min(max(getattr(base, name), low), high) for name, (low, high, _, _) in space.items()}


def tune_lightgbm(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    splits: pd.Series,
    order: pd.Series,
    base: LightGBMConfig,
    tune: TuneConfig,
    early_stopping_rounds: int,
    early_stopping_share: float,
    seed: int,
    offset: np.ndarray | Callable[[Fold], np.ndarray] | None = None,
    on_trial: Callable[[int, float, float], None] | None = None,
) -> TuningResult:
    """Search ``base``'s LightGBM parameters on time-ordered folds of the train period.

    Parameters
    ----------
    X, y : DataFrame, Series
        Features and 0/1 labels of one group, every split (row-aligned, same index).
    splits : Series
        Split name per row: only the train and early-stopping rows (the train period) are used;
        calibration, test and open rows are dropped before the folds are cut.
    order : Series
        Time per row (dates, or numbers read as an order): the folds follow it.
    base : LightGBMConfig
        The configured parameters: trial 0, and everything the search leaves alone.
    tune : TuneConfig
        ``n_trials``, ``timeout_seconds``, ``seed`` (the sampler's) and ``n_folds``.
    early_stopping_rounds, seed : int
        As for the final model (``seed`` is LightGBM's).
    early_stopping_share : float
        Share of each fold's training rows (its most recent) held out for early stopping.
    offset : ndarray or callable, optional
        Log-odds per row (row-aligned with ``X``) every model boosts from and is scored with
        (params ``train.intent_given_fit``: the fit model's); None: none. A callable is asked once per
        fold for that fold's log-odds (a :class:`Fold` in, an array row-aligned with ``X`` out): an
        offset learned on the fold's training rows only, so no fold is scored with an offset that saw
        its validation block's outcomes.
    on_trial : callable, optional
        Called after each trial with (trial number, its log loss, the best so far): progress.

    Raises
    ------
    DataValidationError
        If a fold's training, early-stopping or validation rows lack either outcome class.
    """
    period = pd.Series(splits, index=X.index).isin(TRAINING_SPLITS).to_numpy()
    X_period, y_period = X[period], pd.Series(y, index=X.index)[period].astype(int)
    folds = time_folds(
        pd.Series(order, index=X.index)[period], n_folds=tune.n_folds, early_stopping_share=early_stopping_share
    )
    _check_folds(folds, y_period, tune.n_folds)
    # Each fold's log-odds to boost from, computed once (not per trial).
    margins = [
        pd.Series(
            0.0 if offset is None else np.asarray(offset(fold) if callable(offset) else offset, dtype=float),
            index=X.index,
        )[period]
        for fold in folds
    ]
    space = _space(base)

    def objective(trial: optuna.Trial) -> float:
        chosen: dict[str, Any] = {}
        for name, (low, high, integer, log) in space.items():
            if integer:
                chosen[name] = trial.suggest_int(name, int(low), int(high), log=log)
            else:
                chosen[name] = trial.suggest_float(name, float(low), float(high), log=log)
        config = base.model_copy(update=chosen)
        losses, trees = [], []
        for fold, base_margin in zip(folds, margins, strict=True):
            model = train_lightgbm(
                X_period.loc[fold.fit],
                y_period.loc[fold.fit],
                X_period.loc[fold.stop],
                y_period.loc[fold.stop],
                params=config,
                early_stopping_rounds=early_stopping_rounds,
                seed=seed,
                n_jobs=1,  # many small fits: one thread each is faster than sharing two (see train_lightgbm)
                init_score=None if offset is None else base_margin.loc[fold.fit].to_numpy(),
                eval_init_score=None if offset is None else base_margin.loc[fold.stop].to_numpy(),
            )
            margin = np.asarray(model.predict(X_period.loc[fold.valid], raw_score=True), dtype=float)
            p = expit(margin + base_margin.loc[fold.valid].to_numpy())
            losses.append(float(log_loss(y_period.loc[fold.valid], p, labels=[0, 1])))
            trees.append(int(model.best_iteration_ or model.n_estimators))
        trial.set_user_attr("fold_log_losses", losses)
        trial.set_user_attr("fold_trees", trees)
        return float(np.mean(losses))

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial otherwise
    try:
        study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=tune.seed))
        study.enqueue_trial(_configured(base, space))
        callbacks = []
        if on_trial is not None:
            callbacks.append(lambda s, t: on_trial(t.number, float(t.value), float(s.best_value)))
        start = time.perf_counter()
        study.optimize(objective, n_trials=tune.n_trials, timeout=tune.timeout_seconds, n_jobs=1, callbacks=callbacks)
        seconds = time.perf_counter() - start
    finally:
        optuna.logging.set_verbosity(verbosity)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = study.best_trial
    best_params = {name: best.params[name] for name in space}
    trials = [
        {
            "number": t.number,
            "log_loss": float(t.value),  # type: ignore[arg-type]
            "params": dict(t.params),
            "fold_log_losses": t.user_attrs["fold_log_losses"],
            "fold_trees": t.user_attrs["fold_trees"],
            "seconds": round(t.duration.total_seconds(), 3) if t.duration else None,
        }
        for t in done
    ]
    fold_rows = [
        {"fold": k, "train": len(f.fit), "early_stopping": len(f.stop), "validation": len(f.valid)}
        for k, f in enumerate(folds, start=1)
    ]
    return TuningResult(
        config=base.model_copy(update=best_params),
        best_params=best_params,
        best_value=float(best.value),  # type: ignore[arg-type]
        best_trial=best.number,
        configured_value=float(done[0].value) if done and done[0].number == 0 else math.nan,  # type: ignore[arg-type]
        trials=trials,
        folds=fold_rows,
        n_trials=tune.n_trials,
        timed_out=len(study.trials) < tune.n_trials,
        seconds=seconds,
        seed=tune.seed,
        search_space={k: {"low": lo, "high": hi, "log": log} for k, (lo, hi, _, log) in space.items()},
    )
