"""Model versus BANT versus the ceiling, on the test split: the numbers behind reports/metrics.json.

Every number the benchmark page shows is computed here, into one plain dict; the page, the markdown
and metrics.json are all rendered from that dict, so they cannot disagree.

Scorers: each has a *ranking* (what AUC, PR-AUC, gains and capacity use) and a *probability* (what log
loss, Brier and ECE use). For the learned models both are the calibrated probability. A rule's
probability is its level's conversion rate on the calibration split (its fairest probabilistic
reading); ``random`` ranks by a seeded uniform draw and predicts the calibration split's base rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from leadscore.evaluation.bootstrap import METRICS, bootstrap_metrics, percentile_interval
from leadscore.evaluation.metrics import (
    binary_metrics,
    calibration_points,
    capacity_at_volume,
    expected_cumulative_conversions,
    gains_points,
    rate_by_level,
    roc_points,
)
from leadscore.models.calibration import QUADRANTS


@dataclass(frozen=True)
class ScorerSpec:
    name: str
    ranking: str  # column ranked for AUC / PR-AUC / gains / capacity
    probability: str  # column judged for log loss / Brier / ECE
    family: str  # "model", "baseline", "rule", "reference"


LABELS = {
    "conversion": "Conversion model (fit × intent)",
    "fit": "Fit model alone",
    "intent": "Intent model alone",
    "lightgbm_all": "One LightGBM, all features",
    "logistic": "Logistic regression, all features",
    "bant": "BANT criteria met",
    "bant_qualified": "BANT qualified (flag)",
    "bant_points": "BANT weighted points",
    "random": "Random",
    "oracle": "Oracle (true probability)",
}


def variant_name(k: int, n_criteria: int) -> str:
    return f"bant_{k}of{n_criteria}"


def scorer_label(name: str, *, n_criteria: int | None = None) -> str:
    """Human-readable scorer name for tables and legends; the BANT count's range when ``n_criteria`` is given."""
    if name == "bant" and n_criteria is not None:
        return f"{LABELS[name]} (0-{n_criteria})"
    if name in LABELS:
        return LABELS[name]
    if name.startswith("bant_") and "of" in name:
        k, n = name[len("bant_") :].split("of", 1)
        return f"BANT {k} of {n} criteria"
    return name


def scorer_specs(test: pd.DataFrame, *, bant_variants: tuple[int, ...] = (), n_criteria: int = 4) -> list[ScorerSpec]:
    """The scorers available in ``test``, in the order the report shows them."""
    specs = [
        ScorerSpec("conversion", "conversion_probability", "conversion_probability", "model"),
        ScorerSpec("fit", "fit_probability", "fit_probability", "model"),
        ScorerSpec("intent", "intent_probability", "intent_probability", "model"),
        ScorerSpec("lightgbm_all", "lightgbm_all_probability", "lightgbm_all_probability", "baseline"),
        ScorerSpec("logistic", "logistic_probability", "logistic_probability", "baseline"),
        ScorerSpec("bant", "bant_criteria_met", "bant_probability", "rule"),
        ScorerSpec("bant_qualified", "bant_qualified", "bant_qualified_probability", "rule"),
        *(
            ScorerSpec(
                variant_name(k, n_criteria),
                variant_name(k, n_criteria),
                f"{variant_name(k, n_criteria)}_probability",
                "rule",
            )
            for k in bant_variants
        ),
        ScorerSpec("bant_points", "bant_points", "bant_points_probability", "rule"),
        ScorerSpec("random", "random_score", "random_probability", "reference"),
        ScorerSpec("oracle", "true_p", "true_p", "reference"),
    ]
    unique = {s.name: s for s in specs}  # a variant equal to BANT's own cut is still listed once
    return [
        s
        for s in unique.values()
        if s.ranking in test.columns and s.probability in test.columns and test[s.probability].notna().all()
    ]


def add_rule_probabilities(
    test: pd.DataFrame, calibration: pd.DataFrame, *, bant_variants: tuple[int, ...] = (), n_criteria: int = 4
) -> pd.DataFrame:
    """Add each rule's flag/score reading as a probability, learned on the calibration split only.

    ``bant_criteria_met`` and ``bant_qualified`` are required; ``bant_points`` (in both frames) and
    ``random_score`` are used when present.
    """
    test = test.copy()
    y_cal = calibration["label"].to_numpy(dtype=float)

    def rate(column: str, cal_values, test_values) -> None:
        test[column] = rate_by_level(np.asarray(cal_values), y_cal, np.asarray(test_values))

    rate("bant_probability", calibration["bant_criteria_met"], test["bant_criteria_met"])
    rate("bant_qualified_probability", calibration["bant_qualified"].astype(int), test["bant_qualified"].astype(int))
    for k in bant_variants:
        name = variant_name(k, n_criteria)
        test[name] = (test["bant_criteria_met"] >= k).astype(int)
        rate(f"{name}_probability", (calibration["bant_criteria_met"] >= k).astype(int), test[name])
    if "bant_points" in test.columns and "bant_points" in calibration.columns:
        rate("bant_points_probability", calibration["bant_points"], test["bant_points"])
    if "random_score" in test.columns:
        # Random ranks at random; as a probability it knows only the base rate.
        test["random_probability"] = float(np.mean(y_cal))
    return test


# -- volume: conversions among the leads a team works ------------------------------------------------
def leads_to_reach(cumulative: np.ndarray, target: float) -> int | None:
    """Fewest leads whose expected conversions reach ``target`` (None if never)."""
    k = int(np.searchsorted(cumulative, target - 1e-9, side="left"))
    return k if k < len(cumulative) else None


def at_volume(y: np.ndarray, scores: np.ndarray, volume: int) -> dict:
    """Conversions, precision and recall among the ``volume`` best-scored leads."""
    cum = expected_cumulative_conversions(y, scores)
    volume = int(min(volume, len(y)))
    wins = float(cum[volume])
    total = float(np.sum(y))
    return {
        "conversions": wins,
        "precision": wins / volume if volume else None,
        "recall": wins / total if total else None,
    }


def volume_comparison(
    y: np.ndarray, rankings: dict[str, np.ndarray], *, volume: int, target_conversions: float
) -> dict:
    """Table 2: each scorer at a fixed volume, and the leads it needs to reach ``target_conversions``."""
    rows = {}
    for name, scores in rankings.items():
        row = at_volume(y, scores, volume)
        needed = leads_to_reach(expected_cumulative_conversions(y, scores), target_conversions)
        row["leads_to_match"] = needed
        row["fewer_calls"] = (1 - needed / volume) if needed is not None and volume else None
        rows[name] = row
    return rows


def rule_operating_points(y: np.ndarray, flags: dict[str, np.ndarray], model_scores: np.ndarray) -> dict:
    """Each qualification rule at its own volume, next to the model at that volume."""
    model_cum = expected_cumulative_conversions(y, model_scores)
    total = float(np.sum(y))
    out = {}
    for name, flag in flags.items():
        flag = np.asarray(flag, dtype=bool)
        volume, wins = int(flag.sum()), float(np.asarray(y)[flag].sum())
        needed = leads_to_reach(model_cum, wins)
        out[name] = {
            "volume": volume,
            "conversions": wins,
            "precision": wins / volume if volume else None,
            "recall": wins / total if total else None,
            "model_conversions": float(model_cum[volume]),
            "model_leads_to_match": needed,
            "fewer_calls": (1 - needed / volume) if needed is not None and volume else None,
        }
    return out


def lift_by_decile(y: np.ndarray, p: np.ndarray, *, groups: int = 10) -> dict[str, dict]:
    """Table 3: leads split into ``groups`` equal bands by descending ``p`` (band "1" = the best)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    order = np.argsort(-p, kind="stable")
    base = float(y.mean())
    total = float(y.sum())
    out, cumulative = {}, 0.0
    for i, rows in enumerate(np.array_split(order, groups), start=1):
        wins = float(y[rows].sum())
        cumulative += wins
        rate = wins / len(rows) if len(rows) else None
        out[str(i)] = {
            "leads": len(rows),
            "conversions": int(wins),
            "rate": rate,
            "mean_predicted": float(p[rows].mean()) if len(rows) else None,
            "lift": rate / base if rate is not None and base else None,
            "cumulative_share": cumulative / total if total else None,
        }
    return out


def quadrant_bant_table(test: pd.DataFrame) -> dict[str, dict[str, dict]]:
    """Table 4: leads, conversions and observed vs predicted rate per quadrant x BANT-qualified cell."""
    out: dict[str, dict[str, dict]] = {}
    for quadrant in QUADRANTS:
        out[quadrant] = {}
        for key, qualified in (("bant_qualified", True), ("bant_not_qualified", False)):
            rows = test[(test["quadrant"] == quadrant) & (test["bant_qualified"].astype(bool) == qualified)]
            out[quadrant][key] = {
                "n": len(rows),
                "conversions": int(rows["label"].sum()),
                "observed_rate": float(rows["label"].mean()) if len(rows) else None,
                "mean_predicted": float(rows["conversion_probability"].mean()) if len(rows) else None,
            }
    return out


def capacity_plan(y: np.ndarray, rankings: dict[str, np.ndarray], *, reps: int, leads_per_rep: int) -> dict:
    """Expected conversions per scorer when the team works its capacity (reps x leads per rep)."""
    leads = reps * leads_per_rep
    worked = int(min(leads, len(y)))
    return {
        "reps": reps,
        "leads_per_rep": leads_per_rep,
        "leads": leads,
        "leads_worked": worked,
        "conversions": {name: float(expected_cumulative_conversions(y, s)[worked]) for name, s in rankings.items()},
    }


# -- the whole benchmark -----------------------------------------------------------------------------
def evaluate_test_split(
    test: pd.DataFrame,
    *,
    ece_bins: int = 10,
    bant_variants: tuple[int, ...] = (),
    n_criteria: int = 4,
    bootstrap_n: int = 0,
    bootstrap_seed: int = 42,
    bootstrap_level: float = 0.95,
    capacity_reps: int = 5,
    capacity_leads_per_rep: int = 500,
) -> dict:
    """Metrics dict (see README) from scored test and calibration leads.

    Parameters
    ----------
    test : DataFrame
        Scored test leads (the scorer's columns) plus ``label`` (0/1) and the rules read as
        probabilities (:func:`add_rule_probabilities`); may carry ``true_p`` and the baselines'
        columns (``lightgbm_all_probability``, ``logistic_probability``, ``random_score``).
    bootstrap_n : int
        Resamples for the intervals (0: no intervals).
    """
    specs = scorer_specs(test, bant_variants=bant_variants, n_criteria=n_criteria)
    y = test["label"].to_numpy(dtype=int)
    rankings = {s.name: test[s.ranking].to_numpy(dtype=float) for s in specs}
    probabilities = {s.name: test[s.probability].to_numpy(dtype=float) for s in specs}

    quality = {}
    for s in specs:
        m = binary_metrics(y, probabilities[s.name], bins=ece_bins)
        # A rule's AUC and PR-AUC are those of its raw score (the rate mapping can only add ties).
        m["auc"] = float(roc_auc_score(y, rankings[s.name]))
        m["pr_auc"] = float(average_precision_score(y, rankings[s.name]))
        quality[s.name] = m

    volume = int(test["bant_qualified"].sum())
    bant_wins = int(test.loc[test["bant_qualified"].astype(bool), "label"].sum())
    model_wins = capacity_at_volume(y, test["conversion_probability"].to_numpy(), volume)
    capacity = {
        "bant_volume": volume,
        "bant_conversions": bant_wins,
        "model_conversions_at_bant_volume": model_wins,
        "ratio": float(model_wins / bant_wins) if bant_wins else None,
    }
    if "oracle" in rankings:
        capacity["oracle_conversions_at_bant_volume"] = capacity_at_volume(y, rankings["oracle"], volume)

    quadrants = {}
    for name in QUADRANTS:
        rows = test[test["quadrant"] == name]
        quadrants[name] = {
            "n": len(rows),
            "observed_rate": float(rows["label"].mean()) if len(rows) else None,
            "mean_predicted": float(rows["conversion_probability"].mean()) if len(rows) else None,
        }

    flags = {"bant_qualified": test["bant_qualified"].to_numpy(dtype=bool)}
    variants = {variant_name(k, n_criteria) for k in bant_variants}
    flags.update({s.name: test[s.ranking].to_numpy(dtype=bool) for s in specs if s.name in variants})
    metrics = {
        "test": quality,
        "capacity": capacity,
        "quadrants": quadrants,
        "data": {
            "test_leads": len(test),
            "test_conversions": int(y.sum()),
            "test_base_rate": float(y.mean()),
            "bant_qualified_rate": float(test.loc[test["bant_qualified"].astype(bool), "label"].mean())
            if volume
            else None,
            "bant_unqualified_rate": float(test.loc[~test["bant_qualified"].astype(bool), "label"].mean())
            if volume < len(test)
            else None,
        },
        "at_bant_volume": {
            "volume": volume,
            "bant_conversions": bant_wins,
            "scorers": volume_comparison(y, rankings, volume=volume, target_conversions=bant_wins),
        },
        "rule_operating_points": rule_operating_points(y, flags, rankings["conversion"]),
        "lift_deciles": lift_by_decile(y, probabilities["conversion"]),
        "quadrant_bant": quadrant_bant_table(test),
        "capacity_plan": capacity_plan(y, rankings, reps=capacity_reps, leads_per_rep=capacity_leads_per_rep),
    }
    if bootstrap_n:
        metrics["bootstrap"] = bootstrap_summary(
            y,
            rankings,
            probabilities,
            quality,
            n_resamples=bootstrap_n,
            seed=bootstrap_seed,
            level=bootstrap_level,
            bins=ece_bins,
        )
    return metrics


# Differences with intervals: how much the model beats BANT, and what splitting fit/intent costs.
DIFFERENCES = (
    ("conversion", "bant"),
    ("conversion", "lightgbm_all"),
    ("conversion", "logistic"),
    ("conversion", "oracle"),
)


def bootstrap_summary(
    y: np.ndarray,
    rankings: dict[str, np.ndarray],
    probabilities: dict[str, np.ndarray],
    quality: dict[str, dict[str, float]],
    *,
    n_resamples: int,
    seed: int,
    level: float,
    bins: int,
) -> dict:
    """Percentile intervals per scorer and metric, and for paired differences between scorers."""
    draws = bootstrap_metrics(
        y, {n: (rankings[n], probabilities[n]) for n in rankings}, n_resamples=n_resamples, seed=seed, bins=bins
    )
    intervals = {name: {m: percentile_interval(draws[name][m], level=level) for m in METRICS} for name in draws}
    differences = {}
    for a, b in DIFFERENCES:
        if a in draws and b in draws:
            differences[f"{a}_minus_{b}"] = {
                m: {
                    "estimate": quality[a][m] - quality[b][m],
                    **percentile_interval(draws[a][m] - draws[b][m], level=level),
                }
                for m in METRICS
            }
    return {"n": n_resamples, "seed": seed, "level": level, "intervals": intervals, "differences": differences}


def plot_tables(
    test: pd.DataFrame,
    *,
    ece_bins: int = 10,
    bant_variants: tuple[int, ...] = (),
    n_criteria: int = 4,
) -> dict[str, pd.DataFrame]:
    """Tables for `dvc plots`, keyed ``"<curve>/<scorer>"``: ROC, cumulative gains and reliability.

    One file per scorer and curve, because DVC overlays curves from several files but cannot split one
    long table by a column. ``test`` as for :func:`evaluate_test_split`.
    """
    y = test["label"].to_numpy(dtype=int)
    tables: dict[str, pd.DataFrame] = {}
    for s in scorer_specs(test, bant_variants=bant_variants, n_criteria=n_criteria):
        r = test[s.ranking].to_numpy(dtype=float)
        tables[f"roc/{s.name}"] = roc_points(y, r)
        tables[f"gains/{s.name}"] = gains_points(y, r)
        if s.name in ("fit", "intent", "conversion", "lightgbm_all", "logistic"):
            tables[f"calibration/{s.name}"] = calibration_points(y, test[s.probability].to_numpy(), bins=ece_bins)
    return tables
