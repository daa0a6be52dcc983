"""Backtest periods and per-period metrics (pure functions, hand-made data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import BacktestConfig
from leadscore.errors import ConfigError
from leadscore.evaluation.backtest import backtest_periods, period_metrics, plot_tables, summarise


def test_calendar_months_end_with_the_last_month_holding_closed_leads():
    created = pd.Series(pd.to_datetime(["2026-01-15", "2026-02-03", "2026-03-30", "2026-04-02", "2026-05-20"]))
    closed = np.array([True, True, True, True, False])  # May holds open leads only
    periods, rule = backtest_periods(created, closed, config=BacktestConfig(periods=3))
    assert [p.label for p in periods] == ["2026-02", "2026-03", "2026-04"]
    assert periods[0].start == pd.Timestamp("2026-02-01") and periods[-1].end == pd.Timestamp("2026-05-01")
    assert "calendar months" in rule


def test_blocks_cut_the_most_recent_closed_leads_into_equal_parts():
    order = pd.Series(np.arange(100, dtype=float))
    closed = np.ones(100, dtype=bool)
    periods, rule = backtest_periods(order, closed, config=BacktestConfig(periods=3, block_share=0.3))
    assert [p.start for p in periods] == [70.0, 80.0, 90.0]
    assert periods[-1].end == np.inf
    assert "equal blocks" in rule


def test_months_need_dates():
    with pytest.raises(ConfigError, match=r"backtest\.unit is .month."):
        backtest_periods(pd.Series([1.0, 2.0]), np.array([True, True]), config=BacktestConfig(unit="month"))


def test_period_metrics_report_each_scorer_with_intervals_and_the_capacity_ratio():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = np.clip(y * 0.5 + rng.uniform(0, 0.5, 400), 0.01, 0.99)
    bant_flag = rng.integers(0, 2, 400).astype(bool)
    bant_rank = bant_flag.astype(float)
    config = BacktestConfig(bootstrap={"n": 30, "seed": 1, "level": 0.9})
    out = period_metrics(
        y,
        {"conversion": (good, good), "bant": (bant_rank, np.full(400, y.mean())), "oracle": (good, good)},
        bant_qualified=bant_flag,
        conversion=good,
        config=config,
    )
    assert out["n"] == 400 and out["base_rate"] == pytest.approx(y.mean())
    conv = out["scorers"]["conversion"]
    assert conv["auc"] > 0.9 > out["scorers"]["bant"]["auc"]
    assert conv["intervals"]["auc"]["low"] <= conv["auc"] <= conv["intervals"]["auc"]["high"]
    wins_bant = int(y[bant_flag].sum())
    assert out["capacity_ratio"] == pytest.approx(out["conversion_at_bant_volume"] / wins_bant)
    assert out["auc_gap_to_oracle"] == pytest.approx(0.0)
    summary = summarise([{**out, "label": "p1"}])
    assert summary["min_capacity_ratio"] == out["capacity_ratio"]
    tables = plot_tables({"periods": [{**out, "label": "p1"}]})
    assert set(tables) == {"conversion", "bant", "oracle"}
    assert tables["conversion"].loc[0, "capacity_ratio"] == out["capacity_ratio"]
