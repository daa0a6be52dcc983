"""Quality metrics for probabilistic and rule-based lead scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score, roc_curve


def expected_calibration_error(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> float:
    """ECE with equal-width probability bins: sum over bins of share * |observed rate - mean predicted|."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    sum_p = np.bincount(which, weights=p, minlength=bins)
    sum_y = np.bincount(which, weights=y, minlength=bins)
    used = counts > 0
    return float(np.sum(np.abs(sum_y[used] - sum_p[used])) / len(y))


def binary_metrics(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> dict[str, float]:
    """AUC, PR-AUC, log loss, Brier score and ECE of probabilities ``p`` against 0/1 outcomes ``y``."""
    y, p = np.asarray(y, dtype=int), np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return {
        "auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p, bins=bins),
    }


def rate_by_level(
    levels_fit: np.ndarray, y_fit: np.ndarray, levels: np.ndarray, *, prior_weight: float = 1.0
) -> np.ndarray:
    """Map a discrete score (e.g. BANT criteria met, 0-4) to probabilities: the observed conversion
    rate of each level on a fitting split, lightly smoothed towards the overall rate.

    This turns a rule into a calibrated probability so it can be judged on log loss, Brier and ECE on
    the same footing as the model (the fairest reading of the rule, learned on the calibration split).
    """
    overall = float(np.mean(y_fit))
    frame = pd.DataFrame({"level": levels_fit, "y": y_fit}).groupby("level")["y"].agg(["sum", "count"])
    rates = (frame["sum"] + prior_weight * overall) / (frame["count"] + prior_weight)
    return pd.Series(levels).map(rates).fillna(overall).to_numpy(dtype=float)


def capacity_at_volume(y: np.ndarray, scores: np.ndarray, volume: int) -> int:
    """Conversions among the ``volume`` highest-scored leads (ties broken by position)."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    return int(np.asarray(y)[order[:volume]].sum())


def roc_points(y: np.ndarray, p: np.ndarray, *, max_points: int = 200) -> pd.DataFrame:
    fpr, tpr, _ = roc_curve(y, p)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(max_points, len(fpr))).astype(int))
    return pd.DataFrame({"fpr": fpr[keep], "tpr": tpr[keep]})


def expected_cumulative_conversions(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``out[k]``: expected conversions among the ``k`` best-scored leads, ``k = 0..n``.

    Ties are worked in random order, so within a block of equal scores conversions accrue at the
    block's average rate: a rule that qualifies 3,000 leads but is asked for 2,500 gets 2,500 times
    its qualified rate, not whatever the file order happens to give.
    """
    y = np.asarray(y, dtype=float)
    s = np.asarray(scores, dtype=float)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    sizes = np.diff(np.r_[starts, len(s)])
    block_rate = np.add.reduceat(y_sorted, starts) / sizes if len(s) else np.array([])
    per_lead = np.repeat(block_rate, sizes)
    return np.r_[0.0, np.cumsum(per_lead)]


def gains_points(y: np.ndarray, p: np.ndarray, *, points: int = 100) -> pd.DataFrame:
    """Cumulative share of conversions captured vs share of leads worked, best-scored first
    (ties worked in random order, see :func:`expected_cumulative_conversions`)."""
    y = np.asarray(y, dtype=float)
    captured = expected_cumulative_conversions(y, p)[1:] / max(y.sum(), 1)
    at = np.unique(np.linspace(1, len(y), points).astype(int))
    return pd.DataFrame({"share_of_leads": at / len(y), "share_of_conversions": captured[at - 1]})


def calibration_points(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Reliability diagram points: mean predicted vs observed rate per equal-width bin."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    frame = (
        pd.DataFrame({"bin": which, "p": p, "y": y})
        .groupby("bin")
        .agg(mean_predicted=("p", "mean"), observed_rate=("y", "mean"), n=("y", "size"))
    )
    return frame.reset_index(drop=True)
