"""Benchmark: point-in-time intent features for ~10M activity events (issue 14: <= 60 s, <= 2 GiB).

    .venv/bin/python bench/activity_features.py                 # ~575k synthetic leads -> ~10M events
    .venv/bin/python bench/activity_features.py --leads 50000   # a quick run

Step 1 (a child process, skipped when the files exist in --workdir) draws the synthetic CRM with its
activity log and writes the log as Parquet. Step 2 (a fresh child process, so its peak RSS is its own)
featurizes one snapshot per lead at the reference date, the worst case (every event of every lead is
before the as-of time), streaming the result into a Parquet file, and prints seconds, events/s and
peak RSS (``resource.getrusage``, Linux kilobytes).
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


def _generate(workdir: Path, leads: int, seed: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from leadscore.data.synthetic import REFERENCE_DATE, generate_crm

    t0 = time.perf_counter()
    crm = generate_crm(leads, seed=seed, activities=True)
    assert crm.activities is not None
    pq.write_table(
        pa.Table.from_pandas(crm.activities, preserve_index=False), workdir / "events.parquet", row_group_size=1_000_000
    )
    snaps = crm.leads[["lead_id", "created_at"]].assign(as_of=__import__("pandas").Timestamp(REFERENCE_DATE))
    pq.write_table(pa.Table.from_pandas(snaps, preserve_index=False), workdir / "snapshots.parquet")
    print(
        json.dumps(
            {
                "step": "generate",
                "leads": leads,
                "events": len(crm.activities),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    )


def _featurize(workdir: Path, threads: int, memory_limit: str) -> None:
    import pandas as pd
    import pyarrow.parquet as pq

    from leadscore.data.activities import ACTIVITY_TYPES
    from leadscore.features.activity import ActivityFeatureSpec, iter_point_in_time_features

    events_path = workdir / "events.parquet"
    n_events = pq.ParquetFile(events_path).metadata.num_rows
    t0 = time.perf_counter()
    snapshots = pd.read_parquet(workdir / "snapshots.parquet")
    spec = ActivityFeatureSpec(types=ACTIVITY_TYPES)
    rows = 0
    writer = None
    for batch in iter_point_in_time_features(
        events_path, snapshots, spec=spec, threads=threads, memory_limit=memory_limit
    ):
        if writer is None:
            writer = pq.ParquetWriter(workdir / "features.parquet", batch.schema)
        writer.write_batch(batch)
        rows += batch.num_rows
    if writer is not None:
        writer.close()
    seconds = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "step": "featurize",
                "events": n_events,
                "snapshots": rows,
                "features": len(spec.feature_names()),
                "threads": threads,
                "memory_limit": memory_limit,
                "seconds": round(seconds, 1),
                "events_per_s": round(n_events / seconds),
                "peak_rss_mib": round(peak_mib),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=575_000, help="synthetic leads (~17.5 events each)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit")
    parser.add_argument("--workdir", default=None, help="keep the generated files here (default: a temp dir)")
    parser.add_argument("--step", choices=["generate", "featurize"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step == "generate":
        _generate(Path(args.workdir), args.leads, args.seed)
        return
    if args.step == "featurize":
        _featurize(Path(args.workdir), args.threads, args.memory_limit)
        return

    with tempfile.TemporaryDirectory(prefix="leadscore-bench-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        me = [sys.executable, __file__, "--workdir", str(workdir), "--leads", str(args.leads), "--seed", str(args.seed)]
        if not (workdir / "events.parquet").is_file() or not (workdir / "snapshots.parquet").is_file():
            subprocess.run([*me, "--step", "generate"], check=True)
        subprocess.run(
            [*me, "--step", "featurize", "--threads", str(args.threads), "--memory-limit", args.memory_limit],
            check=True,
        )


if __name__ == "__main__":
    main()
