"""Does the drift report find the drift the synthetic_drift profile puts in, and only that?

    PYTHONPATH=src python bench/drift_synthetic.py [--leads 20000] [--trees 50]

For the default params and for profiles/synthetic_drift.yaml: trains a scorer with the real stage
functions (generate .. calibrate, LightGBM capped at ``--trees`` trees), learns the drift reference on
the calibration split, and prints the drift report of the open leads (PSI per column and score) and
the outcome monitor's verdict on the test split (the most recent closed leads).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.config import load_params
from leadscore.data.outcomes import CALIBRATION, OPEN, TEST
from leadscore.io import read_table
from leadscore.models.persistence import load_scorer
from leadscore.monitoring.drift import SCORE_NAMES, DriftAccumulator, reference_for_scorer
from leadscore.monitoring.outcomes import monitor_outcomes
from leadscore.pipeline.local import run_stages
from leadscore.profiles import load_profile

ROOT = Path(__file__).resolve().parents[1]


def run(params_path: Path, *, leads: int, trees: int, workdir: Path, drift: dict | None = None) -> dict:
    # A profile is an overlay on profiles/base.yaml (issue 12): merge it; params.yaml is complete.
    if params_path.parent.name == "profiles":
        params = load_profile(params_path.stem, root=ROOT)
    else:
        params = load_params(params_path)
    if drift:
        synthetic = params.data.synthetic
        synthetic = synthetic.model_copy(update={"drift": synthetic.drift.model_copy(update=drift)})
        params = params.model_copy(update={"data": params.data.model_copy(update={"synthetic": synthetic})})
    lgbm = {"n_estimators": trees}
    small = params.model_copy(
        update={
            "data": params.data.model_copy(
                update={"synthetic": params.data.synthetic.model_copy(update={"n_leads": leads})}
            ),
            "train": params.train.model_copy(
                update={
                    "fit": params.train.fit.model_copy(update=lgbm),
                    "intent": params.train.intent.model_copy(update=lgbm),
                }
            ),
        }
    )
    run_ = run_stages(small, workdir=workdir, dvc_yaml=ROOT / "dvc.yaml", through="calibrate")
    scorer = load_scorer(run_.path("calibrate", "scorer_out"))
    raw = pd.read_parquet(run_.path("generate", "leads_out"))
    table = read_table(run_.path("featurize", "fit_out"))
    split = table["split"].to_numpy()
    reference = reference_for_scorer(scorer, raw[split == CALIBRATION], config=small.drift)
    open_leads = raw[split == OPEN]
    p = dict(zip(SCORE_NAMES, scorer.component_probabilities(open_leads), strict=True))
    drift = DriftAccumulator(reference).update(open_leads, p).report(small.drift)
    test = scorer.predict(raw[split == TEST]).assign(label=table.loc[split == TEST, "label"].to_numpy())
    cal = scorer.predict(raw[split == CALIBRATION]).assign(label=table.loc[split == CALIBRATION, "label"].to_numpy())
    monitor = monitor_outcomes(
        test,
        config=small.monitor,
        reference_auc=float(roc_auc_score(cal["label"], cal["conversion_probability"])),
        reference_base_rate=float(cal["label"].mean()),
    )
    return {"drift": drift, "monitor": monitor, "open": len(open_leads), "test": len(test)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--only", choices=["default", "synthetic_drift"], default=None)
    parser.add_argument("--drift", nargs="*", default=[], help="override data.synthetic.drift keys: key=number")
    args = parser.parse_args()
    overrides = {k: float(v) for k, v in (item.split("=", 1) for item in args.drift)}
    runs = (("default", ROOT / "params.yaml"), ("synthetic_drift", ROOT / "profiles/synthetic_drift.yaml"))
    for name, path in runs:
        if args.only and name != args.only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            drift = overrides if name != "default" else None
            result = run(path, leads=args.leads, trees=args.trees, workdir=Path(tmp), drift=drift)
        drift, monitor = result["drift"], result["monitor"]
        print(f"\n== {name}: {args.leads:,} leads, {result['open']:,} open leads scored, {result['test']:,} test leads")
        print(drift["summary"])
        for group in ("columns", "scores"):
            for col, e in sorted(drift[group].items(), key=lambda kv: -kv[1]["psi"]):
                print(f"  {group[:-1]:6} {col:28} PSI {e['psi']:.3f}  {e['status']}")
        print(monitor["reason"])


if __name__ == "__main__":
    main()
