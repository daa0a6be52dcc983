"""Global importance of the fit and intent models: mean |SHAP| per source column, as charts."""

from __future__ import annotations

import pandas as pd


def importance_figure(importance: pd.DataFrame, *, model: str, top: int = 15):
    """Horizontal bar chart of mean |SHAP| for one model ("fit" or "intent").

    ``importance`` is :func:`leadscore.models.explain.global_importance`'s frame. Returns a matplotlib
    Figure (the caller saves it); uses the non-interactive Agg canvas, so no display is needed.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = importance[importance["model"] == model].nlargest(top, "mean_abs_shap").iloc[::-1]
    if rows.empty:
        raise ValueError(f"no importance rows for model {model!r}")
    fig = Figure(figsize=(7, 0.35 * len(rows) + 1.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.barh(rows["label"], rows["mean_abs_shap"], color="#2b6cb0" if model == "fit" else "#c05621")
    ax.set_xlabel("mean |SHAP| (log-odds of the uncalibrated model)")
    ax.set_title(f"What drives the {model} score (test split)")
    ax.grid(axis="x", alpha=0.3)
    return fig
