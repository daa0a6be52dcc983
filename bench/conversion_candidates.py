"""Conversion-model candidates on both synthetic worlds (issue 15): test AUC vs the oracle, log loss, ECE.

For each world (profiles/synthetic.yaml: "additive", the default data; profiles/synthetic_world2.yaml:
"interactions") the pipeline runs in-process (generate -> featurize -> train -> calibrate, every file
under a scratch directory) with ``calibrate.conversion_candidates`` set to all candidates, so the
calibrate stage chooses one by out-of-fold log loss on the calibration split, as `make run` would.
The baselines stage runs too: one LightGBM on all features is the reference for what the fit /
intent split itself costs. Then, for the table only, every candidate is also fitted on the
calibration split (as calibrate fits the chosen one) and scored on the test split: AUC, log loss and
ECE with paired percentile bootstrap intervals (params evaluate.bootstrap), and the AUC gap to the
oracle (true probability) with its interval. The test split is only measured here, never used to choose.

Run: ``.venv/bin/python bench/conversion_candidates.py`` (100k leads per world, a few minutes).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.linear_model import LogisticRegression

from leadscore.data.outcomes import CALIBRATION, TEST
from leadscore.data.values import id_text
from leadscore.evaluation.bootstrap import bootstrap_metrics, percentile_interval
from leadscore.evaluation.metrics import binary_metrics
from leadscore.io import read_table
from leadscore.models.calibration import CONVERSION_KINDS, ConversionModel, conversion_inputs, new_conversion_model
from leadscore.models.persistence import load_scorer
from leadscore.pipeline.local import run_stages
from leadscore.pipeline.tables import feature_matrix, rows_in
from leadscore.profiles import load_profile

ROOT = Path(__file__).resolve().parents[1]
WORLDS = {"additive": "synthetic", "interactions": "synthetic_world2"}


def world_params(world: str, *, n_leads: int, candidates: tuple[str, ...]):
    params = load_profile(WORLDS[world], root=ROOT)
    synthetic = params.data.synthetic.model_copy(update={"n_leads": n_leads})
    return params.model_copy(
        update={
            "data": params.data.model_copy(update={"synthetic": synthetic}),
            "calibrate": params.calibrate.model_copy(update={"conversion_candidates": candidates}),
        }
    )


def measure(world: str, *, n_leads: int, candidates: tuple[str, ...], workdir: Path) -> dict:
    params = world_params(world, n_leads=n_leads, candidates=candidates)
    start = time.perf_counter()
    run = run_stages(params, workdir=workdir, dvc_yaml=ROOT / "dvc.yaml", through="calibrate")
    pipeline_s = time.perf_counter() - start
    scorer = load_scorer(run.path("calibrate", "scorer_out"))
    id_col = params.columns.id
    fit_table = read_table(run.path("featurize", "fit_out"))
    intent_table = read_table(run.path("featurize", "intent_out"))
    truth = read_table(run.path("generate", "truth_out"))

    selection = scorer.extras["conversion_selection"]
    segments = selection["candidates"].get("segment_spline", {}).get("segments", [])

    def probabilities(split: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        rows = rows_in(fit_table, split)
        X_fit = feature_matrix(fit_table, id_col)[rows]
        p_fit = scorer.fit_model.predict_proba(X_fit)[:, 1]
        p_intent = scorer.intent_model.predict_proba(feature_matrix(intent_table, id_col)[rows])[:, 1]
        X = conversion_inputs(p_fit, p_intent, X_fit, segments=segments)
        return X, fit_table.loc[rows, "label"].to_numpy().astype(int), rows

    X_cal, y_cal, _ = probabilities(CALIBRATION)
    X_test, y_test, test_rows = probabilities(TEST)
    ids = id_text(fit_table.loc[test_rows, id_col]).to_numpy()
    true_p = truth.assign(**{id_col: id_text(truth[id_col])}).set_index(id_col).loc[ids, "true_p"].to_numpy()

    # One LightGBM on all features (the baselines stage): what the fit / intent split is measured against.
    baselines = read_table(run.path("baselines", "scores_out"))
    all_features = (
        baselines.assign(**{id_col: id_text(baselines[id_col])}).set_index(id_col).loc[ids, "lightgbm_all_probability"]
    )
    scored = {"oracle": true_p, "lightgbm_all_features": all_features.to_numpy()}
    for kind in candidates:
        model = new_conversion_model(kind, segments=segments).fit(X_cal, y_cal)
        scored[kind] = model.predict_proba(X_test)[:, 1]
    # Today's logistic form before issue 15 (no monotone refit), to show what the refit costs or not.
    design = ConversionModel._design(X_cal)
    plain = LogisticRegression(max_iter=1000).fit(design, y_cal)
    scored["logistic_unconstrained"] = plain.predict_proba(ConversionModel._design(X_test))[:, 1]
    plain_monotone = ConversionModel.from_dict(
        {"C": 1.0, "coef": plain.coef_.tolist(), "intercept": plain.intercept_.tolist(), "classes": [0, 1]}
    ).is_monotone()
    # The saved scorer's own conversion model (the chosen one, as refitted by calibrate): same numbers.
    chosen = scorer.conversion_model.predict_proba(X_test)[:, 1]
    assert np.allclose(chosen, scored[selection["chosen"]]), "the chosen candidate differs from the scorer's model"
    boot = params.evaluate.bootstrap
    ece_bins = params.evaluate.ece_bins
    resamples = bootstrap_metrics(
        y_test, {k: (p, p) for k, p in scored.items()}, n_resamples=boot.n, seed=boot.seed, bins=ece_bins
    )
    rows = {}
    for kind, p in scored.items():
        point = binary_metrics(y_test, p, bins=ece_bins)
        row = {
            metric: {"value": float(point[metric]), **percentile_interval(resamples[kind][metric], level=boot.level)}
            for metric in ("auc", "log_loss", "ece")
        }
        if kind != "oracle":
            gap = resamples["oracle"]["auc"] - resamples[kind]["auc"]
            row["auc_gap_to_oracle"] = {
                "value": float(point_oracle_auc(y_test, true_p, ece_bins) - point["auc"]),
                **percentile_interval(gap, level=boot.level),
            }
            row["calibration_cv"] = selection["candidates"].get(kind)
        rows[kind] = row
    return {
        "world": world,
        "profile": WORLDS[world],
        "n_leads": n_leads,
        "calibration_leads": len(y_cal),
        "test_leads": len(y_test),
        "test_base_rate": float(y_test.mean()),
        "pipeline_seconds": round(pipeline_s, 1),
        "chosen": selection["chosen"],
        "segments": segments,
        "selection": selection,
        "unconstrained_logistic_is_monotone": plain_monotone,
        "scorers": rows,
    }


def point_oracle_auc(y: np.ndarray, true_p: np.ndarray, bins: int) -> float:
    return float(binary_metrics(y, true_p, bins=bins)["auc"])


def _cell(m: dict) -> str:
    return f"{m['value']:.4f} [{m['low']:.4f}, {m['high']:.4f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--worlds", nargs="+", default=list(WORLDS), choices=list(WORLDS))
    parser.add_argument("--candidates", nargs="+", default=list(CONVERSION_KINDS), choices=list(CONVERSION_KINDS))
    parser.add_argument("--json-out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()
    console = Console(width=150)
    results = []
    for world in args.worlds:
        with (
            tempfile.TemporaryDirectory(prefix=f"conversion-{world}-") as tmp,
            console.status(f"{world} world: pipeline on {args.leads:,} leads, then every candidate"),
        ):
            result = measure(world, n_leads=args.leads, candidates=tuple(args.candidates), workdir=Path(tmp))
        results.append(result)
        table = Table(
            title=f"{world} world ({result['profile']}): {result['test_leads']:,} test leads, "
            f"chosen on the calibration split: {result['chosen']} (pipeline {result['pipeline_seconds']} s); "
            f"segment_spline's segments: {result['segments'] or 'none'}"
        )
        for column in (
            "scorer",
            "calibration CV log loss",
            "test AUC",
            "AUC gap to oracle",
            "test log loss",
            "test ECE",
        ):
            table.add_column(column)
        for kind, row in result["scorers"].items():
            cv = row.get("calibration_cv")
            table.add_row(
                kind + (" (chosen)" if kind == result["chosen"] else ""),
                f"{cv['cv_log_loss']:.5f}" if cv else "",
                _cell(row["auc"]),
                _cell(row["auc_gap_to_oracle"]) if "auc_gap_to_oracle" in row else "",
                _cell(row["log_loss"]),
                _cell(row["ece"]),
            )
        console.print(table)
        console.print(
            f"unconstrained logistic (before issue 15) monotone on the whole square: "
            f"{result['unconstrained_logistic_is_monotone']}"
        )
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
