"""Bootstrap confidence intervals for AUC, PR-AUC, log loss, Brier and ECE, vectorised.

A resample of the test leads is a vector of multinomial counts (how often each lead is drawn); every
metric is then a weighted metric, computed for all resamples at once with one matrix per scorer. The
same resamples are used for every scorer (a paired bootstrap), so differences between scorers get
intervals too.
"""

from __future__ import annotations

import numpy as np

METRICS = ("auc", "pr_auc", "log_loss", "brier", "ece")
_CLIP = 1e-6  # as in metrics.binary_metrics


def resample_counts(n: int, *, n_resamples: int, seed: int) -> np.ndarray:
    """``(n_resamples, n)`` counts: row b says how many times each lead is drawn in resample b."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float64)


def weighted_metrics(
    y: np.ndarray, ranking: np.ndarray, probability: np.ndarray, weights: np.ndarray, *, bins: int = 10
) -> dict[str, np.ndarray]:
    """Each metric for each row of ``weights`` (shape ``(B, n)``); ties in ``ranking`` count half, as in scikit-learn.

    With ``weights`` all ones this equals :func:`leadscore.evaluation.metrics.binary_metrics`
    (AUC and PR-AUC from ``ranking``, the rest from ``probability``).
    """
    y = np.asarray(y, dtype=np.float64)
    W = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    # Ranking metrics: group leads by distinct score, ascending.
    order = np.argsort(np.asarray(ranking, dtype=np.float64), kind="stable")
    sorted_scores = np.asarray(ranking, dtype=np.float64)[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    Ws = W[:, order]
    pos = np.add.reduceat(Ws * y[order], starts, axis=1)
    neg = np.add.reduceat(Ws * (1.0 - y[order]), starts, axis=1)
    P, N = pos.sum(axis=1), neg.sum(axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.sum(pos * (neg_below + 0.5 * neg), axis=1) / (P * N)
        # Average precision: thresholds from the highest score down.
        tp = np.cumsum(pos[:, ::-1], axis=1)
        fp = np.cumsum(neg[:, ::-1], axis=1)
        precision = np.where(tp + fp > 0, tp / np.where(tp + fp > 0, tp + fp, 1.0), 0.0)
        pr_auc = np.sum(pos[:, ::-1] * precision, axis=1) / P
    # Probability metrics.
    p = np.clip(np.asarray(probability, dtype=np.float64), _CLIP, 1 - _CLIP)
    total = W.sum(axis=1)
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    which = np.minimum((p * bins).astype(int), bins - 1)
    onehot = np.zeros((len(p), bins))
    onehot[np.arange(len(p)), which] = 1.0
    gap = np.abs(W @ (onehot * y[:, None]) - W @ (onehot * p[:, None]))
    return {
        "auc": auc,
        "pr_auc": pr_auc,
        "log_loss": W @ loss / total,
        "brier": W @ (p - y) ** 2 / total,
        "ece": gap.sum(axis=1) / total,
    }


def bootstrap_metrics(
    y: np.ndarray,
    scorers: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    n_resamples: int,
    seed: int,
    bins: int = 10,
) -> dict[str, dict[str, np.ndarray]]:
    """Per scorer (name -> ``(ranking, probability)``), each metric on every resample (paired)."""
    W = resample_counts(len(y), n_resamples=n_resamples, seed=seed)
    return {name: weighted_metrics(y, r, p, W, bins=bins) for name, (r, p) in scorers.items()}


def percentile_interval(values: np.ndarray, *, level: float) -> dict[str, float]:
    """``{"low", "high"}``: the central ``level`` percentile interval (NaN resamples ignored)."""
    tail = (1 - level) / 2
    low, high = np.nanquantile(np.asarray(values, dtype=float), [tail, 1 - tail])
    return {"low": float(low), "high": float(high)}
