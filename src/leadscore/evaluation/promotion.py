"""Champion vs challenger on the same leads: the promotion decision.

Comparing each model's log loss on *its own* test split compares different exams: after a month of
new data the splits hold different leads with a different base rate, and a worse model trained on an
easier month wins. Here both models score exactly the same rows (the challenger's test split) and are
compared on log loss, AUC, ECE and the capacity measure (conversions among as many leads as BANT
qualifies), with paired bootstrap intervals of the differences.

Gate (params ``promotion``), in this order:

1. the champion could not score the rows (``p_champion is None``): ``manual``, with the reason;
2. challenger log loss above the champion's by more than ``max_log_loss_increase``: ``kept``;
3. challenger AUC below the champion's by more than ``max_auc_drop``: ``kept``;
4. ``require_beats_bant`` and the challenger does not beat BANT (AUC above BANT's criteria-met AUC
   and more conversions at BANT's volume than BANT): ``kept``;
5. otherwise ``promoted``.

The gate reads point estimates; the intervals are reported so a person can see how sure it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from leadscore.config import PromotionConfig
from leadscore.errors import DataValidationError
from leadscore.evaluation.bootstrap import METRICS, bootstrap_metrics, percentile_interval
from leadscore.evaluation.metrics import binary_metrics, capacity_at_volume, rate_by_level


def _model_metrics(y: np.ndarray, p: np.ndarray, *, volume: int, bant_wins: int, bins: int) -> dict[str, Any]:
    m: dict[str, Any] = binary_metrics(y, p, bins=bins)
    wins = capacity_at_volume(y, p, volume)
    m["conversions_at_bant_volume"] = wins
    m["capacity_ratio"] = float(wins / bant_wins) if bant_wins else None
    return m


def _check(name: str, values: np.ndarray, n: int) -> np.ndarray:
    values = np.asarray(values)
    if values.shape != (n,):
        raise DataValidationError(f"promotion: {name} has {values.shape[0] if values.ndim else 0} rows, y has {n}")
    return values


def compare_champion_challenger(
    y: np.ndarray,
    p_challenger: np.ndarray,
    p_champion: np.ndarray | None,
    bant_criteria_met: np.ndarray,
    bant_qualified: np.ndarray,
    *,
    config: PromotionConfig | None = None,
    champion_version: str | None = None,
    challenger_version: str | None = None,
    champion_error: str | None = None,
) -> dict[str, Any]:
    """Decide whether the challenger replaces the champion, from both models' scores on the same rows.

    Parameters
    ----------
    y : array of 0/1
        Outcomes of the rows both models scored (the challenger's test split).
    p_challenger, p_champion : arrays
        Conversion probabilities on those rows; ``p_champion`` None when the champion could not score
        them (say why in ``champion_error``): the decision is then ``manual``.
    bant_criteria_met, bant_qualified : arrays
        BANT's score (criteria met) and flag on the same rows.
    config : PromotionConfig
        The gate (params ``promotion``).

    Returns
    -------
    dict
        ``{"decision": "promoted" | "kept" | "manual", "reason", "champion_version", "challenger_version",
        "rows_compared", "gate", "challenger": {metrics}, "champion": {metrics} | None, "bant": {...},
        "differences": {metric: {"estimate", "low", "high"}} (challenger minus champion)}``.
    """
    config = config or PromotionConfig()
    y = np.asarray(y, dtype=int)
    n = len(y)
    if n == 0 or y.min() == y.max():
        raise DataValidationError(f"promotion: need rows with both outcomes to compare models, got {n} rows")
    p_challenger = _check("p_challenger", p_challenger, n).astype(float)
    met = _check("bant_criteria_met", bant_criteria_met, n).astype(float)
    qualified = _check("bant_qualified", bant_qualified, n).astype(bool)
    bins = config.ece_bins
    volume, bant_wins = int(qualified.sum()), int(y[qualified].sum())
    bant = {
        "auc": float(roc_auc_score(y, met)),
        "volume": volume,
        "conversions": bant_wins,
    }
    challenger = _model_metrics(y, p_challenger, volume=volume, bant_wins=bant_wins, bins=bins)
    beats_bant = challenger["auc"] > bant["auc"] and challenger["conversions_at_bant_volume"] > bant_wins
    out: dict[str, Any] = {
        "decision": None,
        "reason": None,
        "champion_version": champion_version,
        "challenger_version": challenger_version,
        "rows_compared": n,
        "gate": config.model_dump(),
        "challenger": {**challenger, "beats_bant": bool(beats_bant)},
        "champion": None,
        "bant": bant,
        "differences": {},
    }
    rows = f"on the same {n:,} leads"
    if p_champion is None:
        out["decision"] = "manual"
        why = champion_error or "the champion could not score these leads"
        out["reason"] = (
            f"manual: {why}; challenger log loss {challenger['log_loss']:.4f}, AUC {challenger['auc']:.3f} {rows} "
            "(promote it by hand if that is expected)"
        )
        return out

    p_champion = _check("p_champion", p_champion, n).astype(float)
    champion = _model_metrics(y, p_champion, volume=volume, bant_wins=bant_wins, bins=bins)
    out["champion"] = {
        **champion,
        "beats_bant": bool(champion["auc"] > bant["auc"] and champion["conversions_at_bant_volume"] > bant_wins),
    }
    b = config.bootstrap
    # BANT joins the paired resamples for its AUC; its probability (rate per level, in-sample) is unused.
    draws = bootstrap_metrics(
        y,
        {
            "challenger": (p_challenger, p_challenger),
            "champion": (p_champion, p_champion),
            "bant": (met, rate_by_level(met, y, met)),
        },
        n_resamples=b.n,
        seed=b.seed,
        bins=bins,
    )
    out["differences"] = {
        m: {
            "estimate": challenger[m] - champion[m],
            **percentile_interval(draws["challenger"][m] - draws["champion"][m], level=b.level),
        }
        for m in METRICS
    }
    out["differences"]["conversions_at_bant_volume"] = {
        "estimate": challenger["conversions_at_bant_volume"] - champion["conversions_at_bant_volume"]
    }
    out["bant"]["challenger_auc_minus_bant"] = {
        "estimate": challenger["auc"] - bant["auc"],
        **percentile_interval(draws["challenger"]["auc"] - draws["bant"]["auc"], level=b.level),
    }
    out["bootstrap"] = {"n": b.n, "seed": b.seed, "level": b.level}

    d_loss = challenger["log_loss"] - champion["log_loss"]
    d_auc = challenger["auc"] - champion["auc"]
    losses = f"challenger log loss {challenger['log_loss']:.4f} vs champion {champion['log_loss']:.4f} {rows}"
    aucs = f"challenger AUC {challenger['auc']:.4f} vs champion {champion['auc']:.4f} {rows}"
    if d_loss > config.max_log_loss_increase:
        decision, reason = "kept", f"{losses} ({d_loss:+.4f} > margin {config.max_log_loss_increase:g})"
    elif -d_auc > config.max_auc_drop:
        decision, reason = "kept", f"{aucs} ({d_auc:+.4f}, a drop beyond {config.max_auc_drop:g})"
    elif config.require_beats_bant and not beats_bant:
        decision = "kept"
        reason = (
            f"challenger does not beat BANT {rows}: AUC {challenger['auc']:.4f} vs BANT {bant['auc']:.4f}, "
            f"{challenger['conversions_at_bant_volume']:,} vs BANT's {bant_wins:,} conversions "
            f"at BANT's volume ({volume:,})"
        )
    else:
        decision = "promoted"
        reason = (
            f"{losses} ({d_loss:+.4f}, within margin {config.max_log_loss_increase:g}); "
            f"AUC {challenger['auc']:.4f} vs {champion['auc']:.4f} ({d_auc:+.4f})"
        )
    out["decision"], out["reason"] = decision, f"{decision}: {reason}"
    return out
