"""The benchmark charts: real PNGs with the axes, titles and marks the page promises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from leadscore.evaluation import figures
from leadscore.evaluation.benchmark import add_rule_probabilities, evaluate_test_split
from leadscore.models.calibration import assign_quadrants

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _scored(n: int, seed: int) -> pd.DataFrame:
    """A scored split by hand: the scorer's columns, BANT, baselines, random and the truth."""
    rng = np.random.default_rng(seed)
    p_fit, p_intent = rng.uniform(0.02, 0.6, n), rng.uniform(0.02, 0.6, n)
    true_p = 1 - (1 - p_fit) * (1 - p_intent)
    met = rng.integers(0, 5, n)
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "label": (rng.random(n) < true_p).astype(int),
            "fit_probability": p_fit,
            "intent_probability": p_intent,
            "conversion_probability": true_p,
            "quadrant": assign_quadrants(p_fit, p_intent, 0.3, 0.3),
            "bant_criteria_met": met,
            "bant_qualified": met >= 3,
            "bant_points": met * 25.0,
            "lightgbm_all_probability": np.clip(true_p + rng.normal(0, 0.05, n), 0, 1),
            "logistic_probability": np.clip(true_p + rng.normal(0, 0.1, n), 0, 1),
            "random_score": rng.random(n),
            "true_p": true_p,
        }
    )


@pytest.fixture(scope="module")
def benchmark():
    scored = add_rule_probabilities(_scored(600, 0), _scored(600, 1), bant_variants=(2,), n_criteria=4)
    metrics = evaluate_test_split(scored, bant_variants=(2,), capacity_reps=2, capacity_leads_per_rep=50)
    metrics["thresholds"] = {"fit": 0.3, "intent": 0.3}
    return scored, metrics


def test_png_bytes_is_a_png_of_the_figure():
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1], [0, 1])
    data = figures.png_bytes(fig)
    assert data.startswith(PNG_MAGIC) and len(data) > 500
    width = int.from_bytes(data[16:20], "big")  # IHDR: 2 inches at DPI (tight bbox trims a little)
    assert 0 < width <= 2 * figures.DPI


def test_gains_figure_marks_bant_and_labels_its_axes():
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0])
    fig = figures.gains_figure(
        y, {"conversion": np.arange(8.0)[::-1], "bant": np.ones(8)}, bant_volume=4, bant_conversions=2.0
    )
    ax = fig.axes[0]
    assert ax.get_xlabel() == "share of test leads worked, best-scored first"
    assert ax.get_ylabel() == "share of conversions captured"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == [
        figures.scorer_label("conversion"),
        figures.scorer_label("bant"),
    ]
    # BANT's operating point: 4 of 8 leads, 2 of 3 conversions.
    annotation = next(t for t in ax.texts if t.get_text().startswith("BANT qualified"))
    assert "50% of leads" in annotation.get_text() and "67% of conversions" in annotation.get_text()


def test_reliability_figure_puts_each_scorers_ece_in_the_legend():
    y = np.array([0, 1] * 20)
    p = {"conversion": np.linspace(0.1, 0.9, 40), "fit": np.full(40, 0.5)}
    fig = figures.reliability_figure(y, p, {"conversion": 0.123, "fit": 0.0}, bins=5)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0] == "perfectly calibrated"
    assert any("ECE 0.123" in text for text in legend)
    assert fig.axes[0].get_ylabel() == "observed conversion rate"
    assert fig.axes[1].get_xlabel() == "predicted conversion probability"


def test_quadrant_map_draws_the_thresholds_and_names_the_quadrants():
    rng = np.random.default_rng(0)
    p_fit, p_intent = rng.uniform(0.01, 0.9, 400), rng.uniform(0.01, 0.9, 400)
    quadrants = {"high_fit_high_intent": {"n": 1234, "observed_rate": 0.5, "mean_predicted": 0.45}}
    fig = figures.quadrant_map_figure(
        p_fit, p_intent, rng.integers(0, 2, 400), fit_threshold=0.2, intent_threshold=0.1, quadrants=quadrants
    )
    ax = fig.axes[0]
    assert ax.get_xlabel() == "fit probability (log scale; threshold 20.0%)"
    assert ax.get_ylabel() == "intent probability (log scale; threshold 10.0%)"
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("Fast-track\nn = 1,234\nobserved 50.0%") for t in texts)
    assert any(t.startswith("Exclude\nn = 0") for t in texts)  # a quadrant without leads still shows
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_capacity_figure_marks_the_capacity_inside_the_data():
    y = np.array([1, 0, 1, 0, 1, 0])
    fig = figures.capacity_figure(y, {"conversion": np.arange(6.0)[::-1]}, capacity=100, capacity_label="cap")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "leads worked, best-scored first (test split)"
    assert ax.get_xlim() == (0, 6)
    # Capacity beyond the split is drawn at the split's end: all 3 conversions captured.
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"{figures.scorer_label('conversion')}: 3 at capacity"]


def test_benchmark_figures_are_four_pngs(benchmark):
    scored, metrics = benchmark
    pngs = figures.benchmark_figures(scored, metrics, bins=5, bant_variants=(2,), n_criteria=4)
    assert set(pngs) == {"gains", "reliability", "quadrant_map", "capacity"}
    assert all(png.startswith(PNG_MAGIC) and len(png) > 10_000 for png in pngs.values())


def test_benchmark_figures_need_the_metrics_they_draw(benchmark):
    scored, metrics = benchmark
    with pytest.raises(KeyError, match="capacity_plan"):
        figures.benchmark_figures(scored, {k: v for k, v in metrics.items() if k != "capacity_plan"})
