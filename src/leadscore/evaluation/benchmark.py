"""Model versus BANT versus the oracle, on the test split: the numbers behind reports/metrics.json."""

from __future__ import annotations

import pandas as pd

from leadscore.evaluation.metrics import (
    binary_metrics,
    calibration_points,
    capacity_at_volume,
    gains_points,
    rate_by_level,
    roc_points,
)
from leadscore.models.calibration import QUADRANTS

# Scorer name -> column of the scored frame holding its probability.
PROBABILITY_COLUMNS = {
    "fit": "fit_probability",
    "intent": "intent_probability",
    "conversion": "conversion_probability",
    "bant": "bant_probability",
    "oracle": "true_p",
}


def add_bant_probability(test: pd.DataFrame, calibration: pd.DataFrame) -> pd.DataFrame:
    """BANT's criteria count (0-4) read as a probability: the calibration split's rate per count."""
    test = test.copy()
    test["bant_probability"] = rate_by_level(
        calibration["bant_criteria_met"].to_numpy(), calibration["label"].to_numpy(), test["bant_criteria_met"].to_numpy()
    )
    return test


def evaluate_test_split(test: pd.DataFrame, calibration: pd.DataFrame, *, ece_bins: int = 10) -> dict:
    """Metrics dict (see README) from scored test and calibration leads.

    Parameters
    ----------
    test, calibration : DataFrame
        Scored leads (the scorer's columns) plus ``label`` (0/1); ``test`` may carry ``true_p``.
    """
    test = add_bant_probability(test, calibration)
    y = test["label"].to_numpy(dtype=int)
    scorers = {k: v for k, v in PROBABILITY_COLUMNS.items() if v in test.columns and test[v].notna().all()}
    quality = {name: binary_metrics(y, test[col].to_numpy(), bins=ece_bins) for name, col in scorers.items()}
    # BANT's AUC and PR-AUC are those of its raw 0-4 score (the mapping to rates is monotone up to ties).
    quality["bant"]["auc"] = binary_metrics(y, test["bant_criteria_met"].to_numpy() / 4)["auc"]

    volume = int(test["bant_qualified"].sum())
    bant_wins = int(test.loc[test["bant_qualified"], "label"].sum())
    model_wins = capacity_at_volume(y, test["conversion_probability"].to_numpy(), volume)
    capacity = {
        "bant_volume": volume,
        "bant_conversions": bant_wins,
        "model_conversions_at_bant_volume": model_wins,
        "ratio": float(model_wins / bant_wins) if bant_wins else None,
    }
    if "true_p" in scorers:
        capacity["oracle_conversions_at_bant_volume"] = capacity_at_volume(y, test["true_p"].to_numpy(), volume)

    quadrants = {}
    for name in QUADRANTS:
        rows = test[test["quadrant"] == name]
        quadrants[name] = {
            "n": int(len(rows)),
            "observed_rate": float(rows["label"].mean()) if len(rows) else None,
            "mean_predicted": float(rows["conversion_probability"].mean()) if len(rows) else None,
        }
    return {
        "test": quality,
        "capacity": capacity,
        "quadrants": quadrants,
        "data": {
            "test_leads": int(len(test)),
            "test_conversions": int(y.sum()),
            "test_base_rate": float(y.mean()),
            "bant_qualified_rate": float(test.loc[test["bant_qualified"], "label"].mean()) if volume else None,
            "bant_unqualified_rate": float(test.loc[~test["bant_qualified"], "label"].mean()) if volume < len(test) else None,
        },
    }


def plot_tables(test: pd.DataFrame, calibration: pd.DataFrame, *, ece_bins: int = 10) -> dict[str, pd.DataFrame]:
    """Tables for `dvc plots`, keyed ``"<curve>/<scorer>"``: ROC, cumulative gains and reliability.

    One file per scorer and curve, because DVC overlays curves from several files but cannot split one
    long table by a column.
    """
    test = add_bant_probability(test, calibration)
    y = test["label"].to_numpy(dtype=int)
    tables: dict[str, pd.DataFrame] = {}
    for name, col in PROBABILITY_COLUMNS.items():
        if col not in test.columns or test[col].isna().any():
            continue
        p = test[col].to_numpy()
        tables[f"roc/{name}"] = roc_points(y, p)
        tables[f"gains/{name}"] = gains_points(y, p)
        if name in ("fit", "intent", "conversion"):
            tables[f"calibration/{name}"] = calibration_points(y, p, bins=ece_bins)
    return tables
