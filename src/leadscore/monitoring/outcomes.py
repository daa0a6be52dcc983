"""Outcome monitoring: once scored leads close, is the model still calibrated, still ranking, still better than BANT?

Inputs are what ``leadscore score`` writes (id, fit / intent / conversion probabilities, BANT criteria
met and qualified flag, ``scored_at``) and an outcomes table (id, won/lost). Ids are matched as text,
so ``123`` in one file meets ``"123"`` in the other. A lead scored several times (an ``append``
history) is judged on its latest score.

Verdict (params ``monitor``), in this order:

- ``too_few_outcomes``: fewer than ``min_outcomes`` matched closed leads or ``min_wins`` wins;
- ``retrain``: the ranking has decayed: AUC more than ``max_auc_drop`` below the reference AUC (the
  model's own test AUC, when given), or not above BANT's AUC on the same leads by ``min_auc_over_bant``.
  Recalibrating cannot fix the order of the leads;
- ``recalibrate``: the ranking holds but the probabilities are off: ECE above ``max_ece`` or the
  calibration-in-the-large gap (mean predicted minus observed rate) beyond ``max_calibration_gap``,
  e.g. after the base rate moved;
- ``fine`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.config import MonitorConfig
from leadscore.errors import DataValidationError
from leadscore.evaluation.benchmark import lift_by_decile
from leadscore.evaluation.metrics import binary_metrics

PROBABILITY = "conversion_probability"


def _id_text(values: pd.Series) -> pd.Series:
    """Ids as trimmed text; whole numbers stored as floats (CSV with gaps) lose their ``.0``."""
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if len(whole) and bool((whole == np.floor(whole)).all()):
            values = values.astype("Int64")
    return values.astype("string").str.strip()


def outcome_labels(
    outcomes: pd.Series, *, won_values: Sequence[Any] = ("won",), lost_values: Sequence[Any] = ("lost",)
) -> pd.Series:
    """1 for won, 0 for lost, ``<NA>`` for anything else (still open). Text is compared trimmed and
    case-folded; a boolean or 0/1 column is read as is."""
    if pd.api.types.is_bool_dtype(outcomes) or (
        pd.api.types.is_numeric_dtype(outcomes) and set(outcomes.dropna().unique()) <= {0, 1}
    ):
        return outcomes.astype("Int64")
    text = outcomes.astype("string").str.strip().str.casefold()
    won = {str(v).strip().casefold() for v in won_values}
    lost = {str(v).strip().casefold() for v in lost_values}
    label = pd.Series(pd.NA, index=outcomes.index, dtype="Int64")
    label[text.isin(won).fillna(False).to_numpy()] = 1
    label[text.isin(lost).fillna(False).to_numpy()] = 0
    return label


def join_outcomes(
    scores: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    id_column: str = "lead_id",
    outcome_column: str = "status",
    won_values: Sequence[Any] = ("won",),
    lost_values: Sequence[Any] = ("lost",),
    scores_source: str = "scores",
    outcomes_source: str = "outcomes",
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Scored leads with a known outcome: the scores' columns plus ``label`` (0/1), and the counts.

    Raises
    ------
    DataValidationError
        A required column is missing, a probability is not in [0, 1], or an id has two outcomes.
    """
    for frame, needed, source in (
        (scores, [id_column, PROBABILITY], scores_source),
        (outcomes, [id_column, outcome_column], outcomes_source),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataValidationError(
                f"{source}: missing column(s) {', '.join(missing)} (columns: {', '.join(map(str, frame.columns[:12]))})"
            )
    p = pd.to_numeric(scores[PROBABILITY], errors="coerce")
    bad = p.isna() | (p < 0) | (p > 1)
    if bad.any():
        example = scores.loc[bad, PROBABILITY].tolist()[0]
        raise DataValidationError(
            f"{scores_source}: column {PROBABILITY!r} must hold probabilities in [0, 1], got {example!r}"
        )
    scored = scores.assign(**{PROBABILITY: p.astype(float), "_id": _id_text(scores[id_column])})
    if "scored_at" in scored.columns:
        # A lead scored several times is judged on its latest score.
        scored = scored.sort_values("scored_at", kind="stable")
    n_scores = len(scored)
    scored = scored.drop_duplicates("_id", keep="last")
    closed = outcomes.assign(_id=_id_text(outcomes[id_column]))
    closed["label"] = outcome_labels(closed[outcome_column], won_values=won_values, lost_values=lost_values)
    repeated = closed["_id"][closed["_id"].duplicated()]
    if len(repeated):
        raise DataValidationError(
            f"{outcomes_source}: column {id_column!r} repeats id {repeated.iloc[0]!r}; each lead needs one outcome"
        )
    n_open = int(closed["label"].isna().sum())
    closed = closed[closed["label"].notna()]
    joined = scored.merge(closed[["_id", "label"]], on="_id", how="inner").drop(columns="_id")
    joined["label"] = joined["label"].astype(int)
    counts = {
        "score_rows": n_scores,
        "scored_leads": len(scored),
        "outcome_rows": len(outcomes),
        "outcomes_not_closed": n_open,
        "closed_outcomes": len(closed),
        "matched": len(joined),
        "closed_without_score": len(closed) - len(joined),
    }
    return joined.reset_index(drop=True), counts


def _period_table(joined: pd.DataFrame) -> list[dict[str, Any]]:
    if "scored_at" not in joined.columns:
        return []
    when = pd.to_datetime(joined["scored_at"], errors="coerce", utc=True)
    if when.isna().all():
        return []
    period = when.dt.strftime("%Y-%m")
    rows = []
    for name, group in joined.groupby(period, sort=True):
        rows.append(
            {
                "period": str(name),
                "n": len(group),
                "observed_rate": float(group["label"].mean()),
                "mean_predicted": float(group[PROBABILITY].mean()),
            }
        )
    return rows


def monitor_outcomes(
    joined: pd.DataFrame,
    *,
    config: MonitorConfig | None = None,
    reference_auc: float | None = None,
    reference_base_rate: float | None = None,
    counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Observed vs predicted by decile, ECE, AUC vs BANT, base-rate shift and a verdict.

    Parameters
    ----------
    joined : DataFrame
        From :func:`join_outcomes`: ``conversion_probability``, ``label`` and, when present,
        ``bant_criteria_met`` and ``scored_at``.
    reference_auc, reference_base_rate : float, optional
        The model's own test AUC and training-time base rate, to measure decay against.

    Returns
    -------
    dict
        ``{"verdict", "reason", "rule", "n", "wins", "observed_rate", "mean_predicted",
        "calibration_gap", "auc", "ece", "log_loss", "brier", "bant_auc", "reference_auc", "auc_change",
        "reference_base_rate", "deciles", "by_period", "counts", "thresholds"}``.
    """
    c = config or MonitorConfig()
    y = joined["label"].to_numpy(dtype=int) if len(joined) else np.array([], dtype=int)
    p = joined[PROBABILITY].to_numpy(dtype=float) if len(joined) else np.array([], dtype=float)
    n, wins = len(y), int(y.sum())
    rule = (
        f"retrain when AUC is more than {c.max_auc_drop:g} below the reference AUC or not above BANT's AUC "
        f"(margin {c.min_auc_over_bant:g}); else recalibrate when ECE > {c.max_ece:g} or "
        f"|mean predicted - observed rate| > {c.max_calibration_gap:g}; else fine "
        f"(needs {c.min_outcomes} closed leads and {c.min_wins} wins)"
    )
    out: dict[str, Any] = {
        "verdict": None,
        "reason": None,
        "rule": rule,
        "thresholds": c.model_dump(),
        "counts": counts or {},
        "n": n,
        "wins": wins,
        "observed_rate": float(y.mean()) if n else None,
        "mean_predicted": float(p.mean()) if n else None,
        "calibration_gap": float(p.mean() - y.mean()) if n else None,
        "reference_base_rate": reference_base_rate,
        "base_rate_shift": float(y.mean() - reference_base_rate) if n and reference_base_rate is not None else None,
        "reference_auc": reference_auc,
    }
    if n < c.min_outcomes or wins < c.min_wins or wins == n:
        out["verdict"] = "too_few_outcomes"
        out["reason"] = (
            f"too_few_outcomes: {n:,} closed leads with {wins:,} wins matched a score; "
            f"the verdict needs at least {c.min_outcomes:,} and {c.min_wins:,} (and some losses)"
        )
        return out
    m = binary_metrics(y, p, bins=c.ece_bins)
    out.update({k: m[k] for k in ("auc", "ece", "log_loss", "brier")})
    out["auc_change"] = m["auc"] - reference_auc if reference_auc is not None else None
    out["bant_auc"] = (
        float(roc_auc_score(y, joined["bant_criteria_met"].to_numpy(dtype=float)))
        if "bant_criteria_met" in joined.columns
        else None
    )
    out["deciles"] = lift_by_decile(y, p)
    out["by_period"] = _period_table(joined)

    gap = out["calibration_gap"]
    facts = (
        f"on {n:,} closed leads: AUC {m['auc']:.3f}"
        + (f" (reference {reference_auc:.3f})" if reference_auc is not None else "")
        + (f", BANT {out['bant_auc']:.3f}" if out["bant_auc"] is not None else "")
        + f"; ECE {m['ece']:.3f}; predicted {out['mean_predicted']:.1%} vs observed {out['observed_rate']:.1%}"
    )
    if reference_auc is not None and m["auc"] < reference_auc - c.max_auc_drop:
        verdict, why = "retrain", f"AUC dropped by {reference_auc - m['auc']:.3f} (> {c.max_auc_drop:g})"
    elif out["bant_auc"] is not None and m["auc"] <= out["bant_auc"] + c.min_auc_over_bant:
        verdict, why = "retrain", "the model ranks no better than BANT"
    elif m["ece"] > c.max_ece or abs(gap) > c.max_calibration_gap:
        verdict = "recalibrate"
        why = (
            f"the ranking holds but probabilities are off (ECE {m['ece']:.3f} vs {c.max_ece:g}, "
            f"gap {gap:+.3f} vs {c.max_calibration_gap:g})"
        )
    else:
        verdict, why = "fine", "ranking and calibration within thresholds"
    out["verdict"], out["reason"] = verdict, f"{verdict}: {why}, {facts}"
    return out


def reliability_figure(result: dict[str, Any]):
    """Observed conversion rate vs mean predicted probability per decile, with the diagonal."""
    from matplotlib.figure import Figure  # matplotlib only when a chart is asked for

    fig = Figure(figsize=(5.5, 5))
    ax = fig.add_subplot()
    deciles = result.get("deciles") or {}
    predicted = [d["mean_predicted"] for d in deciles.values()]
    observed = [d["rate"] for d in deciles.values()]
    top = max([*predicted, *observed, 0.05]) * 1.1
    ax.plot([0, top], [0, top], color="#999999", ls="--", lw=1, label="perfect calibration")
    if predicted:
        ax.plot(predicted, observed, "o-", color="#1f4e9c", lw=2, label=f"deciles (ECE {result['ece']:.3f})")
        for name, d in deciles.items():
            ax.annotate(name, (d["mean_predicted"], d["rate"]), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("mean predicted conversion probability")
    ax.set_ylabel("observed conversion rate")
    ax.set_title(f"Outcomes of scored leads: {result['verdict']}", loc="left")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def reliability_png(result: dict[str, Any]) -> bytes:
    """:func:`reliability_figure` as PNG bytes."""
    import io

    buffer = io.BytesIO()
    reliability_figure(result).savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()
