"""The benchmark by lead age and the leak demo (issue 14: intent from an activity log).

- :func:`age_table`: on the test split's snapshots, per age (days after creation), the model's AUC,
  BANT's, the lead-level oracle's (the true probability of the lead: the same for all of its ages,
  a reference, not a target the log can always reach), and the model's conversions at BANT's volume
  against BANT's. How much the score sharpens as evidence accumulates.
- :func:`naive_leak_demo`: a model on naive all-time counts of the same log (what a lead table
  exported today holds), trained on train leads; its backtest AUC on test leads' all-time counts
  (inflated by post-outcome events) next to what it delivers when the same leads are scored at a
  real age, with only the events logged so far.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score

from leadscore.evaluation.metrics import capacity_at_volume


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    ok = ~np.isnan(s)
    if ok.sum() < 2 or len(np.unique(y[ok])) < 2:
        return None
    return float(roc_auc_score(y[ok], s[ok]))


def age_table(
    test: pd.DataFrame, *, ages: Sequence[float], naive_at_age: np.ndarray | None = None
) -> list[dict[str, float | int | None]]:
    """One row per age: snapshots, wins, AUC of the model / BANT / oracle (/ naive at that age), capacity.

    Parameters
    ----------
    test : DataFrame
        Scored test snapshots: ``age_days``, ``label``, ``conversion_probability``,
        ``bant_criteria_met``, ``bant_qualified`` and optionally ``true_p`` (the oracle).
    naive_at_age : array, optional
        The naive all-time model's scores of the same rows, its counts taken as of each snapshot.

    Returns
    -------
    list of dict
        Keys age_days, snapshots, wins, auc_model, auc_bant, auc_oracle, auc_naive_at_age,
        bant_volume, bant_conversions, model_conversions_at_bant_volume, capacity_ratio (model / BANT).
    """
    rows = []
    for age in ages:
        m = (test["age_days"] == float(age)).to_numpy()
        part = test[m]
        y = part["label"].to_numpy(dtype=int)
        model = part["conversion_probability"].to_numpy(dtype=float)
        qualified = part["bant_qualified"].to_numpy(dtype=bool)
        volume, bant_wins = int(qualified.sum()), int(y[qualified].sum())
        model_wins = float(capacity_at_volume(y, model, volume)) if len(y) else 0.0
        rows.append(
            {
                "age_days": float(age),
                "snapshots": int(m.sum()),
                "wins": int(y.sum()),
                "auc_model": _auc(y, model),
                "auc_bant": _auc(y, part["bant_criteria_met"].to_numpy(dtype=float)),
                "auc_oracle": _auc(y, part["true_p"].to_numpy(dtype=float)) if "true_p" in part else None,
                "auc_naive_at_age": None if naive_at_age is None else _auc(y, np.asarray(naive_at_age)[m]),
                "bant_volume": volume,
                "bant_conversions": bant_wins,
                "model_conversions_at_bant_volume": model_wins,
                "capacity_ratio": model_wins / bant_wins if bant_wins else None,
            }
        )
    return rows


def naive_leak_demo(
    train_all_time: pd.DataFrame,
    train_labels: np.ndarray,
    test_all_time: pd.DataFrame,
    test_labels: np.ndarray,
    test_at_age: pd.DataFrame,
    *,
    seed: int = 42,
    n_estimators: int = 100,
) -> tuple[float | None, np.ndarray]:
    """Train on all-time counts of train leads; return (backtest AUC on test leads' all-time counts,
    the model's scores of ``test_at_age``: the same columns as counted at a real age).

    The frames hold the same ``n_<type>_all`` columns; one row per lead for the first two, one per
    test snapshot for ``test_at_age``.
    """
    model = lgb.LGBMClassifier(
        n_estimators=n_estimators,
        learning_rate=0.1,
        num_leaves=15,
        min_child_samples=20,
        random_state=seed,
        n_jobs=1,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )
    model.fit(train_all_time, np.asarray(train_labels).astype(int))
    p_test = np.asarray(model.predict_proba(test_all_time[train_all_time.columns]))[:, 1]
    backtest = _auc(np.asarray(test_labels).astype(int), p_test)
    at_age = np.asarray(model.predict_proba(test_at_age[train_all_time.columns]))[:, 1]
    return backtest, at_age


def age_figure(rows: Sequence[dict], *, naive_backtest_auc: float | None = None) -> Figure:
    """AUC by lead age (model, BANT, oracle, naive at age; the naive backtest as a dashed line) and the
    model's conversions at BANT's volume relative to BANT's."""
    fig = Figure(figsize=(10, 5.0))
    ax, ax2 = fig.subplots(1, 2)
    ages = [r["age_days"] for r in rows]

    def line(key: str, label: str, **style) -> None:
        values = [np.nan if r[key] is None else r[key] for r in rows]
        if not all(np.isnan(values)):
            ax.plot(ages, values, marker="o", label=label, **style)

    line("auc_oracle", "oracle (true probability of the lead)", color="#777777", linestyle=":")
    line("auc_model", "model (point in time)", color="#1f4e9c", linewidth=2.2)
    line("auc_bant", "BANT", color="#c0392b")
    line("auc_naive_at_age", "naive all-time counts, scored at this age", color="#e67e22")
    if naive_backtest_auc is not None:
        ax.axhline(naive_backtest_auc, color="#e67e22", linestyle="--", label="naive all-time: backtest AUC")
    ax.set_xlabel("lead age at scoring (days)")
    ax.set_ylabel("AUC (test split)")
    ax.set_xticks(ages)
    ax.set_ylim(0.45, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    ax.set_title("AUC by lead age", fontsize=11)
    ratios = [np.nan if r["capacity_ratio"] is None else r["capacity_ratio"] for r in rows]
    ax2.bar([str(int(a)) if float(a).is_integer() else str(a) for a in ages], ratios, color="#1f4e9c")
    ax2.axhline(1.0, color="#c0392b", linestyle="--", label="BANT")
    ax2.set_xlabel("lead age at scoring (days)")
    ax2.set_ylabel("model conversions / BANT's, at BANT's volume")
    ax2.set_title("Capacity vs BANT by lead age", fontsize=11)
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig
