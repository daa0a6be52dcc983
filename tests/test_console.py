"""The run summary `make run` ends with: leaks first, words that follow the data."""

from __future__ import annotations

import copy

from rich.console import Console

from leadscore.console import print_summary


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
