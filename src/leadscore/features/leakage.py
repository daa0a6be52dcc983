"""Leakage guard: how well does each feature predict the outcome *on its own*?

A column that alone separates won from lost leads almost perfectly (single-column AUC near 1) is
usually written after the outcome was known: a rep's status note, a "lost to competitor" tag, a
call's duration. Measured on the train split only, so the audit never looks at calibration or
test leads.

How a column's AUC is measured (always reported as ``max(auc, 1 - auc)``, so direction does not
matter):

- numeric: the AUC of the raw value; missing values are put first and then last, and the better of
  the two is kept (missingness itself can leak);
- categorical: the AUC of an out-of-fold target encoding (``n_folds`` folds, smoothed towards the
  fold's base rate), missing being a category of its own. Out of fold, so a column of unique ids
  scores ~0.5 rather than 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.model_selection import StratifiedKFold

from leadscore.config import FeaturesConfig

_MISSING = "\x00missing"


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    # Mann-Whitney with average ranks for ties: exactly roc_auc_score's value, ~4x faster (the
    # backtest audits every month's history, and sklearn's input validation dominated its cost).
    y = np.asarray(y).astype(bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined in that case.")
    ranks = rankdata(score)
    auc = (ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(max(auc, 1.0 - auc))


def numeric_auc(values: pd.Series, y: np.ndarray) -> float:
    """Single-column AUC of a numeric feature (missing first or last, whichever separates better)."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    if np.isnan(x).all():
        return 0.5
    present = x[~np.isnan(x)]
    below, above = present.min() - 1.0, present.max() + 1.0
    return max(_auc(y, np.where(np.isnan(x), fill, x)) for fill in (below, above))


def categorical_auc(
    values: pd.Series, y: np.ndarray, *, n_folds: int = 5, smoothing: float = 10.0, seed: int = 0
) -> float:
    """Single-column AUC of a categorical feature via out-of-fold target encoding."""
    cats = values.astype(object).where(values.notna(), _MISSING).astype(str).to_numpy()
    # Integer codes per category (missing is one of them): per-fold sums and counts are bincounts,
    # not a groupby and a map per fold (the backtest audits every month's history).
    codes, uniques = pd.factorize(cats)
    y_int = np.asarray(y).astype(int)
    encoded = np.empty(len(y), dtype=float)
    folds = StratifiedKFold(n_splits=min(n_folds, int(np.bincount(y_int).min())), shuffle=True, random_state=seed)
    for fit_idx, enc_idx in folds.split(cats, y):
        prior = y[fit_idx].mean()
        total = np.bincount(codes[fit_idx], weights=y_int[fit_idx], minlength=len(uniques))
        count = np.bincount(codes[fit_idx], minlength=len(uniques))
        # A category absent from the fit folds gets the prior (as the map's fillna did).
        rate = np.where(count > 0, (total + smoothing * prior) / (count + smoothing), prior)
        encoded[enc_idx] = rate[codes[enc_idx]]
    return _auc(y, encoded)


def single_column_auc(values: pd.Series, y: np.ndarray, *, seed: int = 0) -> float:
    """Dispatch on the column's type: numbers and booleans are numeric, anything else categorical."""
    numeric = (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)) and not isinstance(
        values.dtype, pd.CategoricalDtype
    )
    return numeric_auc(values, y) if numeric else categorical_auc(values, y, seed=seed)


def audit_columns(
    frame: pd.DataFrame, y: pd.Series, *, threshold: float, seed: int = 0, categorical: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Single-column AUC of every column of ``frame`` against 0/1 outcomes ``y`` (train split only).

    Returns a frame ``[column, kind, auc, suspected_leak]`` sorted by AUC, highest first.
    ``suspected_leak`` is ``auc > threshold``. Columns in ``categorical`` are measured as categories
    whatever their dtype (as the featurizer treats them).
    """
    y_arr = np.asarray(y, dtype=int)
    if len(np.unique(y_arr)) < 2:
        raise ValueError("the outcome has a single class; single-column AUCs are undefined")
    rows = []
    for column in frame.columns:
        values = frame[column]
        if column in categorical:
            values = values.astype(object)
        numeric = pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype)
        auc = single_column_auc(values, y_arr, seed=seed)
        rows.append(
            {
                "column": column,
                "kind": "numeric" if numeric else "categorical",
                "auc": round(auc, 4),
                "suspected_leak": bool(auc > threshold),
            }
        )
    return (
        pd.DataFrame(rows, columns=["column", "kind", "auc", "suspected_leak"])
        .sort_values("auc", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def feature_audit(
    raw: pd.DataFrame,
    labels: pd.Series,
    train_rows: np.ndarray,
    *,
    features: FeaturesConfig,
    missing_values: tuple[str, ...] = (),
    seed: int = 0,
) -> dict:
    """The leak guard's report: single-column AUC of every candidate and excluded column, train rows only.

    Candidates are the fit and intent columns; columns listed in ``features.exclude`` are measured
    too (status "excluded") so the report shows why they are out.
    """
    f = features
    candidates = [*f.fit, *f.intent, *f.exclude]
    present = [c for c in dict.fromkeys(candidates) if c in raw.columns]
    frame = raw.loc[train_rows, present]
    if missing_values:
        frame = frame.replace(list(missing_values), np.nan)
    table = audit_columns(
        frame, labels[train_rows], threshold=f.leak_auc_threshold, seed=seed, categorical=f.categorical
    )
    group = {**dict.fromkeys(f.fit, "fit"), **dict.fromkeys(f.intent, "intent")}
    table["group"] = table["column"].map(group).fillna("-")
    table["status"] = np.where(table["column"].isin(f.exclude), "excluded", "used")
    used = table["status"] == "used"
    leaks = table[table["suspected_leak"] & used]["column"].tolist()
    strong = table[(table["auc"] >= f.strong_leak_auc) & used]["column"].tolist()
    return {
        "train_leads": int(np.asarray(train_rows).sum()),
        "threshold": f.leak_auc_threshold,
        "strong_leak_auc": f.strong_leak_auc,
        "on_suspected_leak": f.on_suspected_leak,
        "suspected_leaks": leaks,
        "strong_leaks": strong,
        "allow_strong": [c for c in f.allow_strong if c in strong],
        "columns": table[["column", "group", "kind", "auc", "suspected_leak", "status"]].to_dict(orient="records"),
    }


@dataclass(frozen=True)
class LeakDecision:
    """What the leak policy decided: the features to train on, a message (or None), and whether to stop."""

    features: FeaturesConfig
    message: str | None
    stop: bool
    dropped: tuple[str, ...] = ()


def apply_leak_policy(audit: dict, features: FeaturesConfig, *, source: str) -> LeakDecision:
    """``features.on_suspected_leak`` applied to an audit: warn keeps, drop excludes, fail stops.

    A used column whose AUC alone reaches ``features.strong_leak_auc`` (0.98) stops the run under
    ``warn`` too, with one line naming it, unless it is listed in ``features.allow_strong``.
    """
    leaks = audit["suspected_leaks"]
    if not leaks:
        return LeakDecision(features=features, message=None, stop=False)
    auc = {a["column"]: a["auc"] for a in audit["columns"]}
    strong = [c for c in audit.get("strong_leaks", []) if c not in features.allow_strong]
    if strong and features.on_suspected_leak == "warn":
        named = ", ".join(f"{c!r} (AUC {auc[c]:.3f})" for c in strong)
        return LeakDecision(
            features=features,
            message=(
                f"{source}: {named} alone separate(s) won from lost on the train split (AUC >= "
                f"{features.strong_leak_auc}): almost surely written after the outcome; list it in features.exclude, "
                "or in features.allow_strong if it truly is known before the outcome"
            ),
            stop=True,
        )
    listed = ", ".join(f"{c!r} (AUC {auc[c]:.3f})" for c in leaks)
    message = (
        f"{source}: suspected leak(s): {listed} predict the outcome almost alone on the train split "
        f"(threshold {features.leak_auc_threshold}); if written after the outcome, list them in features.exclude"
    )
    if features.on_suspected_leak == "fail":
        return LeakDecision(features=features, message=message + " (features.on_suspected_leak: fail)", stop=True)
    if features.on_suspected_leak == "drop":
        kept = features.model_copy(update={"exclude": (*features.exclude, *leaks)})
        if not kept.fit_columns and not kept.intent_columns:
            return LeakDecision(
                features=features,
                message=message + "; dropping them would leave no feature at all",
                stop=True,
            )
        return LeakDecision(
            features=kept,
            message=message + "; dropped (features.on_suspected_leak: drop)",
            stop=False,
            dropped=tuple(leaks),
        )
    return LeakDecision(features=features, message=message, stop=False)


def leakage_summary(audit: dict) -> dict:
    """What the benchmark page, the run summary and MLflow say about leaks (metrics.json ``leakage``).

    ``kept``: suspected leaks the models were trained with (each with its AUC, group, and whether it
    is a strong one let through by ``features.allow_strong``): these get the red banner. ``dropped``:
    suspected leaks excluded by ``on_suspected_leak: drop``. ``columns``: the whole audit table.
    """
    rows = {a["column"]: a for a in audit.get("columns", [])}
    dropped = list(audit.get("dropped_leaks", []))
    allowed = set(audit.get("allow_strong", []))

    def entry(column: str) -> dict:
        row = rows.get(column, {})
        return {"column": column, "auc": row.get("auc"), "group": row.get("group"), "allowed_strong": column in allowed}

    return {
        "threshold": audit.get("threshold"),
        "strong_leak_auc": audit.get("strong_leak_auc"),
        "policy": audit.get("on_suspected_leak"),
        "kept": [entry(c) for c in audit.get("suspected_leaks", []) if c not in dropped],
        "dropped": [entry(c) for c in dropped],
        "columns": list(audit.get("columns", [])),
    }


def leak_banner(leakage: dict | None) -> str | None:
    """One sentence for the red banner, or None when no suspected leak is in the models."""
    kept = (leakage or {}).get("kept") or []
    if not kept:
        return None
    named = ", ".join(
        f"{k['column']} (AUC {k['auc']:.3f} alone{', allowed by features.allow_strong' if k['allowed_strong'] else ''})"
        for k in kept
    )
    return (
        f"Suspected leak: {named} predicts the outcome almost alone on the train split and is used by the models. "
        "If it is written after the outcome, every number below is too good: list it in features.exclude and rerun."
    )


# A column is uninformative when, alone, it barely separates won from lost on the train split ...
UNINFORMATIVE_AUC = 0.52
# ... and the model leans on it little: mean |SHAP| below explain.min_effect or below this share of the
# strongest column of its model (a model fits some noise: "Time zone" at 0.1 log-odds beside a 0.7 column).
UNINFORMATIVE_SHARE = 0.2


def uninformative_columns(
    audit: dict, importance: Mapping[str, Mapping[str, float]], *, min_effect: float
) -> list[str]:
    """Columns never shown as reasons, from the leak audit and each model's global importance.

    A used column is uninformative when both hold: its AUC alone on the train split (the audit) is
    below :data:`UNINFORMATIVE_AUC`, and its mean |SHAP| (log-odds, ``importance[group][column]``) is
    below ``max(min_effect, UNINFORMATIVE_SHARE * the largest mean |SHAP| of its group)``. Both must
    hold: a column weak alone can matter in interaction, and then its reasons are real.
    """
    auc = {a["column"]: a["auc"] for a in audit.get("columns", []) if a.get("status") == "used"}
    out = []
    for effects in importance.values():
        cut = max(min_effect, UNINFORMATIVE_SHARE * max(effects.values(), default=0.0))
        out += [c for c, value in effects.items() if c in auc and auc[c] < UNINFORMATIVE_AUC and value < cut]
    return sorted(out)
