"""The global-importance chart: one bar per source column, most important on top."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.evaluation.importance import importance_figure


def _importance() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["fit", "fit", "fit", "intent"],
            "column": ["employees", "industry", "job_title", "demo_requested"],
            "label": ["Employees", "Industry", "Job title", "Demo requested"],
            "mean_abs_shap": [0.2, 0.5, 0.1, 0.9],
        }
    )


def test_bars_are_the_models_columns_largest_on_top():
    fig = importance_figure(_importance(), model="fit")
    ax = fig.axes[0]
    # barh draws bottom-up: the last tick is the top bar.
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Job title", "Employees", "Industry"]
    assert [round(bar.get_width(), 3) for bar in ax.patches] == [0.1, 0.2, 0.5]
    assert ax.get_title() == "What drives the fit score (test split)"
    assert ax.get_xlabel().startswith("mean |SHAP|")


def test_top_keeps_the_largest():
    fig = importance_figure(_importance(), model="fit", top=1)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["Industry"]


def test_a_model_without_rows_is_refused():
    with pytest.raises(ValueError, match="no importance rows for model 'activity'"):
        importance_figure(_importance(), model="activity")
