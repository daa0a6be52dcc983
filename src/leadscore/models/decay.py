"""Choosing how fast intent decays: count windows and half-lives picked on the calibration split.

Commercial tools hand-set a decay; here each candidate set of windows and half-lives gets a cheap
model (a small LightGBM) fitted on the train split's snapshots, scored by weighted log loss on the
calibration split, and the best set wins. The test split is never read: rows of any other split are
ignored. The table of scores goes to the report.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score

from leadscore.data.outcomes import CALIBRATION, TRAIN
from leadscore.errors import DataValidationError
from leadscore.features.activity import ANY, LEAD_AGE, decay_column, type_slug, window_column


@dataclass(frozen=True)
class DecayChoice:
    """The chosen windows and half-lives, and every candidate's scores (one row per candidate)."""

    windows_days: tuple[float, ...]
    half_lives_days: tuple[float, ...]
    table: pd.DataFrame


def candidate_columns(
    types: Sequence[str], windows_days: Sequence[float], half_lives_days: Sequence[float], *, include_any: bool = True
) -> list[str]:
    """Feature columns one candidate uses: its windows and half-lives, plus recency, momentum, lead age."""
    slugs = [type_slug(t) for t in types] + ([ANY] if include_any else [])
    cols: list[str] = []
    for slug in slugs:
        cols += [window_column(slug, w) for w in windows_days]
        cols += [decay_column(slug, h) for h in half_lives_days]
        cols += [f"days_since_{slug}", f"momentum_{slug}"]
    return [*cols, LEAD_AGE]


def choose_decay(
    features: pd.DataFrame,
    *,
    labels: pd.Series,
    splits: pd.Series,
    types: Sequence[str],
    window_sets: Sequence[Sequence[float]],
    half_life_sets: Sequence[Sequence[float]],
    weights: pd.Series | None = None,
    extra_columns: Sequence[str] = (),
    seed: int = 42,
    n_estimators: int = 100,
    n_jobs: int = 1,
) -> DecayChoice:
    """Pick the windows x half-lives candidate with the lowest calibration-split log loss.

    Parameters
    ----------
    features : DataFrame
        Point-in-time features of the snapshots, computed once with every window and half-life of the
        candidates (the union), row-aligned with ``labels``, ``splits`` and ``weights``.
    labels : Series
        1.0 won / 0.0 lost per snapshot.
    splits : Series
        Split name per snapshot (by lead): only ``"train"`` rows are fitted on and only
        ``"calibration"`` rows are scored; any other split (test, open) is ignored.
    window_sets, half_life_sets : sequences of sequences of float
        Candidates; every combination of one window set and one half-life set is tried.
    weights : Series, optional
        Per-snapshot weights (each lead's examples summing to one); default 1.
    extra_columns : sequence of str
        Columns every candidate uses as well (e.g. fit features).
    n_estimators, n_jobs : int
        Size and threads of each candidate's LightGBM (one thread: the fits are small, and two
        threads were 4x slower than one on a busy 2-core machine).

    Returns
    -------
    DecayChoice
        The winner and a table with columns candidate, windows_days, half_lives_days, n_features,
        train_log_loss, calibration_log_loss, calibration_auc, chosen (best first). Ties go to the
        candidate with fewer features, then to the earlier one.

    Raises
    ------
    DataValidationError
        If a needed feature column is missing, or the train or calibration split lacks either class.
    """
    if not window_sets or not half_life_sets:
        raise DataValidationError("choose_decay: give at least one window set and one half-life set")
    w = pd.Series(1.0, index=features.index) if weights is None else pd.Series(weights, index=features.index)
    y = pd.Series(labels, index=features.index).astype(float)
    split = pd.Series(splits, index=features.index)
    train, cal = (split == TRAIN).to_numpy(), (split == CALIBRATION).to_numpy()
    for name, mask in (("train", train), ("calibration", cal)):
        values = y[mask]
        if values.isna().any() or values.nunique() < 2:
            raise DataValidationError(
                f"choose_decay: the {name} split needs won and lost snapshots with labels, "
                f"got {int(mask.sum())} rows with classes {sorted(values.dropna().unique().tolist())}"
            )
    rows = []
    for order, (windows, half_lives) in enumerate(itertools.product(window_sets, half_life_sets)):
        cols = [*candidate_columns(types, windows, half_lives), *extra_columns]
        missing = [c for c in cols if c not in features.columns]
        if missing:
            raise DataValidationError(
                f"choose_decay: feature columns {missing[:5]} missing; compute the features with every "
                "candidate window and half-life"
            )
        model = lgb.LGBMClassifier(
            n_estimators=n_estimators,
            learning_rate=0.05,
            num_leaves=15,
            min_child_samples=50,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=seed,
            n_jobs=n_jobs,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )
        model.fit(features.loc[train, cols], y[train], sample_weight=w[train].to_numpy())
        p_train = np.asarray(model.predict_proba(features.loc[train, cols]))[:, 1]
        p_cal = np.asarray(model.predict_proba(features.loc[cal, cols]))[:, 1]
        rows.append(
            {
                "candidate": f"windows {'/'.join(f'{v:g}' for v in windows)} d; half-lives "
                f"{'/'.join(f'{v:g}' for v in half_lives)} d",
                "windows_days": tuple(float(v) for v in windows),
                "half_lives_days": tuple(float(v) for v in half_lives),
                "n_features": len(cols),
                "train_log_loss": float(log_loss(y[train], p_train, sample_weight=w[train], labels=[0, 1])),
                "calibration_log_loss": float(log_loss(y[cal], p_cal, sample_weight=w[cal], labels=[0, 1])),
                "calibration_auc": float(roc_auc_score(y[cal], p_cal, sample_weight=w[cal])),
                "_order": order,
            }
        )
    table = pd.DataFrame(rows).sort_values(["calibration_log_loss", "n_features", "_order"], kind="stable")
    table = table.drop(columns="_order").reset_index(drop=True)
    table["chosen"] = table.index == 0
    best = table.iloc[0]
    return DecayChoice(tuple(best["windows_days"]), tuple(best["half_lives_days"]), table)
