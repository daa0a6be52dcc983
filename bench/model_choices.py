"""How issue 15's defaults were chosen: leaves per tree and train.intent_given_fit, by calibration-split log loss.

For each dataset (the default synthetic CRM, the second synthetic world, X Education) the pipeline's own
stages run in-process in a scratch directory: generate and featurize once, then train_fit, train_intent
and calibrate for every variant (15 or 4 leaves per tree for both models; the intent model trained alone
or on top of the fit model's log-odds). calibrate is run with the candidates ``[logistic, spline]`` so it
reports the **out-of-fold log loss of the logistic conversion model over 5 contiguous blocks of the
calibration split**, the quantity it selects by: that column decides. The test split's conversion AUC
(and the gap to the oracle where there is one) is printed beside it for the record, never used to choose.

    .venv/bin/python bench/model_choices.py                 # all three datasets, ~3 min on 2 cores
    .venv/bin/python bench/model_choices.py --only synthetic

Data: X Education from ../shared/datasets beside the repo (skipped with a note when absent).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from leadscore.data.outcomes import TEST
from leadscore.data.values import id_text
from leadscore.evaluation.metrics import binary_metrics
from leadscore.io import read_table
from leadscore.models.persistence import load_scorer
from leadscore.pipeline.local import run_stages
from leadscore.pipeline.tables import feature_matrix, rows_in
from leadscore.profiles import load_profile

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("synthetic", "synthetic_world2", "x_education")
VARIANTS = ((15, False), (15, True), (4, False), (4, True))  # (leaves, intent_given_fit)


def variant_params(params, *, leaves: int, given_fit: bool):
    train = params.train
    return params.model_copy(
        update={
            "train": train.model_copy(
                update={
                    "fit": train.fit.model_copy(update={"num_leaves": leaves}),
                    "intent": train.intent.model_copy(update={"num_leaves": leaves}),
                    "intent_given_fit": given_fit,
                }
            ),
            "calibrate": params.calibrate.model_copy(update={"conversion_candidates": ("logistic", "spline")}),
        }
    )


def test_figures(run, params) -> dict[str, float]:
    """The chosen scorer's conversion AUC on the test split, and the oracle's when the data has one."""
    scorer = load_scorer(run.path("calibrate", "scorer_out"))
    id_col = params.columns.id
    fit_table = read_table(run.path("featurize", "fit_out"))
    intent_table = read_table(run.path("featurize", "intent_out"))
    rows = rows_in(fit_table, TEST)
    p_fit = scorer.fit_model.predict_proba(feature_matrix(fit_table, id_col)[rows])[:, 1]
    p_intent = scorer.intent_model.predict_proba(feature_matrix(intent_table, id_col)[rows])[:, 1]
    p = scorer.conversion_model.predict_proba(np.column_stack([p_fit, p_intent]))[:, 1]
    y = fit_table.loc[rows, "label"].to_numpy().astype(int)
    out = {"test_auc": float(binary_metrics(y, p)["auc"])}
    truth = read_table(run.path("generate", "truth_out"))
    if len(truth):
        ids = id_text(fit_table.loc[rows, id_col]).to_numpy()
        true_p = truth.assign(**{id_col: id_text(truth[id_col])}).set_index(id_col).loc[ids, "true_p"].to_numpy()
        out["oracle_gap"] = float(binary_metrics(y, true_p)["auc"]) - out["test_auc"]
    return out


def measure(name: str, workdir: Path) -> list[dict]:
    params = load_profile(name, root=ROOT)
    dvc_yaml = ROOT / "dvc.yaml"
    run_stages(params, workdir=workdir, dvc_yaml=dvc_yaml, through="featurize")
    rows = []
    for leaves, given_fit in VARIANTS:
        p = variant_params(params, leaves=leaves, given_fit=given_fit)
        run = run_stages(
            p, workdir=workdir, dvc_yaml=dvc_yaml, start="train_fit", through="calibrate", skip=("baselines",)
        )
        selection = load_scorer(run.path("calibrate", "scorer_out")).extras["conversion_selection"]
        rows.append(
            {
                "dataset": name,
                "leaves": leaves,
                "intent_given_fit": given_fit,
                "calibration_cv_log_loss": selection["candidates"]["logistic"]["cv_log_loss"],
                **test_figures(run, p),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="datasets whose profile name starts with this")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    console = Console()
    os.chdir(ROOT)  # profiles name their data relative to the repo root
    results: list[dict] = []
    for name in DATASETS:
        if not name.startswith(args.only):
            continue
        if name == "x_education" and not (ROOT.parent / "shared/datasets/x_education_leads/Leads.csv").is_file():
            console.print("x_education: ../shared/datasets/x_education_leads/Leads.csv not found, skipped")
            continue
        with tempfile.TemporaryDirectory() as tmp, console.status(f"{name}: 4 variants"):
            results.extend(measure(name, Path(tmp)))
    table = Table(title="Calibration-split CV log loss of the logistic conversion model (decides); test for the record")
    for column in ("dataset", "leaves", "intent given fit", "calibration CV log loss", "test AUC", "gap to oracle"):
        table.add_column(column)
    for r in results:
        gap = f"{r['oracle_gap']:.4f}" if "oracle_gap" in r else ""
        table.add_row(
            r["dataset"],
            str(r["leaves"]),
            str(r["intent_given_fit"]),
            f"{r['calibration_cv_log_loss']:.5f}",
            f"{r['test_auc']:.4f}",
            gap,
        )
    console.print(table)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
