"""Bank Marketing's forward split: does calibrating on recent closed leads absorb the moved base rate?

    PYTHONPATH=src python bench/recalibration_bank.py [--workdir DIR] [--blocks 8] [--window 1.0]

Runs the bank_marketing profile through baselines with the real stage functions (data from
../shared/datasets or LEADSCORE_SHARED_DATASETS), then scores the test split (the last 20% of rows,
base rate ~32% against ~12% in the calibration split) three ways, ECE over the whole test split:

1. the pipeline's scorer, calibrated on the calibration split (``calibrate.window: split``);
2. ``calibrate.window: share`` of the calibration split (its most recent part: nothing later is known):
   first as many leads as one block of 3. (a size fixed before looking at the test split), then
   ``--shares`` (all printed, none chosen on the test split);
3. monthly recalibration without retraining, the loop ``calibrate.window`` is for: the test split is
   cut into ``--blocks`` consecutive blocks; before each block the same boosters are recalibrated
   (:func:`leadscore.pipeline.calibrate.build_scorer`) on the ``--window`` x block-size closed leads
   just before it (earlier test blocks included: their outcomes are known by then), then score it.
   No block is ever scored by a calibration that saw it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.config import CalibrateWindowConfig
from leadscore.data.outcomes import CALIBRATION, TEST, lead_order
from leadscore.evaluation.metrics import binary_metrics
from leadscore.io import read_table
from leadscore.models.persistence import load_booster, load_featurizer
from leadscore.pipeline.calibrate import build_scorer
from leadscore.pipeline.local import run_stages
from leadscore.profiles import load_profile

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("LEADSCORE_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", default="/tmp/leadscore-bank-recalibration")
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--window", type=float, default=1.0, help="calibration leads per block, in block sizes")
    parser.add_argument(
        "--shares",
        type=float,
        nargs="*",
        default=[0.25, 0.05],
        help="calibrate.window shares to print besides one block's worth (every one printed; none chosen on test)",
    )
    args = parser.parse_args()
    params = load_profile("bank_marketing", root=ROOT)  # profiles/base.yaml overlaid with it
    source = DATASETS / "bank_marketing" / "bank-full.csv"
    params = params.model_copy(update={"data": params.data.model_copy(update={"source": str(source)})})
    work = Path(args.workdir)
    run = run_stages(params, workdir=work, dvc_yaml=ROOT / "dvc.yaml", through="baselines")
    leads = read_table(run.path("generate", "leads_out"))
    fit_table = read_table(run.path("featurize", "fit_out"))
    intent_table = read_table(run.path("featurize", "intent_out"))
    boosters = {g: load_booster(run.path(f"train_{g}", "model_out")) for g in ("fit", "intent")}
    featurizer = load_featurizer(run.path("featurize", "featurizer_out"))
    order = lead_order(leads, split=params.split, columns=params.columns)
    test = (fit_table["split"] == TEST).to_numpy()
    y_test = fit_table.loc[test, "label"].to_numpy(dtype=int)
    bins = params.evaluate.ece_bins

    def scorer(table: pd.DataFrame, window: CalibrateWindowConfig):
        p = params.model_copy(update={"calibrate": params.calibrate.model_copy(update={"window": window})})
        return build_scorer(
            p,
            fit_table=table,
            intent_table=intent_table.assign(split=table["split"]),
            fit_model=boosters["fit"],
            intent_model=boosters["intent"],
            featurizer=featurizer,
            order=order,
        )

    def ece(p_test: np.ndarray) -> str:
        m = binary_metrics(y_test, p_test, bins=bins)
        return (
            f"ECE {m['ece']:.3f}, log loss {m['log_loss']:.3f}, AUC {m['auc']:.3f}, mean predicted {p_test.mean():.3f}"
        )

    print(
        f"test split: {test.sum():,} leads, base rate {y_test.mean():.3f}; calibration split base rate "
        f"{fit_table.loc[fit_table['split'] == CALIBRATION, 'label'].mean():.3f}"
    )
    # The most recent closed leads, as many as one monthly-recalibration block (decided before looking
    # at the test split: the same window size as the loop below), then the other shares asked for.
    cal_rows = int((fit_table["split"] == CALIBRATION).sum())
    block_share = round(args.window * test.sum() / args.blocks / cal_rows, 3)
    shares = [block_share, *(s for s in args.shares if s != block_share)]
    windows = [CalibrateWindowConfig(), *(CalibrateWindowConfig(method="share", value=s) for s in shares)]
    for window in windows:
        p_test = scorer(fit_table, window).predict(leads[test])["conversion_probability"].to_numpy()
        note = f" (the last {round(window.value * cal_rows):,} calibration leads)" if window.value else ""
        print(f"calibrate.window {window.method} {window.value or ''}{note}: {ece(p_test)}")

    # Monthly recalibration: closed rows in time order; the test split cut into blocks.
    positions = np.flatnonzero(test)[np.argsort(order[test].to_numpy(), kind="stable")]
    closed_sorted = np.flatnonzero(fit_table["label"].notna().to_numpy())
    closed_sorted = closed_sorted[np.argsort(order.iloc[closed_sorted].to_numpy(), kind="stable")]
    rank = {pos: i for i, pos in enumerate(closed_sorted)}
    blocks = np.array_split(positions, args.blocks)
    size = round(args.window * len(positions) / args.blocks)
    p_rolling = pd.Series(np.nan, index=fit_table.index)
    for block in blocks:
        first = rank[block[0]]
        window_rows = closed_sorted[max(0, first - size) : first]
        table = fit_table.assign(split=np.where(np.isin(np.arange(len(fit_table)), window_rows), CALIBRATION, "other"))
        s = scorer(table, CalibrateWindowConfig())
        p_rolling.iloc[block] = s.predict(leads.iloc[block])["conversion_probability"].to_numpy()
    print(
        f"recalibrated before each of {args.blocks} blocks on the {size:,} closed leads just before it: "
        f"{ece(p_rolling[test].to_numpy())}"
    )


if __name__ == "__main__":
    main()
