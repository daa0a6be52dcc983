"""A profile's pipeline with and without tuning (issue 15): stage times, test-split figures, the searches.

Runs the profile's stages in-process (generate .. evaluate, no MLflow) in a temporary directory, once
with ``train.tune`` as the profile sets it and, with ``--compare``, once more with tuning off on the
same data, and prints a markdown table: seconds per stage, conversion AUC / log loss / ECE on the test
split (with the bootstrap interval of the AUC), the oracle and the all-features LightGBM when the
evaluate stage reports them, and each search's fold log loss (configured vs best).

    python bench/tuned_run.py --profile tuned --compare
    python bench/tuned_run.py --profile x_education_tuned --data-root ../shared/datasets
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

from leadscore.config import Params
from leadscore.pipeline.local import run_stages
from leadscore.pipeline.paths import stage_commands
from leadscore.profiles import load_profile

REPO_ROOT = Path(__file__).resolve().parents[1]
DVC_YAML = REPO_ROOT / "dvc.yaml"


def run_once(params: Params) -> dict:
    """Stage by stage through evaluate: seconds per stage, the test metrics and the tuning reports."""
    stages = list(stage_commands(DVC_YAML))
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for stage in stages[: stages.index("evaluate") + 1]:
            if stage == "backtest":
                continue
            start = time.perf_counter()
            run = run_stages(params, workdir=tmp, dvc_yaml=DVC_YAML, through=stage, start=stage)
            seconds[stage] = time.perf_counter() - start
        metrics = json.loads(run.path("evaluate", "metrics_out").read_text())
        tuning = {g: json.loads(run.path(f"train_{g}", "tuning_out").read_text()) for g in ("fit", "intent")}
    return {"seconds": seconds, "metrics": metrics, "tuning": tuning}


def _auc_interval(metrics: dict, key: str) -> str:
    auc = ((metrics.get("bootstrap") or {}).get("intervals") or {}).get(key, {}).get("auc")
    if isinstance(auc, dict) and "low" in auc and "high" in auc:
        return f" [{auc['low']:.3f}, {auc['high']:.3f}]"
    return ""


def markdown(name: str, result: dict) -> str:
    m, s = result["metrics"], result["seconds"]
    lines = [f"**{name}**: {sum(s.values()):.0f} s in all (" + ", ".join(f"{k} {v:.0f} s" for k, v in s.items()) + ")"]
    lines += ["", "| test split | AUC | log loss | ECE |", "|---|---:|---:|---:|"]
    for key in ("conversion", "lightgbm_all", "oracle"):
        if key in m["test"]:
            r = m["test"][key]
            lines.append(f"| {key} | {r['auc']:.4f}{_auc_interval(m, key)} | {r['log_loss']:.4f} | {r['ece']:.4f} |")
    for group, report in result["tuning"].items():
        if report.get("enabled"):
            lines.append(
                f"\n{group}: {report['n_trials_completed']} trials in {report['seconds']:.0f} s, fold log loss "
                f"{report['configured_log_loss']:.4f} configured -> {report['best_log_loss']:.4f} (trial "
                f"{report['best_trial']}): {json.dumps(report['best_params'])}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="tuned")
    default_root = os.environ.get("LEADSCORE_SHARED_DATASETS", str(REPO_ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--data-root", type=Path, default=Path(default_root))
    parser.add_argument("--compare", action="store_true", help="also run with train.tune off")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    params = load_profile(args.profile, root=REPO_ROOT)
    source = params.data.source.replace("../shared/datasets", str(args.data_root), 1)
    params = params.model_copy(update={"data": params.data.model_copy(update={"source": source})})
    variants = {f"{args.profile} (train.tune on)": params}
    if args.compare:
        off = params.train.model_copy(update={"tune": params.train.tune.model_copy(update={"enabled": False})})
        variants[f"{args.profile} (train.tune off)"] = params.model_copy(update={"train": off})
    results = {}
    for name, p in variants.items():
        results[name] = run_once(p)
        print(markdown(name, results[name]), end="\n\n", flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
