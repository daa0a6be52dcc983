"""Results on real data: conversion model vs BANT proxy vs one all-features LightGBM, per profile.

Runs each profile's pipeline through the real stage functions (generate .. predict, no MLflow) in a
temporary directory, then fits one more model for comparison: a single LightGBM on fit + intent
features together (same featurizer, train split, early stopping on the early-stopping split,
calibrated on the calibration split with the profile's method). Every figure is on the test split.

    python bench/real_data_results.py                      # all variants, markdown tables
    python bench/real_data_results.py --only x_education   # variants whose name starts with it

Data: ../shared/datasets beside the repo, or --data-root / env LEADSCORE_SHARED_DATASETS.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress

from leadscore.config import Params
from leadscore.data.outcomes import CALIBRATION, EARLY_STOPPING, TEST, TRAIN
from leadscore.evaluation.metrics import binary_metrics, capacity_at_volume
from leadscore.models.calibration import calibrate_classifier
from leadscore.models.training import train_lightgbm
from leadscore.pipeline.local import LocalRun, run_stages
from leadscore.profiles import load_profile as merged_profile

REPO_ROOT = Path(__file__).resolve().parents[1]

X_ED_LEAKY = (
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Last Notable Activity",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
)


def _features(params: Params, **changes) -> Params:
    return params.model_copy(update={"features": params.features.model_copy(update=changes)})


def _tuned(params: Params, profile: str) -> Params:
    """``params`` with the ``train.tune`` of ``profiles/<profile>.yaml`` (issue 15: an overlay profile)."""
    import yaml

    tune = yaml.safe_load((REPO_ROOT / "profiles" / f"{profile}.yaml").read_text())["train"]["tune"]
    train = params.train.model_copy(update={"tune": params.train.tune.model_copy(update=tune)})
    return params.model_copy(update={"train": train})


# name -> (profile, how the variant differs from it, description)
VARIANTS = {
    "x_education": ("x_education", lambda p: p, "profile as shipped (leaky columns and Last Activity excluded)"),
    "x_education_tuned": (
        "x_education",
        lambda p: _tuned(p, "x_education_tuned"),
        "profile as shipped, LightGBM parameters tuned (profiles/x_education_tuned.yaml: train.tune on)",
    ),
    "x_education_with_last_activity": (
        "x_education",
        lambda p: _features(p, intent=(*p.features.intent, "Last Activity")),
        "plus Last Activity (partly post-qualification)",
    ),
    "x_education_leaky": (
        "x_education",
        lambda p: _features(p, intent=(*p.features.intent, *X_ED_LEAKY), exclude=()),
        "leakage demonstration: Tags, Lead Quality, ... used as intent",
    ),
    "bank_marketing": (
        "bank_marketing",
        lambda p: p,
        "profile as shipped (row-order split; duration, campaign excluded)",
    ),
    "bank_marketing_stratified": (
        "bank_marketing",
        lambda p: p.model_copy(update={"split": p.split.model_copy(update={"method": "stratified"})}),
        "seeded stratified split instead (not a forecast: for comparison only)",
    ),
}


def load_profile(name: str, data_root: Path) -> Params:
    """A profile as `leadscore profile` makes it (profiles/base.yaml overlaid with the profile's chain),
    with its ``../shared/datasets`` source re-rooted at ``data_root``."""
    params = merged_profile(name, root=REPO_ROOT)
    source = params.data.source.replace("../shared/datasets", str(data_root), 1)
    return params.model_copy(update={"data": params.data.model_copy(update={"source": source})})


def all_features_model(params: Params, run: LocalRun) -> np.ndarray:
    """Test-split probabilities of one calibrated LightGBM on fit + intent features together."""
    fit, intent = (
        pd.read_parquet(run.path("featurize", "fit_out")),
        pd.read_parquet(run.path("featurize", "intent_out")),
    )
    id_col = params.columns.id
    X = pd.concat(
        [fit.drop(columns=[id_col, "split", "label"]), intent.drop(columns=[id_col, "split", "label"])], axis=1
    )
    split, y = fit["split"], fit["label"]
    lgbm = params.train.fit.model_copy(update={"monotone_increasing": ()})
    model = train_lightgbm(
        X[split == TRAIN],
        y[split == TRAIN],
        X[split == EARLY_STOPPING],
        y[split == EARLY_STOPPING],
        params=lgbm,
        early_stopping_rounds=params.train.early_stopping_rounds,
        seed=params.train.seed,
    )
    cal = split == CALIBRATION
    calibrated = calibrate_classifier(model, X[cal], y[cal], method=params.calibrate.method)
    return calibrated.predict_proba(X[split == TEST])[:, 1]


def run_variant(name: str, data_root: Path) -> dict:
    profile, change, _ = VARIANTS[name]
    params = change(load_profile(profile, data_root))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = run_stages(params, workdir=tmp, dvc_yaml=REPO_ROOT / "dvc.yaml")
        seconds = time.perf_counter() - start
        metrics = json.loads(run.path("evaluate", "metrics_out").read_text())
        audit = json.loads(run.path("featurize", "audit_out").read_text())
        table = pd.read_parquet(run.path("featurize", "fit_out"))
        test = table[table["split"] == TEST]
        y = test["label"].to_numpy(dtype=int)
        p_all = all_features_model(params, run)
    cap = metrics["capacity"]
    bant_wins = cap["bant_conversions"]
    rows = {}
    for label, key in (("conversion model", "conversion"), ("BANT proxy", "bant")):
        m = metrics["test"][key]
        ratio = cap["ratio"] if key == "conversion" else 1.0
        rows[label] = {"auc": m["auc"], "log_loss": m["log_loss"], "ece": m["ece"], "capacity_ratio": ratio}
    m = binary_metrics(y, p_all, bins=params.evaluate.ece_bins)
    rows["all-features LightGBM"] = {
        "auc": m["auc"],
        "log_loss": m["log_loss"],
        "ece": m["ece"],
        "capacity_ratio": capacity_at_volume(y, p_all, cap["bant_volume"]) / bant_wins if bant_wins else None,
    }
    return {
        "rows": rows,
        "split": metrics["split"],
        "data": metrics["data"],
        "capacity": cap,
        "suspected_leaks": audit["suspected_leaks"],
        "top_audit": [(c["column"], c["auc"], c["status"]) for c in audit["columns"][:5]],
        "seconds": seconds,
    }


def markdown(name: str, result: dict) -> str:
    _, _, description = VARIANTS[name]
    s, d, cap = result["split"], result["data"], result["capacity"]
    lines = [
        f"**{name}**: {description}. Split: {s['method']}; train {s['train']:,} + early stopping "
        f"{s['early_stopping']:,}, calibration {s['calibration']:,}, test {s['test']:,} leads "
        f"(test base rate {d['test_base_rate']:.1%}). BANT qualifies {cap['bant_volume']:,} test leads. "
        f"Suspected leaks: {', '.join(result['suspected_leaks']) or 'none'}. Pipeline {result['seconds']:.0f} s.",
        "",
        "| test split | AUC | log loss | ECE | capacity ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, r in result["rows"].items():
        ratio = "-" if r["capacity_ratio"] is None else f"{r['capacity_ratio']:.2f}"
        lines.append(f"| {label} | {r['auc']:.3f} | {r['log_loss']:.3f} | {r['ece']:.3f} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_root = os.environ.get("LEADSCORE_SHARED_DATASETS", str(REPO_ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--data-root", type=Path, default=Path(default_root))
    parser.add_argument("--only", default="", help="run the variants whose name starts with this")
    parser.add_argument("--json-out", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    names = [n for n in VARIANTS if n.startswith(args.only)]
    console = Console(stderr=True)
    results = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("profiles", total=len(names))
        for name in names:
            progress.update(task, description=f"running {name}")
            results[name] = run_variant(name, args.data_root)
            progress.advance(task)
    for name, result in results.items():
        print(markdown(name, result), end="\n\n")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
