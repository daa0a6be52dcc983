"""The README's `leadscore changes` example, reproducible (issue 14, score history).

    .venv/bin/python bench/score_history_example.py --out /tmp/history-example

Trains a small scorer on 5,000 synthetic leads (the repository's params, 50 trees; generate ->
calibrate in-process), then scores 300 open leads with `leadscore score --as-of ... --history ...`
as of 1, 8 and 15 March 2026. Between the snapshots three leads get busier (demo requested, trial
started, +6 pricing-page views, +20 web visits, last activity a day ago; the first of them already
by 8 March) and two go quiet (no web visits or pricing-page views, 45 more days since their last
activity). Finally runs `leadscore changes --since 2026-03-01` and writes changes.csv.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from leadscore.config import load_params
from leadscore.models.persistence import save_display
from leadscore.models.scorer import display_from_params
from leadscore.pipeline.local import run_stages, small_params

ROOT = Path(__file__).resolve().parents[1]


def busier(frame: pd.DataFrame, rows: pd.Series) -> None:
    frame.loc[rows, ["demo_requested", "trial_started"]] = True
    frame.loc[rows, "pricing_page_views"] += 6
    frame.loc[rows, "web_visits_30d"] += 20
    frame.loc[rows, "days_since_last_activity"] = 1


def quieter(frame: pd.DataFrame, rows: pd.Series) -> None:
    frame.loc[rows, ["web_visits_30d", "pricing_page_views"]] = 0
    frame.loc[rows, "days_since_last_activity"] += 45


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="a new working directory")
    parser.add_argument("--leads", type=int, default=5000)
    args = parser.parse_args()
    root = args.out.resolve()
    root.mkdir(parents=True, exist_ok=True)
    params = small_params(load_params(ROOT / "params.yaml"), n_leads=args.leads, n_estimators=50)
    run = run_stages(
        params, workdir=root / "work", dvc_yaml=ROOT / "dvc.yaml", through="calibrate", skip=("register", "baselines")
    )
    models = root / "models"
    models.mkdir(exist_ok=True)
    shutil.copy(run.path("calibrate", "scorer_out"), models / "lead_scorer.json")
    save_display(display_from_params(params), models / "display.json")

    leads = pd.read_parquet(run.path("generate", "leads_out"))
    batch = leads[leads["status"] == "open"].head(300).reset_index(drop=True)
    up, down = batch["lead_id"].iloc[:3].tolist(), batch["lead_id"].iloc[3:5].tolist()
    middle, last = batch.copy(), batch.copy()
    busier(middle, middle["lead_id"].isin(up[:1]))
    busier(last, last["lead_id"].isin(up))
    quieter(last, last["lead_id"].isin(down))
    print(f"busier: {', '.join(up)}; quieter: {', '.join(down)}")

    leadscore = str(Path(sys.executable).with_name("leadscore"))
    env = {**os.environ, "COLUMNS": "140"}
    for day, frame in (("2026-03-01", batch), ("2026-03-08", middle), ("2026-03-15", last)):
        frame.to_parquet(root / f"leads-{day}.parquet", index=False)
        subprocess.run(
            [
                leadscore,
                "score",
                "--no-progress",
                "--model",
                str(models),
                "--input",
                str(root / f"leads-{day}.parquet"),
                "--output",
                str(root / f"scores-{day}.parquet"),
                "--as-of",
                day,
                "--history",
                str(root / "score_history"),
            ],
            check=True,
            env=env,
        )
    subprocess.run(
        [
            leadscore,
            "changes",
            "--history",
            str(root / "score_history"),
            "--since",
            "2026-03-01",
            "--top",
            "5",
            "--display",
            str(models / "display.json"),
            "--out",
            str(root / "changes.csv"),
        ],
        check=True,
        env=env,
    )


if __name__ == "__main__":
    main()
