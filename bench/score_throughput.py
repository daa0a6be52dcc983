"""Batch-scoring benchmark: leads/s, peak memory and Dask vs single process, measured in one run.

    python bench/score_throughput.py                      # 1M and 10M leads
    python bench/score_throughput.py --sizes 1000000 --no-dask

Needs a trained scorer at models/lead_scorer.json: run `dvc repro` first (if it is missing the
script runs `dvc repro calibrate` itself). Synthetic leads are written to --workdir as Parquet, one
file per million leads (so generating 10M stays within bounded memory), and reused on later runs.

Printed, for each size N:
  - leads/s of `leadscore score` (single engine, Parquet in -> Parquet out, every output column),
    and peak RSS of that process (VmHWM, its own process, so sizes compare fairly);
  - at the first size: leads/s of raw `lightgbm.Booster.predict` of the fit and intent models on
    the already-featurized matrix, and the ratio score/raw (goal >= 0.5);
  - with Dask: a 2-worker LocalCluster on the first size, scores compared with the single engine
    (must be identical) and the speed ratio.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 1_000_000


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_score(args: list[str]) -> None:
    """Run `leadscore score ...` in this process and print seconds + peak RSS as JSON."""
    from leadscore.cli import app

    start = time.perf_counter()
    try:
        app(["score", "--no-progress", *args], standalone_mode=False)
    finally:
        print(json.dumps({"seconds": time.perf_counter() - start, "peak_rss_mib": _peak_rss_mib()}))


def run_child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        sys.exit(f"scoring failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_leads(n: int, workdir: Path) -> Path:
    """A directory of Parquet files holding ``n`` synthetic leads (unique ids), made once per size."""
    from leadscore.data.synthetic import generate_leads

    out = workdir / f"leads_{n}"
    done = out / "_done"
    if done.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    for i, start in enumerate(range(0, n, CHUNK)):
        leads, _ = generate_leads(min(CHUNK, n - start), seed=1000 + i)
        leads["lead_id"] = f"B{i:03d}-" + leads["lead_id"].astype(str)
        leads.to_parquet(out / f"part-{i:03d}.parquet", index=False)
        del leads
        print(f"  generated {min(start + CHUNK, n):,} / {n:,} leads", flush=True)
    done.write_text("ok")
    return out


def raw_booster_rate(model_path: Path, leads_dir: Path) -> tuple[float, float]:
    """(leads/s of Booster.predict of both models on pre-featurized leads, seconds of featurizing)."""
    import pandas as pd

    from leadscore.models.persistence import load_scorer

    scorer = load_scorer(model_path)
    raw = pd.read_parquet(leads_dir, columns=scorer.input_columns)
    t0 = time.perf_counter()
    X_fit, X_intent = scorer.featurizer.transform(raw)
    featurize_s = time.perf_counter() - t0
    # CalibratedBooster -> the LightGBM Booster (read from the scorer's JSON, as scoring uses it).
    fit_booster = scorer.fit_model.booster_
    intent_booster = scorer.intent_model.booster_
    t0 = time.perf_counter()
    fit_booster.predict(X_fit)
    intent_booster.predict(X_intent)
    return len(raw) / (time.perf_counter() - t0), featurize_s


def main() -> None:
    from leadscore.pipeline.paths import stage_path

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--model", type=Path, default=ROOT / stage_path("calibrate", "scorer_out", dvc_yaml=ROOT / "dvc.yaml")
    )
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "bench" / "data", help="where generated leads and scores go (gitignored)"
    )
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask comparison")
    args = parser.parse_args()

    if not args.model.is_file():
        print(f"{args.model} missing: running `dvc repro calibrate`", flush=True)
        subprocess.run(["dvc", "repro", "calibrate"], cwd=ROOT, check=True)
    results = {}
    for i, n in enumerate(args.sizes):
        print(f"N = {n:,}", flush=True)
        leads = make_leads(n, args.workdir)
        out = args.workdir / f"scores_{n}.parquet"
        single = run_child(
            [
                "--model",
                str(args.model),
                "--input",
                str(leads),
                "--output",
                str(out),
                "--chunk-size",
                str(args.chunk_size),
            ]
        )
        rate = n / single["seconds"]
        results[n] = {"score_leads_per_s": rate, "peak_rss_mib": single["peak_rss_mib"], "seconds": single["seconds"]}
        print(
            f"  leadscore score: {single['seconds']:.1f} s, {rate:,.0f} leads/s, "
            f"peak RSS {single['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
        if i == 0:
            raw_rate, featurize_s = raw_booster_rate(args.model, leads)
            results[n].update(raw_booster_leads_per_s=raw_rate, ratio=rate / raw_rate)
            print(
                f"  raw Booster.predict (fit + intent, pre-featurized): {raw_rate:,.0f} leads/s; "
                f"featurizing alone took {featurize_s:.1f} s",
                flush=True,
            )
            print(f"  ratio score / raw booster: {rate / raw_rate:.2f} (goal >= 0.5)", flush=True)
            if not args.no_dask:
                import pandas as pd

                dask_out = args.workdir / f"scores_{n}_dask"
                dask = run_child(
                    ["--model", str(args.model), "--input", str(leads), "--output", str(dask_out), "--engine", "dask"]
                )
                a = pd.read_parquet(out).drop(columns="scored_at").sort_values("lead_id", ignore_index=True)
                b = pd.read_parquet(dask_out).drop(columns="scored_at").sort_values("lead_id", ignore_index=True)
                identical = a.shape == b.shape and all(
                    a[c].astype(object).equals(b[c].astype(object)) for c in a.columns
                )
                results[n].update(
                    dask_seconds=dask["seconds"],
                    dask_identical=identical,
                    dask_speed_ratio=single["seconds"] / dask["seconds"],
                )
                print(
                    f"  dask 2-worker LocalCluster: {dask['seconds']:.1f} s "
                    f"({n / dask['seconds']:,.0f} leads/s, incl. cluster start), "
                    f"speed vs single process {single['seconds'] / dask['seconds']:.2f}x, "
                    f"scores identical: {identical}",
                    flush=True,
                )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_score(sys.argv[2:])
    else:
        main()
