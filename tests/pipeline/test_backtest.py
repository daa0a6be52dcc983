"""Stage backtest on a small synthetic CRM: the report's shape, the chart, the page and dvc plots tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from support import run_pipeline, small_params


def test_backtest_retrains_per_month_and_reports_every_scorer(params, tmp_path):
    small = small_params(params, n_leads=6_000, n_estimators=60, learning_rate=0.15)
    from leadscore.config import BacktestConfig

    backtest = BacktestConfig(periods=3, n_estimators=40, learning_rate=0.15, bootstrap={"n": 20, "seed": 1})
    small = small.model_copy(update={"backtest": backtest})
    generated = run_pipeline(small, tmp_path, through="generate")
    run = run_pipeline(small, tmp_path, start="backtest", through="backtest")
    report = json.loads(run.path("backtest", "out").read_text())
    raw = pd.read_parquet(generated.path("generate", "leads_out"))
    closed = raw[raw["status"] != "open"]
    months = closed["created_at"].dt.to_period("M").astype(str).value_counts()
    assert 1 <= len(report["periods"]) <= 3
    for period in report["periods"]:
        assert period["n"] == months[period["label"]]
        assert set(period["scorers"]) == {"conversion", "bant", "all_features", "oracle"}
        assert period["scorers"]["conversion"]["auc"] > period["scorers"]["bant"]["auc"]
        assert {"start", "end", "base_rate", "capacity_ratio"} <= set(period)
        # Retrained on what came before the period only.
        assert period["trained_on"]["leads"] == int((raw["created_at"] < pd.Timestamp(period["start"])).sum())
    assert "outcomes known by the period's start" in report["outcomes_rule"]  # params set columns.closed_at
    assert run.path("backtest", "chart").read_bytes()[:4] == b"\x89PNG"
    assert "Backtest" in run.path("backtest", "report_html").read_text()
    table = pd.read_csv(run.path("backtest", "plots_dir") / "conversion.csv")
    assert list(table["period"]) == [p["label"] for p in report["periods"]]


# Runs the backtest twice on 6,000 leads (once in 2 spawned worker processes): ~30 s on a loaded machine.
@pytest.mark.slow
def test_periods_in_worker_processes_give_the_same_report(params, tmp_path):
    from leadscore.config import BacktestConfig

    small = small_params(params, n_leads=6_000, n_estimators=60, learning_rate=0.15)
    reports = []
    for n_jobs in (1, 2):
        backtest = BacktestConfig(periods=4, n_estimators=40, learning_rate=0.15, bootstrap={"n": 20}, n_jobs=n_jobs)
        run_params = small.model_copy(update={"backtest": backtest})
        work = tmp_path / f"jobs{n_jobs}"
        run_pipeline(run_params, work, through="generate")
        run = run_pipeline(run_params, work, start="backtest", through="backtest")
        report = json.loads(run.path("backtest", "out").read_text())
        reports.append([{k: v for k, v in p.items() if k != "seconds"} for p in report["periods"]])
    assert reports[0] and reports[0] == reports[1]
