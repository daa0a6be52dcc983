"""The benchmark charts, as PNG bytes: cumulative gains, reliability, the quadrant map, capacity.

Built with matplotlib's object-oriented API (``Figure`` renders through the Agg canvas): no pyplot,
no global backend switch, nothing at import time beyond the import.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from leadscore.evaluation.benchmark import scorer_label, scorer_specs
from leadscore.evaluation.metrics import calibration_points, expected_cumulative_conversions

# One look per scorer family: the model stands out, rules are warm and dashed, references grey/black.
STYLE = {
    "conversion": {"color": "#1f4e9c", "lw": 3.0, "ls": "-", "zorder": 5},
    "fit": {"color": "#6fa8dc", "lw": 1.4, "ls": "-"},
    "intent": {"color": "#3d9970", "lw": 1.4, "ls": "-"},
    "lightgbm_all": {"color": "#ff851b", "lw": 1.8, "ls": "-"},
    "logistic": {"color": "#9b59b6", "lw": 1.4, "ls": "-"},
    "bant": {"color": "#c0392b", "lw": 2.2, "ls": "--"},
    "bant_qualified": {"color": "#e74c3c", "lw": 1.2, "ls": ":"},
    "bant_points": {"color": "#a0522d", "lw": 1.6, "ls": "-."},
    "random": {"color": "#999999", "lw": 1.2, "ls": ":"},
    "oracle": {"color": "#111111", "lw": 1.4, "ls": "--"},
}
_VARIANT_STYLES = [
    {"color": "#f39c12", "lw": 1.2, "ls": "--"},
    {"color": "#8e44ad", "lw": 1.2, "ls": "--"},
    {"color": "#16a085", "lw": 1.2, "ls": "--"},
]
DPI = 110


def _style(name: str, i: int = 0) -> dict:
    return STYLE.get(name, _VARIANT_STYLES[i % len(_VARIANT_STYLES)])


def png_bytes(fig: Figure) -> bytes:
    """Render a figure to PNG bytes (embedded in the HTML page, written under reports/figures)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def _styled_scorers(names: list[str]) -> list[tuple[str, dict]]:
    variants = [n for n in names if n not in STYLE]
    return [(n, _style(n, variants.index(n) if n in variants else 0)) for n in names]


def gains_figure(
    y: np.ndarray, rankings: dict[str, np.ndarray], *, bant_volume: int, bant_conversions: float
) -> Figure:
    """Cumulative gains for every scorer, with BANT's operating point marked."""
    y = np.asarray(y, dtype=float)
    n, total = len(y), max(float(y.sum()), 1.0)
    fig = Figure(figsize=(10.5, 6.2))
    ax = fig.add_subplot()
    share = np.arange(n + 1) / n
    for name, style in _styled_scorers(list(rankings)):
        cum = expected_cumulative_conversions(y, rankings[name]) / total
        ax.plot(share, cum, label=scorer_label(name), **style)
    bx, by = bant_volume / n, bant_conversions / total
    ax.plot([bx], [by], marker="o", ms=11, color="#c0392b", mec="white", mew=2, zorder=10, ls="none")
    ax.annotate(
        f"BANT qualified: {bx:.0%} of leads,\n{by:.0%} of conversions",
        xy=(bx, by),
        xytext=(bx + 0.12, by - 0.22),
        fontsize=10,
        arrowprops={"arrowstyle": "->", "color": "#c0392b"},
        color="#c0392b",
        bbox={"boxstyle": "round", "fc": "white", "ec": "#c0392b", "alpha": 0.9},
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of test leads worked, best-scored first")
    ax.set_ylabel("share of conversions captured")
    ax.set_title("Cumulative gains on the test split")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9.5)
    fig.tight_layout()
    return fig


def reliability_figure(
    y: np.ndarray, probabilities: dict[str, np.ndarray], eces: dict[str, float], *, bins: int
) -> Figure:
    """Reliability diagram (observed vs predicted per probability bin), ECE in the legend, with
    the number of leads per bin underneath."""
    fig = Figure(figsize=(10.5, 7.0))
    grid = fig.add_gridspec(2, 1, height_ratios=[3, 1], hspace=0.08)
    ax, hist = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    ax.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1.2, label="perfectly calibrated")
    edges = np.linspace(0, 1, bins + 1)
    width = 1.0 / bins / (len(probabilities) + 1)
    for i, (name, style) in enumerate(_styled_scorers(list(probabilities))):
        pts = calibration_points(y, probabilities[name], bins=bins)
        ax.plot(
            pts["mean_predicted"],
            pts["observed_rate"],
            marker="o",
            ms=5,
            label=f"{scorer_label(name)} (ECE {eces[name]:.3f})",
            **{**style, "lw": max(style["lw"], 1.6)},
        )
        counts, _ = np.histogram(np.clip(probabilities[name], 0, 1), bins=edges)
        hist.bar(edges[:-1] + (i + 0.5) * width, counts, width=width, color=style["color"], align="edge")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("observed conversion rate")
    ax.set_title("Reliability on the test split (equal-width probability bins)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=True, fontsize=10)
    ax.tick_params(labelbottom=False)
    hist.set_xlim(0, 1)
    hist.set_yscale("log")
    hist.set_ylabel("leads per bin")
    hist.set_xlabel("predicted conversion probability")
    hist.grid(alpha=0.3, axis="y")
    return fig


def quadrant_map_figure(
    p_fit: np.ndarray,
    p_intent: np.ndarray,
    y: np.ndarray,
    *,
    fit_threshold: float,
    intent_threshold: float,
    quadrants: dict[str, dict],
) -> Figure:
    """Fit x intent probability (log axes), coloured by the observed conversion rate of each cell,
    with the quadrant thresholds and each quadrant's size, observed and predicted rate."""
    p_fit = np.clip(np.asarray(p_fit, dtype=float), 1e-3, 1)
    p_intent = np.clip(np.asarray(p_intent, dtype=float), 1e-3, 1)
    fig = Figure(figsize=(10.5, 8.0))
    ax = fig.add_subplot()
    cells = ax.hexbin(
        p_fit,
        p_intent,
        C=np.asarray(y, dtype=float),
        reduce_C_function=np.mean,
        gridsize=45,
        xscale="log",
        yscale="log",
        cmap="viridis",
        mincnt=8,
        vmin=0,
        vmax=1,
        linewidths=0.1,
    )
    bar = fig.colorbar(cells, ax=ax, pad=0.02)
    bar.set_label("observed conversion rate (test leads in the cell)")
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.axvline(fit_threshold, color="#d62728", lw=2)
    ax.axhline(intent_threshold, color="#d62728", lw=2)
    lo_x, hi_x = np.quantile(p_fit, [0.001, 1.0])
    lo_y, hi_y = np.quantile(p_intent, [0.001, 1.0])
    x0, x1 = lo_x / 1.3, min(hi_x * 1.3, 1.0)
    y0, y1 = lo_y / 1.3, min(hi_y * 1.3, 1.0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    corners = {
        "high_fit_high_intent": (0.98, 0.98, "right", "top", "Fast-track"),
        "high_fit_low_intent": (0.98, 0.02, "right", "bottom", "Nurture"),
        "low_fit_high_intent": (0.02, 0.98, "left", "top", "Danger zone"),
        "low_fit_low_intent": (0.02, 0.02, "left", "bottom", "Exclude"),
    }
    for name, (x, yy, ha, va, title) in corners.items():
        q = quadrants.get(name, {})
        text = f"{title}\nn = {q.get('n', 0):,}"
        if q.get("observed_rate") is not None:
            text += f"\nobserved {q['observed_rate']:.1%}\npredicted {q['mean_predicted']:.1%}"
        ax.text(
            x,
            yy,
            text,
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=10.5,
            bbox={"boxstyle": "round", "fc": "white", "ec": "#333333", "alpha": 0.92},
        )
    percent = FuncFormatter(lambda v, _: f"{v:.0%}" if v >= 0.01 else f"{v:.1%}")
    ax.xaxis.set_major_formatter(percent)
    ax.yaxis.set_major_formatter(percent)
    ax.set_xlabel(f"fit probability (log scale; threshold {fit_threshold:.1%})")
    ax.set_ylabel(f"intent probability (log scale; threshold {intent_threshold:.1%})")
    ax.set_title("Quadrant map of the test split")
    return fig


def capacity_figure(y: np.ndarray, rankings: dict[str, np.ndarray], *, capacity: int, capacity_label: str) -> Figure:
    """Conversions captured vs leads worked, with the team's capacity marked."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    fig = Figure(figsize=(10.5, 6.2))
    ax = fig.add_subplot()
    worked = min(capacity, n)
    at_capacity = []
    for name, style in _styled_scorers(list(rankings)):
        cum = expected_cumulative_conversions(y, rankings[name])
        ax.plot(np.arange(n + 1), cum, label=f"{scorer_label(name)}: {cum[worked]:,.0f} at capacity", **style)
        ax.plot([worked], [cum[worked]], marker="o", ms=7, color=style["color"], ls="none", zorder=11)
        at_capacity.append(cum[worked])
    ax.axvline(worked, color="#333333", lw=1.5, ls="-")
    # Label inside the axes, right of the line, below the top: clear of the title and the curves' start.
    ax.annotate(
        capacity_label,
        xy=(worked, 0.96),
        xycoords=("data", "axes fraction"),
        xytext=(8, 0),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=10,
        bbox={"boxstyle": "round", "fc": "white", "ec": "#333333", "alpha": 0.9},
    )
    ax.set_xlim(0, n)
    ax.set_ylim(0, float(y.sum()) * 1.03)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel("leads worked, best-scored first (test split)")
    ax.set_ylabel("conversions captured")
    ax.set_title("Capacity curve: what a sales team of this size captures")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", frameon=True, fontsize=9.5)
    return fig


CAPACITY_SCORERS = ("oracle", "conversion", "lightgbm_all", "bant_points", "bant", "random")


def benchmark_figures(
    scored: pd.DataFrame, metrics: dict, *, bins: int = 10, bant_variants: tuple[int, ...] = (), n_criteria: int = 4
) -> dict[str, bytes]:
    """All benchmark charts as ``{name: PNG bytes}`` from the scored test split (with the rules'
    probabilities, see :func:`leadscore.evaluation.benchmark.add_rule_probabilities`) and the metrics dict."""
    specs = scorer_specs(scored, bant_variants=bant_variants, n_criteria=n_criteria)
    y = scored["label"].to_numpy(dtype=float)
    rankings = {s.name: scored[s.ranking].to_numpy(dtype=float) for s in specs}
    cap = metrics["capacity"]
    plan = metrics["capacity_plan"]
    calibrated = {n: scored[f"{n}_probability"].to_numpy(dtype=float) for n in ("fit", "intent", "conversion")}
    figs = {
        "gains": gains_figure(y, rankings, bant_volume=cap["bant_volume"], bant_conversions=cap["bant_conversions"]),
        "reliability": reliability_figure(y, calibrated, {n: metrics["test"][n]["ece"] for n in calibrated}, bins=bins),
        "quadrant_map": quadrant_map_figure(
            calibrated["fit"],
            calibrated["intent"],
            y,
            fit_threshold=metrics["thresholds"]["fit"],
            intent_threshold=metrics["thresholds"]["intent"],
            quadrants=metrics["quadrants"],
        ),
        "capacity": capacity_figure(
            y,
            {n: rankings[n] for n in CAPACITY_SCORERS if n in rankings},
            capacity=plan["leads"],
            capacity_label=f"capacity: {plan['reps']} reps × {plan['leads_per_rep']:,} leads = {plan['leads']:,}",
        ),
    }
    return {name: png_bytes(fig) for name, fig in figs.items()}
