"""Rendering for people: the run summary and one lead's explanation panel (Rich, recorded)."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from rich.console import Console

from leadscore.console import explanation_panel, fmt, print_summary

METRIC = {"auc": 0.8123, "pr_auc": 0.5, "log_loss": 0.41, "brier": 0.12, "ece": 0.0149}


def _metrics(**extra) -> dict:
    return {
        "test": {"conversion": METRIC, "bant": {**METRIC, "auc": 0.61, "ece": None}},
        "capacity": {
            "bant_volume": 1200,
            "bant_conversions": 300,
            "model_conversions_at_bant_volume": 450,
            "ratio": 1.5,
        },
        "quadrants": {"high_fit_high_intent": {"n": 2500, "observed_rate": 0.4, "mean_predicted": 0.38}},
        **extra,
    }


def _render(metrics: dict) -> str:
    out = Console(record=True, width=200, color_system=None)
    print_summary(metrics, out=out)
    return out.export_text()


def test_fmt_three_decimals_or_a_dash():
    assert fmt(0.81234) == "0.812" and fmt(None) == "-" and fmt(0) == "0.000"


def test_summary_without_an_oracle_does_not_promise_the_ceiling():
    text = _render(_metrics())
    assert "Test split: model vs BANT" in text
    assert "ceiling" not in text and "oracle" not in text
    assert "0.812" in text and "0.015" in text  # the model's AUC and ECE
    assert "-" in text.split("bant", 1)[1].splitlines()[0]  # BANT's missing ECE is a dash, not "None"
    assert "None" not in text


def test_summary_with_an_oracle_names_the_ceiling_and_lists_it():
    metrics = _metrics()
    metrics["test"]["oracle"] = {**METRIC, "auc": 0.9}
    text = _render(metrics)
    assert "Test split: model vs BANT vs the true-probability ceiling" in text
    assert "oracle" in text and "0.900" in text


def test_summary_capacity_line_and_fewer_calls():
    text = _render(_metrics())
    assert "At BANT's volume (1,200 leads): BANT converts 300, the model's top 1,200 convert 450 (ratio 1.500)." in text
    assert "fewer calls" not in text  # said only when the model reaches BANT's wins
    text = _render(_metrics(at_bant_volume={"scorers": {"conversion": {"leads_to_match": 700, "fewer_calls": 0.4167}}}))
    assert "reaches BANT's 300 conversions after 700 leads (42% fewer calls)" in text


def test_summary_quadrants_and_report_address(tmp_path):
    page = tmp_path / "benchmark.html"
    text = _render(_metrics(report={"html": str(page), "markdown": "reports/benchmark.md"}))
    assert "high_fit_high_intent" in text and "2,500" in text and "0.400" in text
    assert page.resolve().as_uri() in text and "reports/benchmark.md" in text
    assert "Benchmark report" not in _render(_metrics())


def test_summary_refuses_metrics_without_capacity():
    metrics = _metrics()
    del metrics["capacity"]
    with pytest.raises(KeyError, match="capacity"):
        _render(metrics)


def test_explanation_panel_shows_the_leads_scores_reasons_and_bant():
    scored = pd.Series(
        {
            "fit_probability": 0.42,
            "intent_probability": 0.07,
            "conversion_probability": 0.2,
            "fit_reasons_for": "Employees: 500 (+0.40)|Industry: software (+0.10)",
            "fit_reasons_against": "",
            "intent_reasons_for": "",
            "intent_reasons_against": "Web visits: 0 (-0.30)",
            "bant_qualified": False,
            "bant_criteria_met": 1,
            "quadrant": "high_fit_low_intent",
            "recommended_action": "Nurture",
            "quadrant_summary": "High fit thanks to employees",
        }
    )
    panel = explanation_panel(
        "L42",
        scored,
        pd.Series({"budget": True, "timeline": False}),
        {"budget": "yes", "timeline": None},
        fit_threshold=0.3,
        intent_threshold=0.1,
        min_criteria=2,
        separator="|",
    )
    out = Console(record=True, width=160, color_system=None)
    out.print(panel)
    text = out.export_text()
    assert "Lead L42" in text
    assert "42.0%" in text and "(high above 30.0%)" in text and "20.0%" in text
    assert "High fit, low intent: Nurture" in text
    assert "Employees: 500 (+0.40)" in text and "Industry: software (+0.10)" in text  # one reason per line
    assert "Employees: 500 (+0.40)|" not in text
    assert "BANT (1 of 2 met, not qualified at 2)" in text
    assert "missing" in text  # timeline has no value
    assert text.count("pass") == 1 and text.count("fail") == 1


# -- the run summary: leaks first, words that follow the data (issue 12) ----------------------------
def _summary(metrics: dict) -> str:
    out = Console(record=True, width=140, color_system=None)
    print_summary(metrics, out=out)
    return out.export_text()


def test_a_kept_leak_is_the_first_thing_the_summary_says(small_pipeline):
    m = copy.deepcopy(small_pipeline["metrics"])
    m["leakage"]["kept"] = [{"column": "rep_note", "auc": 1.0, "group": "intent", "allowed_strong": True}]
    text = _summary(m)
    first = text.strip().splitlines()[:4]
    assert "SUSPECTED LEAK" in first[0]
    assert "rep_note (AUC 1.000 alone, allowed by features.allow_strong)" in " ".join(first).replace("│", " ")
    assert text.index("SUSPECTED LEAK") < text.index("Test split")


def test_no_leak_no_banner_and_no_ceiling_without_an_oracle(small_pipeline):
    m = copy.deepcopy(small_pipeline["metrics"])
    assert "SUSPECTED LEAK" not in _summary(m) and "ceiling" in _summary(m)
    del m["test"]["oracle"]
    assert "ceiling" not in _summary(m)


def test_a_missing_axis_is_said_in_the_summary(small_pipeline):
    m = copy.deepcopy(small_pipeline["metrics"])
    m["missing_axes"] = ["fit"]
    assert "No fit axis" in _summary(m)


# --- issue 14, score history: `leadscore changes` ---------------------------------------------------
def _changes_report(leads: pd.DataFrame, notes: tuple[str, ...] = ()):
    from leadscore.monitoring.changes import ChangesReport, Window

    days = (pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-15"))
    return ChangesReport(Window(days[0], *days, days), leads, 10, 1, 2, 0, notes=notes)


def test_changes_table_shows_quadrant_moves_probabilities_trends_and_reasons():
    from leadscore.console import print_changes

    reason = {"group": "intent", "column": "demo", "label": "Demo requested", "before": None, "after": 0.6}
    leads = pd.DataFrame(
        {
            "lead_id": ["L7"],
            "quadrant_before": ["high_fit_low_intent"],
            "quadrant_after": ["high_fit_high_intent"],
            "quadrant_changed": [True],
            "p_before": [0.1],
            "p_after": [0.35],
            "p_change": [0.25],
            "trend": ["rising"],
            "fitted_change": [0.25],
            "snapshots": [2],
            "reasons": [[{**reason, "delta": None, "change": 0.48}]],
        }
    )
    out = Console(record=True, width=200)
    print_changes(_changes_report(leads, notes=("different models: ...",)), out=out)
    text = out.export_text()
    assert "Changes from 2026-03-01 to 2026-03-15 (2 snapshots): 10 leads in both, 1 changed quadrant" in text
    assert "note: different models" in text
    assert "high fit, low intent" in text and "-> high fit, high intent" in text
    assert "10.0% -> 35.0%" in text and "rising (+25.0 pts)" in text
    assert "Demo requested (intent): - -> +0.60 (at least +0.48)" in text


def test_changes_with_no_movement_says_so():
    from leadscore.console import print_changes

    out = Console(record=True, width=200)
    print_changes(_changes_report(pd.DataFrame(columns=["lead_id"])), out=out)
    assert "No lead moved." in out.export_text()
