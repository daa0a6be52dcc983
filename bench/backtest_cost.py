"""What does the backtest cost next to the training it repeats? (issue 11: at most 3x)

    PYTHONPATH=src python bench/backtest_cost.py [--leads 100000] [--repeat 1] [--profile]
        [--set train.n_jobs=1 --set backtest.learning_rate=0.2 ...]

Runs the stages of dvc.yaml in-process (``leadscore.pipeline.local.run_stages``) on the default params
(``params.yaml``), in a temporary directory: generate and featurize untimed, then times train_fit,
train_intent, calibrate and backtest one by one (wall clock; CPU time of the process and its workers) and prints
the ratio backtest / (train_fit + train_intent + calibrate). ``--repeat`` runs the timed stages that
many times and reports each stage's median, which steadies the ratio on a shared machine.
``--profile`` prints the backtest's top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from leadscore.config import Params, load_params
from leadscore.pipeline.local import run_stages

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ("train_fit", "train_intent", "calibrate")


def with_overrides(params: Params, overrides: list[str]) -> Params:
    """``params`` with ``a.b.c=value`` overrides (values parsed as YAML)."""
    raw = params.model_dump(mode="json")
    for item in overrides:
        key, _, value = item.partition("=")
        node = raw
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = yaml.safe_load(value)
    return Params.model_validate(raw)


def timed(params: Params, stage: str, workdir: Path, *, profile: bool = False) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its worker processes) of one stage."""
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), _cpu()
    if profiler:
        profiler.enable()
    run_stages(params, workdir=workdir, dvc_yaml=ROOT / "dvc.yaml", start=stage, through=stage, skip=())
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    return time.perf_counter() - wall, _cpu() - cpu


def _cpu() -> float:
    # Children too: backtest.n_jobs > 1 retrains periods in worker processes.
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=None, help="data.synthetic.n_leads (default: params.yaml's)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="key.path=value")
    args = parser.parse_args()
    overrides = list(args.overrides)
    if args.leads:
        overrides.append(f"data.synthetic.n_leads={args.leads}")
    params = with_overrides(load_params(ROOT / "params.yaml"), overrides)
    print(f"{params.data.synthetic.n_leads:,} leads; overrides: {overrides or 'none'}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        run_stages(params, workdir=workdir, dvc_yaml=ROOT / "dvc.yaml", through="featurize")
        times: dict[str, list[tuple[float, float]]] = {s: [] for s in (*TRAINING, "backtest")}
        for i in range(args.repeat):
            for stage in (*TRAINING, "backtest"):
                profile = args.profile and stage == "backtest" and i == 0
                times[stage].append(timed(params, stage, workdir, profile=profile))
                wall, cpu = times[stage][-1]
                print(f"  run {i + 1}: {stage:13} {wall:7.1f} s wall {cpu:7.1f} s cpu", flush=True)
        report = json.loads((workdir / "reports" / "backtest.json").read_text())
    # The floors, every month: AUC within 0.015 of the oracle, >= 1.4x BANT's wins at its volume.
    for p in report["periods"]:
        s = p["scorers"]
        gap = s["oracle"]["auc"] - s["conversion"]["auc"] if "oracle" in s else float("nan")
        trees = p["trained_on"]["trees"]
        oracle = s["oracle"]["auc"] if "oracle" in s else float("nan")
        print(
            f"  {p['label']}: n {p['n']:,}, base rate {p['base_rate']:.3f}, conversion AUC {s['conversion']['auc']:.3f}"
            f" (oracle {oracle:.3f}, gap {gap:.3f}; BANT {s['bant']['auc']:.3f}; all-features "
            f"{s['all_features']['auc']:.3f}), capacity ratio {p['capacity_ratio']:.2f}x, "
            f"ECE {s['conversion']['ece']:.3f}, trees fit/intent {trees['fit']}/{trees['intent']}"
        )
    median = {s: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for s, t in times.items()}
    training = sum(median[s][0] for s in TRAINING), sum(median[s][1] for s in TRAINING)
    backtest = median["backtest"]
    print(
        f"train_fit + train_intent + calibrate: {training[0]:.1f} s wall ({training[1]:.1f} s cpu); "
        f"backtest: {backtest[0]:.1f} s wall ({backtest[1]:.1f} s cpu)"
    )
    print(f"ratio backtest / training: {backtest[0] / training[0]:.2f}x wall, {backtest[1] / training[1]:.2f}x cpu")


if __name__ == "__main__":
    main()
