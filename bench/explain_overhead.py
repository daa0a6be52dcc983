"""What do per-lead reasons cost? Scoring 1M leads with and without explanations, in one run.

    PYTHONPATH=src python bench/explain_overhead.py [--leads 1000000] [--train-leads 100000]

Trains a scorer with the real stage functions on `--train-leads` synthetic leads (params.yaml
otherwise), then scores `--leads` fresh synthetic leads (a different seed) with
``LeadScorer.predict(explain=False)`` and ``explain=True``, and prints both times and their ratio
(goal: at most 3x). Explanations are checked against LightGBM's own pred_contrib on a sample.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from leadscore.config import load_params
from leadscore.data.synthetic import generate_leads
from leadscore.models.explain import lightgbm_model, shap_contributions
from leadscore.models.persistence import load_scorer
from leadscore.models.scorer import display_from_params
from leadscore.pipeline.local import run_stages

ROOT = Path(__file__).resolve().parents[1]


def train_scorer(params, n_leads: int, workdir: Path):
    small = params.model_copy(
        update={
            "data": params.data.model_copy(
                update={"synthetic": params.data.synthetic.model_copy(update={"n_leads": n_leads})}
            )
        }
    )
    run = run_stages(small, workdir=workdir, dvc_yaml=ROOT / "dvc.yaml", through="calibrate")
    return load_scorer(run.path("calibrate", "scorer_out")).with_display(display_from_params(small))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--train-leads", type=int, default=100_000)
    parser.add_argument("--params", default="params.yaml")
    args = parser.parse_args()
    console = Console()
    params = load_params(args.params)
    with (
        tempfile.TemporaryDirectory() as tmp,
        console.status(f"training a scorer on {args.train_leads:,} synthetic leads"),
    ):
        scorer = train_scorer(params, args.train_leads, Path(tmp))
    with console.status(f"generating {args.leads:,} leads to score"):
        raw, _ = generate_leads(args.leads, seed=params.data.synthetic.seed + 1)
    for group in ("fit", "intent"):
        model = lightgbm_model(getattr(scorer, f"{group}_model"))
        console.print(f"{group} model: {model.best_iteration_} trees, {model.booster_.num_feature()} features")

    with console.status("scoring without explanations"):
        start = time.perf_counter()
        plain = scorer.predict(raw)
        t_plain = time.perf_counter() - start
    with console.status("scoring with explanations"):
        start = time.perf_counter()
        explained = scorer.predict(raw, explain=True)
        t_explain = time.perf_counter() - start
    assert explained[plain.columns].equals(plain)

    # Exactness spot check: the deduplicated TreeSHAP equals LightGBM's pred_contrib on a sample.
    sample = raw.sample(5_000, random_state=0)
    X_fit, X_intent = scorer.featurizer.transform(sample)
    worst = 0.0
    for model, X in ((scorer.fit_model, X_fit), (scorer.intent_model, X_intent)):
        ours = shap_contributions(model, X).to_numpy()
        reference = lightgbm_model(model).booster_.predict(X, pred_contrib=True)
        worst = max(worst, float(np.abs(ours - reference).max()))
    with console.status("plain pred_contrib on 20,000 leads, for comparison"):
        head = raw.head(20_000)
        X_fit, X_intent = scorer.featurizer.transform(head)
        start = time.perf_counter()
        for model, X in ((scorer.fit_model, X_fit), (scorer.intent_model, X_intent)):
            lightgbm_model(model).booster_.predict(X, pred_contrib=True)
        t_naive = (time.perf_counter() - start) * len(raw) / len(head)

    ratio = t_explain / t_plain
    console.print(f"leads scored:                 {len(raw):,}")
    console.print(f"predict(explain=False):       {t_plain:7.1f} s")
    console.print(f"predict(explain=True):        {t_explain:7.1f} s")
    console.print(
        f"[bold]ratio:                        {ratio:7.2f}x[/]  (goal <= 3x: {'met' if ratio <= 3 else 'NOT met'})"
    )
    console.print(
        f"plain pred_contrib, both models, extrapolated from 20k leads: {t_naive:7.1f} s (reasons not even formatted)"
    )
    console.print(f"max |difference| vs LightGBM pred_contrib on 5,000 leads: {worst:.1e}")
    console.print(
        "example:",
        explained.iloc[0][
            ["lead_id", "quadrant", *[c for c in explained.columns if "reason" in c or c == "quadrant_summary"]]
        ].to_dict(),
    )


if __name__ == "__main__":
    main()
