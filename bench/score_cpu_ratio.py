"""A load-robust companion to score_throughput.py: CPU seconds instead of wall seconds.

    python bench/score_cpu_ratio.py --model models/lead_scorer.joblib --leads bench/data/leads_1000000

On a shared machine the wall-clock ratio "score / raw Booster.predict" swings with the other jobs
(the raw booster, two threads, suffers more than the mostly single-threaded pipeline). CPU time
does not: this script measures the CPU seconds of a whole `leadscore score` run (a child process:
imports, reading, contract checks, featurizing, predicting, BANT, writing) and of the two boosters'
`predict` on the same leads, and estimates the ratio an idle 2-core machine would show, assuming
the booster's work spreads over both cores and the rest runs on one:

    idle ratio ~ (booster_cpu / 2) / (booster_cpu / 2 + (score_cpu - booster_cpu))

It is an estimate, not the benchmark: the goal is judged with score_throughput.py on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--leads", type=Path, required=True, help="Parquet file or directory of leads")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        before, start = _children_cpu(), time.perf_counter()
        command = [sys.executable, "-m", "leadscore", "score", "--no-progress", "--model", str(args.model)]
        command += ["--input", str(args.leads), "--output", str(Path(tmp) / "scores.parquet")]
        subprocess.run(command, check=True, capture_output=True)
        score_cpu, score_wall = _children_cpu() - before, time.perf_counter() - start

    import pandas as pd

    from leadscore.io import load_object

    scorer = load_object(args.model)
    raw = pd.read_parquet(args.leads, columns=scorer.input_columns)
    X_fit, X_intent = scorer.featurizer.transform(raw)
    # CalibratedClassifierCV -> _CalibratedClassifier -> FrozenEstimator -> LGBMClassifier -> Booster.
    boosters = [
        m.calibrated_classifiers_[0].estimator.estimator.booster_ for m in (scorer.fit_model, scorer.intent_model)
    ]
    before, start = _self_cpu(), time.perf_counter()
    boosters[0].predict(X_fit)
    boosters[1].predict(X_intent)
    booster_cpu, booster_wall = _self_cpu() - before, time.perf_counter() - start
    overhead = score_cpu - booster_cpu
    print(
        json.dumps(
            {
                "leads": len(raw),
                "score_cpu_s": round(score_cpu, 1),
                "score_wall_s": round(score_wall, 1),
                "booster_cpu_s": round(booster_cpu, 1),
                "booster_wall_s": round(booster_wall, 1),
                "overhead_cpu_s": round(overhead, 1),
                "idle_ratio_estimate": round((booster_cpu / 2) / (booster_cpu / 2 + overhead), 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
