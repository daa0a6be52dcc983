"""Rolling-origin backtest, the pure parts: which periods, metrics per period, chart, tables, page.

For each of the last K periods (calendar months when ``created_at`` holds dates, else equal blocks of
the most recent ordered closed leads), the pipeline's own code retrains on everything known before the
period starts and scores the period's closed leads (:mod:`leadscore.pipeline.backtest`). Here: where
the periods are, and what is measured on each one: n, base rate, AUC / log loss / ECE of every scorer
with paired bootstrap intervals, and the capacity ratio (the conversion model's conversions among as
many leads as BANT qualifies, over BANT's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leadscore.config import BacktestConfig
from leadscore.errors import ConfigError
from leadscore.evaluation.bootstrap import bootstrap_metrics, percentile_interval
from leadscore.evaluation.metrics import binary_metrics, capacity_at_volume

REPORTED = ("auc", "log_loss", "ece")
SCORERS = ("conversion", "bant", "all_features", "oracle")


@dataclass(frozen=True)
class Period:
    """One backtest period: leads whose order key is in ``[start, end)``."""

    start: Any
    end: Any
    label: str


def json_value(value: Any) -> Any:
    """A period bound as JSON: ISO dates, plain numbers, None for an open end."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def backtest_periods(order: pd.Series, closed: np.ndarray, *, config: BacktestConfig) -> tuple[list[Period], str]:
    """The last ``config.periods`` periods, oldest first, and how they were cut (in words).

    Parameters
    ----------
    order : Series
        Every lead's time order: datetimes (calendar months) or numbers / positions (blocks).
    closed : bool array
        Which leads have a known outcome (the periods are cut where closed leads are).
    """
    is_dates = pd.api.types.is_datetime64_any_dtype(order)
    unit = config.unit if config.unit != "auto" else ("month" if is_dates else "block")
    keys = order[closed]
    if len(keys) == 0:
        raise ConfigError("backtest: no closed leads to cut into periods")
    if unit == "month":
        if not is_dates:
            raise ConfigError("params backtest.unit is 'month' but columns.created_at does not hold dates")
        months = keys.dt.tz_localize(None) if keys.dt.tz is not None else keys
        last = months.max().to_period("M")
        periods = []
        for k in range(config.periods - 1, -1, -1):
            month = last - k
            start, end = month.start_time, (month + 1).start_time
            if keys.dt.tz is not None:
                start, end = start.tz_localize(keys.dt.tz), end.tz_localize(keys.dt.tz)
            periods.append(Period(start, end, str(month)))
        return periods, f"{config.periods} calendar months of created_at (the last one holding closed leads)"
    sorted_keys = np.sort(keys.to_numpy())
    n_recent = round(config.block_share * len(sorted_keys))
    if n_recent < config.periods:
        raise ConfigError(f"backtest: {n_recent} recent closed leads cannot make {config.periods} blocks")
    recent = sorted_keys[len(sorted_keys) - n_recent :]
    cuts = [recent[round(i * n_recent / config.periods)] for i in range(config.periods)]
    periods = [
        Period(cuts[i], cuts[i + 1] if i + 1 < len(cuts) else np.inf, f"block {i + 1}") for i in range(len(cuts))
    ]
    return periods, (
        f"{config.periods} equal blocks of the most recent {config.block_share:.0%} of closed leads "
        "(no dates: ordered by the time order)"
    )


def period_metrics(
    y: np.ndarray,
    scorers: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    bant_qualified: np.ndarray,
    conversion: np.ndarray,
    config: BacktestConfig,
) -> dict[str, Any]:
    """n, base rate, capacity ratio and, per scorer (name -> ``(ranking, probability)``), AUC / log loss
    / ECE with paired bootstrap intervals, on one period's leads."""
    y = np.asarray(y, dtype=int)
    qualified = np.asarray(bant_qualified, dtype=bool)
    volume, bant_wins = int(qualified.sum()), int(y[qualified].sum())
    model_wins = capacity_at_volume(y, conversion, volume)
    b = config.bootstrap
    draws = bootstrap_metrics(y, dict(scorers), n_resamples=b.n, seed=b.seed, bins=config.ece_bins)
    out: dict[str, Any] = {
        "n": len(y),
        "wins": int(y.sum()),
        "base_rate": float(y.mean()),
        "bant_volume": volume,
        "bant_conversions": bant_wins,
        "conversion_at_bant_volume": model_wins,
        "capacity_ratio": float(model_wins / bant_wins) if bant_wins else None,
        "scorers": {},
    }
    for name, (ranking, probability) in scorers.items():
        point = binary_metrics(y, probability, bins=config.ece_bins)
        point["auc"] = binary_metrics(y, ranking, bins=config.ece_bins)["auc"]
        entry: dict[str, Any] = {m: float(point[m]) for m in REPORTED}
        entry["intervals"] = {m: percentile_interval(draws[name][m], level=b.level) for m in REPORTED}
        out["scorers"][name] = entry
    if "oracle" in scorers:
        out["auc_gap_to_oracle"] = out["scorers"]["oracle"]["auc"] - out["scorers"]["conversion"]["auc"]
    return out


def summarise(periods: list[dict[str, Any]]) -> dict[str, Any]:
    """The worst period on each headline number (what "every month" claims are checked against)."""
    if not periods:
        return {"periods": 0}
    ratios = [p["capacity_ratio"] for p in periods if p["capacity_ratio"] is not None]
    out: dict[str, Any] = {
        "periods": len(periods),
        "min_capacity_ratio": min(ratios) if ratios else None,
        "min_conversion_auc": min(p["scorers"]["conversion"]["auc"] for p in periods),
        "periods_conversion_auc_above_bant": sum(
            p["scorers"]["conversion"]["auc"] > p["scorers"]["bant"]["auc"] for p in periods
        ),
    }
    gaps = [p["auc_gap_to_oracle"] for p in periods if "auc_gap_to_oracle" in p]
    if gaps:
        out["max_auc_gap_to_oracle"] = max(gaps)
    return out


def plot_tables(result: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """``dvc plots`` data: one table per scorer, a row per period (period, n, base rate, metrics)."""
    tables: dict[str, pd.DataFrame] = {}
    names = [s for s in SCORERS if any(s in p["scorers"] for p in result["periods"])]
    for name in names:
        rows = []
        for p in result["periods"]:
            if name not in p["scorers"]:
                continue
            entry = p["scorers"][name]
            row = {"period": p["label"], "n": p["n"], "base_rate": p["base_rate"]}
            for m in REPORTED:
                row[m] = entry[m]
                row[f"{m}_low"], row[f"{m}_high"] = entry["intervals"][m]["low"], entry["intervals"][m]["high"]
            if name == "conversion":
                row["capacity_ratio"] = p["capacity_ratio"]
            rows.append(row)
        tables[name] = pd.DataFrame(rows)
    if not tables:
        # No period could be evaluated (too little history): an empty table keeps the declared output.
        columns = ["period", "n", "base_rate", *(c for m in REPORTED for c in (m, f"{m}_low", f"{m}_high"))]
        tables["conversion"] = pd.DataFrame(columns=[*columns, "capacity_ratio"])
    return tables


_COLORS = {"conversion": "#1f77b4", "bant": "#d62728", "all_features": "#2ca02c", "oracle": "#7f7f7f"}
_TITLES = {"auc": "AUC", "log_loss": "Log loss", "ece": "ECE", "capacity_ratio": "Capacity ratio vs BANT"}


def backtest_figure(result: Mapping[str, Any]):
    """One panel per metric (AUC, log loss, ECE, capacity ratio) by period, 95% bootstrap intervals as bars."""
    from matplotlib.figure import Figure

    periods = result["periods"]
    if not periods:
        fig = Figure(figsize=(8, 2))
        fig.text(0.5, 0.5, "Backtest: no period had enough closed leads of both outcomes", ha="center", va="center")
        return fig
    labels = [p["label"] for p in periods]
    x = np.arange(len(periods))
    fig = Figure(figsize=(11, 7))
    axes = fig.subplots(2, 2)
    names = [s for s in SCORERS if any(s in p["scorers"] for p in periods)]
    for ax, metric in zip(axes.flat[:3], REPORTED, strict=True):
        for i, name in enumerate(names):
            values = np.array([p["scorers"][name][metric] for p in periods])
            low = np.array([p["scorers"][name]["intervals"][metric]["low"] for p in periods])
            high = np.array([p["scorers"][name]["intervals"][metric]["high"] for p in periods])
            offset = (i - (len(names) - 1) / 2) * 0.08
            ax.errorbar(
                x + offset,
                values,
                yerr=[np.clip(values - low, 0, None), np.clip(high - values, 0, None)],
                fmt="o-",
                capsize=3,
                color=_COLORS[name],
                label=name,
                lw=1.2,
                ms=4,
            )
        ax.set_title(_TITLES[metric], loc="left")
        ax.set_xticks(x, labels, fontsize=8, rotation=30)
    ax = axes.flat[3]
    ratios = [p["capacity_ratio"] if p["capacity_ratio"] is not None else np.nan for p in periods]
    ax.plot(x, ratios, "o-", color=_COLORS["conversion"], label="conversion / BANT")
    ax.axhline(1.0, color=_COLORS["bant"], ls="--", lw=1, label="BANT")
    ax.set_title(_TITLES["capacity_ratio"] + " (conversions at BANT's volume)", loc="left")
    ax.set_xticks(x, labels, fontsize=8, rotation=30)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"Rolling-origin backtest: {result['periods_rule']}", fontsize=10)
    fig.tight_layout()
    return fig


def render_html(result: Mapping[str, Any], *, png: bytes) -> str:
    """A small self-contained page: the rule, the chart (embedded) and a table per period."""
    import base64
    import html

    names = [s for s in SCORERS if any(s in p["scorers"] for p in result["periods"])]
    head = "".join(f"<th>{n} AUC</th>" for n in names) + "<th>conversion log loss</th><th>conversion ECE</th>"
    rows = []
    for p in result["periods"]:
        cells = "".join(f"<td>{p['scorers'][n]['auc']:.3f}</td>" for n in names)
        conv = p["scorers"]["conversion"]
        ratio = "n/a" if p["capacity_ratio"] is None else f"{p['capacity_ratio']:.2f}×"
        rows.append(
            f"<tr><td>{html.escape(p['label'])}</td><td>{p['n']:,}</td><td>{p['base_rate']:.3f}</td>{cells}"
            f"<td>{conv['log_loss']:.4f}</td><td>{conv['ece']:.4f}</td><td>{ratio}</td></tr>"
        )
    image = base64.b64encode(png).decode()
    notes = "".join(f"<li>{html.escape(str(n))}</li>" for n in result.get("notes", []))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>leadscore backtest</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}td,th{padding:4px 8px;"
        "border-bottom:1px solid #ddd;text-align:right}th{background:#f4f4f4}</style></head><body>"
        "<h1>Backtest: would the model have held up, period by period?</h1>"
        f"<p>{html.escape(result['periods_rule'])}. Each period: retrained with the pipeline's own code on "
        f"everything known before it ({html.escape(result['outcomes_rule'])}), then scored on the period's "
        "closed leads. Bars: 95% paired bootstrap intervals.</p>"
        f"<ul>{notes}</ul>"
        f"<img alt='backtest chart' style='max-width:100%' src='data:image/png;base64,{image}'>"
        f"<table><tr><th>period</th><th>n</th><th>base rate</th>{head}<th>capacity ratio</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
