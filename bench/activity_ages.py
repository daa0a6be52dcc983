"""AUC by lead age: point-in-time activity features vs naive all-time counts vs the oracle (issue 14).

    .venv/bin/python bench/activity_ages.py --leads 20000

Synthetic CRM with its activity log; closed leads become snapshots at ages 1/7/14/30 days (while
still open); split by lead in creation order (train 60% / calibration 20% / test 20%: the calibration
split picks the windows and half-lives); small LightGBMs trained on train snapshots (weighted so each
lead sums to one), AUC on the test snapshots of each age. "naive" uses all-time counts of the same log
(what a lead-table export holds): its backtest AUC is inflated by post-outcome events. "oracle" is
the true conversion probability. Fit columns are the lead table's raw fit columns.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.config import ColumnsConfig, load_params
from leadscore.data.activities import ACTIVITY_TYPES
from leadscore.data.outcomes import CALIBRATION, TEST, TRAIN
from leadscore.data.synthetic import generate_crm
from leadscore.features.activity import ActivityFeatureSpec, naive_all_time_features, point_in_time_features
from leadscore.features.snapshots import snapshots_by_age
from leadscore.models.decay import candidate_columns, choose_decay

# The default profile's fit and intent columns: the lead-table model this benchmark compares with.
_DEFAULT = load_params(Path(__file__).resolve().parents[1] / "params.yaml").features
FIT = list(_DEFAULT.fit)
TABLE_INTENT = list(_DEFAULT.intent)


def _model(seed: int) -> lgb.LGBMClassifier:
    return lgb.LGBMClassifier(
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=15,
        min_child_samples=50,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=seed,
        n_jobs=1,
        verbose=-1,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    t0 = time.perf_counter()

    crm = generate_crm(args.leads, seed=args.seed, activities=True)
    ages = (1, 7, 14, 30)
    snaps = snapshots_by_age(crm.leads, columns=ColumnsConfig(), reference_date="2026-06-30", ages_days=ages)
    snaps = snaps[~snaps["is_open"]].reset_index(drop=True)
    windows, half_lives = ((7, 30, 90), (7, 30)), ((1, 7), (3, 14, 60), (14, 60))
    spec = ActivityFeatureSpec(
        types=ACTIVITY_TYPES,
        windows_days=sorted({w for s in windows for w in s}),
        half_lives_days=sorted({h for s in half_lives for h in s}),
    )
    pit = point_in_time_features(crm.activities, snaps, spec=spec)
    naive = naive_all_time_features(crm.activities, snaps[["lead_id"]], types=ACTIVITY_TYPES)
    lead_pos = pit["lead_id"].rank(method="dense") / pit["lead_id"].nunique()  # creation order
    split = pd.Series(np.select([lead_pos <= 0.6, lead_pos <= 0.8], [TRAIN, CALIBRATION], TEST))
    y, w = pit["label"].to_numpy(), pit["weight"].to_numpy()

    choice = choose_decay(
        pit, labels=pit["label"], splits=split, weights=pit["weight"], types=ACTIVITY_TYPES,
        window_sets=windows, half_life_sets=half_lives,
    )  # fmt: skip
    act_cols = candidate_columns(ACTIVITY_TYPES, choice.windows_days, choice.half_lives_days)
    table = crm.leads.set_index("lead_id").loc[pit["lead_id"], FIT + TABLE_INTENT].reset_index(drop=True)
    table = table.astype(
        {c: "category" for c in table.columns if table[c].dtype == object or str(table[c].dtype) == "str"}
    )
    table = table.astype({c: "float" for c in table.columns if table[c].dtype == bool or c == "uses_crm"})
    fit = table[FIT]
    naive_cols = [c for c in naive.columns if c.startswith("n_")]
    frames = {
        "activity (point in time)": pit[act_cols],
        "activity + fit (point in time)": pd.concat([pit[act_cols], fit], axis=1),
        "activity + fit + lead source (point in time)": pd.concat(
            [pit[act_cols], table[[*FIT, "lead_source"]]], axis=1
        ),
        "lead table fit + intent (reference: the table's columns, no leak by construction)": table,
        "naive all-time counts": naive[naive_cols],
        "naive all-time + fit": pd.concat([naive[naive_cols], fit], axis=1),
    }
    train, test = (split == TRAIN).to_numpy(), (split == TEST).to_numpy()
    truth = crm.truth.set_index("lead_id").loc[pit["lead_id"], "true_p"].to_numpy()
    rows = []
    scores = {}
    for name, X in frames.items():
        model = _model(args.seed).fit(X[train], y[train], sample_weight=w[train])
        scores[name] = model.predict_proba(X[test])[:, 1]
    scores["oracle (true probability)"] = truth[test]
    age = pit["age_days"].to_numpy()[test]
    for a in ages:
        m = age == a
        rows.append(
            {"age_days": a, "test_snapshots": int(m.sum())}
            | {k: round(float(roc_auc_score(y[test][m], s[m])), 3) for k, s in scores.items()}
        )
    print(
        json.dumps(
            {
                "leads": args.leads,
                "events": len(crm.activities),
                "chosen": {"windows_days": choice.windows_days, "half_lives_days": choice.half_lives_days},
                "decay_table": choice.table[["candidate", "calibration_log_loss", "calibration_auc"]]
                .round(4)
                .to_dict(orient="records"),
                "auc_by_age": rows,
                "seconds": round(time.perf_counter() - t0, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
