"""Where the second world's AUC gap to the oracle comes from (issue 15): fit model, intent model, or
the conversion model's shape.

The second synthetic world (profiles/synthetic_world2.yaml) knows its truth in three parts: a fit term, an
intent term and a per-segment intent weight (``logit p = b0 + fit + weight * intent``; see
leadscore.data.synthetic, which returns them as latents). The pipeline runs in-process (generate ->
calibrate, under a scratch directory) as `make run` would on that profile. Then the conversion model the
calibrate stage chose (segment_spline, with the segments it chose) is fitted on the calibration split again
four times, each time with one or both of its inputs replaced by the world's true part, and scored on the
test split:

* our fit + our intent: the pipeline itself (the same numbers as the saved scorer);
* true fit + our intent: what a perfect fit model would give (the gap left is the intent model's);
* our fit + true intent: what a perfect intent model would give;
* true fit + true intent: both perfect; what is left is the conversion model's shape (an offset and an
  extra intent slope per level of each segment, where the world multiplies an industry weight by a
  seniority weight).

Gaps to the oracle (true probability) come with paired percentile bootstrap intervals (params
evaluate.bootstrap). One LightGBM on all features (the baselines stage) is the reference. Nothing is
chosen here: the test split is only measured.

Run: ``.venv/bin/python bench/world2_ceiling.py`` (100,000 leads, about 40 s; ``--leads 300000`` for
the same at three times the data, about 2 minutes).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from conversion_candidates import ROOT, world_params
from rich.console import Console
from rich.table import Table

from leadscore.data.outcomes import CALIBRATION, TEST
from leadscore.data.synthetic import _generate
from leadscore.data.values import id_text
from leadscore.evaluation.bootstrap import bootstrap_metrics, percentile_interval
from leadscore.evaluation.metrics import binary_metrics
from leadscore.io import read_table
from leadscore.models.calibration import conversion_inputs, expit, new_conversion_model
from leadscore.models.persistence import load_scorer
from leadscore.pipeline.local import run_stages
from leadscore.pipeline.tables import feature_matrix, rows_in
from leadscore.profiles import load_profile

PROFILE = "synthetic_world2"
INPUTS = {
    "our fit + our intent (the pipeline)": ("ours", "ours"),
    "true fit + our intent": ("true", "ours"),
    "our fit + true intent": ("ours", "true"),
    "true fit + true intent": ("true", "true"),
}


def measure(*, n_leads: int, workdir: Path, seed: int | None = None) -> dict:
    candidates = tuple(load_profile(PROFILE, root=ROOT).calibrate.conversion_candidates)
    params = world_params("interactions", n_leads=n_leads, candidates=candidates)
    if seed is not None:  # another sample of the same world (the generator's seed)
        synthetic = params.data.synthetic.model_copy(update={"seed": seed})
        params = params.model_copy(update={"data": params.data.model_copy(update={"synthetic": synthetic})})
    start = time.perf_counter()
    run = run_stages(params, workdir=workdir, dvc_yaml=ROOT / "dvc.yaml", through="calibrate")
    pipeline_s = time.perf_counter() - start
    scorer = load_scorer(run.path("calibrate", "scorer_out"))
    selection = scorer.extras["conversion_selection"]
    if selection["chosen"] != "segment_spline":
        raise SystemExit(f"calibrate chose {selection['chosen']}, not segment_spline: this bench measures the latter")
    segments = selection["candidates"]["segment_spline"]["segments"]
    id_col = params.columns.id

    # The world's parts, from the generator with the profile's own arguments (same seed: same leads).
    s = params.data.synthetic
    _, truth, latents = _generate(
        s.n_leads, seed=s.seed, reference_date=s.reference_date, months=s.months, drift=s.drift, world=s.world
    )
    saved_truth = read_table(run.path("generate", "truth_out"))
    assert np.array_equal(truth["true_p"].to_numpy(), saved_truth["true_p"].to_numpy()), "not the same leads"
    parts = latents.assign(true_p=truth["true_p"].to_numpy()).set_index(id_text(latents["lead_id"]))

    fit_table = read_table(run.path("featurize", "fit_out"))
    intent_table = read_table(run.path("featurize", "intent_out"))

    def inputs(split: str) -> dict:
        rows = rows_in(fit_table, split)
        X_fit = feature_matrix(fit_table, id_col)[rows]
        ids = id_text(fit_table.loc[rows, id_col]).to_numpy()
        return {
            "X_fit": X_fit,
            "y": fit_table.loc[rows, "label"].to_numpy().astype(int),
            "fit": {"ours": scorer.fit_model.predict_proba(X_fit)[:, 1], "true": expit(parts.loc[ids, "world2_fit"])},
            "intent": {
                "ours": scorer.intent_model.predict_proba(feature_matrix(intent_table, id_col)[rows])[:, 1],
                "true": expit(parts.loc[ids, "world2_intent"]),
            },
            "true_p": parts.loc[ids, "true_p"].to_numpy(),
            "ids": ids,
        }

    cal, test = inputs(CALIBRATION), inputs(TEST)
    baselines = read_table(run.path("baselines", "scores_out"))
    all_features = baselines.set_index(id_text(baselines[id_col])).loc[test["ids"], "lightgbm_all_probability"]
    scored = {"oracle": test["true_p"], "lightgbm_all_features": all_features.to_numpy()}
    for name, (fit_from, intent_from) in INPUTS.items():
        model = new_conversion_model("segment_spline", segments=segments).fit(
            conversion_inputs(cal["fit"][fit_from], cal["intent"][intent_from], cal["X_fit"], segments=segments),
            cal["y"],
        )
        X_test = conversion_inputs(test["fit"][fit_from], test["intent"][intent_from], test["X_fit"], segments=segments)
        scored[name] = model.predict_proba(X_test)[:, 1]
    pipeline = scorer.conversion_model.predict_proba(
        conversion_inputs(test["fit"]["ours"], test["intent"]["ours"], test["X_fit"], segments=segments)
    )[:, 1]
    assert np.allclose(pipeline, scored["our fit + our intent (the pipeline)"]), "differs from the saved scorer"

    y = test["y"]
    boot, bins = params.evaluate.bootstrap, params.evaluate.ece_bins
    resamples = bootstrap_metrics(
        y, {k: (p, p) for k, p in scored.items()}, n_resamples=boot.n, seed=boot.seed, bins=bins
    )
    oracle_auc = float(binary_metrics(y, scored["oracle"], bins=bins)["auc"])
    rows = {}
    for name, p in scored.items():
        point = binary_metrics(y, p, bins=bins)
        row = {
            m: {"value": float(point[m]), **percentile_interval(resamples[name][m], level=boot.level)}
            for m in ("auc", "log_loss")
        }
        if name != "oracle":
            gap = resamples["oracle"]["auc"] - resamples[name]["auc"]
            row["auc_gap_to_oracle"] = {
                "value": oracle_auc - float(point["auc"]),
                **percentile_interval(gap, level=boot.level),
            }
        rows[name] = row
    return {
        "profile": PROFILE,
        "n_leads": n_leads,
        "seed": params.data.synthetic.seed,
        "test_leads": len(y),
        "pipeline_seconds": round(pipeline_s, 1),
        "segments": segments,
        "scorers": rows,
    }


def _cell(m: dict) -> str:
    return f"{m['value']:.4f} [{m['low']:.4f}, {m['high']:.4f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=None, help="the generator's seed (default: the profile's, 42)")
    parser.add_argument("--json-out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()
    console = Console(width=140)
    with (
        tempfile.TemporaryDirectory(prefix="world2-ceiling-") as tmp,
        console.status(f"second world: pipeline on {args.leads:,} leads, then the conversion model on true parts"),
    ):
        result = measure(n_leads=args.leads, workdir=Path(tmp), seed=args.seed)
    table = Table(
        title=f"second world, {args.leads:,} leads, seed {result['seed']} ({result['test_leads']:,} test leads, "
        f"pipeline {result['pipeline_seconds']} s): segment_spline on {result['segments']}, fitted on the "
        "calibration split"
    )
    for column in ("conversion model inputs", "test AUC", "AUC gap to oracle", "test log loss"):
        table.add_column(column)
    for name, row in result["scorers"].items():
        gap = row.get("auc_gap_to_oracle")
        table.add_row(name, _cell(row["auc"]), _cell(gap) if gap else "", _cell(row["log_loss"]))
    console.print(table)
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
