"""The benchmark page: builds on a tiny dataset, is self-contained, and shows metrics.json's numbers."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from leadscore.config import ColumnsConfig, SplitConfig
from leadscore.data.outcomes import split_words
from leadscore.evaluation.report import QUADRANT_LABELS, render_html, render_markdown, scorer_label, who_is_right


def _numbers(cell: str) -> list[float]:
    """Numbers in a rendered cell; percentages become shares ("53.3%" -> 0.533)."""
    out = []
    for text, percent in re.findall(r"([-+]?\d[\d,]*(?:\.\d+)?)(%?)", cell.replace("−", "-")):
        value = float(text.replace(",", ""))
        out.append(value / 100 if percent else value)
    return out


def _md_tables(markdown: str) -> dict[str, list[list[str]]]:
    tables, title = {}, None
    for line in markdown.splitlines():
        if line.startswith("### "):
            title = line[4:]
            tables[title] = []
        elif line.startswith("|") and title is not None and not line.startswith("|---"):
            tables[title].append([c.strip().strip("*") for c in line.strip("|").split("|")])
    return {t: rows[1:] for t, rows in tables.items() if rows}  # drop header rows


def _table(tables: dict, prefix: str) -> list[list[str]]:
    (rows,) = [rows for title, rows in tables.items() if title.startswith(prefix)]
    return rows


def _close(shown: float, value: float | None, decimals: int) -> bool:
    return value is not None and abs(shown - value) <= 0.5 * 10**-decimals + 1e-9


@pytest.fixture(scope="module")
def page(small_pipeline):
    run = small_pipeline["run"]
    paths = {
        name: str(run.path("evaluate", option))
        for name, option in (("html", "report_html"), ("md", "report_md"), ("figures", "figures_dir"))
    }
    return {
        "metrics": json.loads(run.path("evaluate", "metrics_out").read_text()),
        "md": Path(paths["md"]).read_text(),
        "html": Path(paths["html"]).read_text(),
        "paths": paths,
    }


def test_page_and_figures_are_written(page):
    figures = Path(page["paths"]["figures"])
    for name in ("gains", "reliability", "quadrant_map", "capacity"):
        data = (figures / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name
    assert page["metrics"]["report"] == {
        "html": page["paths"]["html"],
        "markdown": page["paths"]["md"],
        "figures": page["paths"]["figures"],
    }


def test_html_is_self_contained(page):
    html = page["html"]
    assert html.count('src="data:image/png;base64,') == 6  # 4 benchmark charts + 2 importance charts
    assert not re.search(r'(src|href)="(https?:)?//', html), "the page must open offline"
    assert "<script" not in html


def test_table1_equals_metrics_json(page):
    m, rows = page["metrics"], _table(_md_tables(page["md"]), "Table 1")
    by_label = {r[0]: r for r in rows}
    assert len(rows) == len(m["test"])
    for name, values in m["test"].items():
        row = by_label[scorer_label(name, m)]
        for j, key in enumerate(("auc", "pr_auc", "log_loss", "brier", "ece"), start=1):
            point, low, high = _numbers(row[j])
            ci = m["bootstrap"]["intervals"][name][key]
            assert _close(point, values[key], 3) and _close(low, ci["low"], 3) and _close(high, ci["high"], 3), (
                name,
                key,
                row[j],
            )


def test_volume_tables_equal_metrics_json(page):
    m, tables = page["metrics"], _md_tables(page["md"])
    rows = {r[0]: r for r in _table(tables, "Table 2.")}
    for name, r in m["at_bant_volume"]["scorers"].items():
        row = [_numbers(c) for c in rows[scorer_label(name, m)][1:]]
        assert _close(row[0][0], r["conversions"], 0)
        assert _close(row[1][0], r["precision"], 3) and _close(row[2][0], r["recall"], 3)
        if r["leads_to_match"] is not None:
            assert row[3][0] == r["leads_to_match"] and _close(row[4][0], r["fewer_calls"], 3)
    rules = {r[0]: r for r in _table(tables, "Table 2b")}
    for name, r in m["rule_operating_points"].items():
        row = [_numbers(c) for c in rules[scorer_label(name, m)][1:]]
        assert (
            row[0][0] == r["volume"]
            and _close(row[1][0], r["conversions"], 0)
            and _close(row[3][0], r["model_conversions"], 0)
        )
    capacity = {r[0]: r for r in _table(tables, "Table 5")}
    for name, conversions in m["capacity_plan"]["conversions"].items():
        assert _close(_numbers(capacity[scorer_label(name, m)][1])[0], conversions, 0)


def test_lift_and_crosstab_equal_metrics_json(page):
    m, tables = page["metrics"], _md_tables(page["md"])
    for row in _table(tables, "Table 3"):
        d = m["lift_deciles"][row[0]]
        _decile, leads, wins, rate, predicted, lift, cumulative = (_numbers(c)[0] for c in row)
        assert (leads, wins) == (d["leads"], d["conversions"])
        assert (
            _close(rate, d["rate"], 3)
            and _close(predicted, d["mean_predicted"], 3)
            and _close(lift, d["lift"], 2)
            and _close(cumulative, d["cumulative_share"], 3)
        )
    crosstab = _table(tables, "Table 4")
    assert len(crosstab) == 8
    labels = {v: k for k, v in QUADRANT_LABELS.items()}
    for row in crosstab:
        cell = m["quadrant_bant"][labels[row[0]]]["bant_qualified" if row[1] == "qualified" else "bant_not_qualified"]
        assert _numbers(row[2])[0] == cell["n"] and _numbers(row[3])[0] == cell["conversions"]
        if cell["n"]:
            assert _close(_numbers(row[4])[0], cell["observed_rate"], 3) and _close(
                _numbers(row[5])[0], cell["mean_predicted"], 3
            )
    assert sum(c["n"] for q in m["quadrant_bant"].values() for c in q.values()) == m["data"]["test_leads"]


def test_headline_states_the_measured_figures(page):
    m = page["metrics"]
    conv = m["at_bant_volume"]["scorers"]["conversion"]
    assert f"AUC is {m['test']['conversion']['auc']:.3f} against BANT's {m['test']['bant']['auc']:.3f}" in page["md"]
    assert f"{100 * conv['fewer_calls']:.0f}% fewer calls" in page["md"]


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag == "td":
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def test_html_tables_show_the_same_cells_as_the_markdown(page):
    parser = _Cells()
    parser.feed(page["html"])
    html_tables = [[row for row in t if row] for t in parser.tables]
    md_tables = list(_md_tables(page["md"]).values())
    assert html_tables == md_tables


@pytest.mark.parametrize(
    ("quadrant", "qualified", "rate", "expected"),
    [
        ("high_fit_high_intent", False, 0.40, "model"),  # model said work it, BANT said no, it converts well
        ("high_fit_high_intent", False, 0.10, "BANT"),
        ("low_fit_low_intent", True, 0.05, "model"),  # BANT said work it, it converts poorly
        ("low_fit_low_intent", True, 0.30, "BANT"),
        ("high_fit_high_intent", True, 0.50, "agree (right)"),
        ("low_fit_low_intent", False, 0.30, "agree (both wrong)"),
    ],
)
def test_who_is_right(quadrant, qualified, rate, expected):
    assert who_is_right(quadrant, qualified, rate, base_rate=0.15) == expected


def test_the_title_promises_the_ceiling_only_when_there_is_one():
    from leadscore.evaluation.report import title

    assert title({"test": {"conversion": {}, "oracle": {}}}) == "Lead scoring benchmark: model vs BANT vs the ceiling"
    assert title({"test": {"conversion": {}}}) == "Lead scoring benchmark: model vs BANT"


# -- issue 12: words follow the data; leaks are carried to the top of the page ------------------------
def _with_leak(metrics: dict, *, allowed: bool = True) -> dict:
    m = copy.deepcopy(metrics)
    m["leakage"] = {
        "threshold": 0.85,
        "strong_leak_auc": 0.98,
        "policy": "warn",
        "kept": [{"column": "rep_note", "auc": 1.0, "group": "intent", "allowed_strong": allowed}],
        "dropped": [],
        "columns": [
            {
                "column": "rep_note",
                "group": "intent",
                "kind": "categorical",
                "auc": 1.0,
                "suspected_leak": True,
                "status": "used",
            },
            {
                "column": "country",
                "group": "fit",
                "kind": "categorical",
                "auc": 0.56,
                "suspected_leak": False,
                "status": "used",
            },
        ],
    }
    return m


def test_a_kept_leak_puts_a_red_banner_first_and_the_audit_table_on_the_page(page):
    m = _with_leak(page["metrics"])
    html = render_html(m, figures={})
    body = html[html.index("<body>") + len("<body>") :].lstrip()
    assert body.startswith('<div class="leak-banner"') and "rep_note (AUC 1.000 alone" in body.split("</div>")[0]
    assert html.index("leak-banner") < html.index("<h1>")
    md = render_markdown(m, figures={})
    assert md.splitlines()[2].startswith("> **WARNING: Suspected leak: rep_note")
    audit = _table(_md_tables(md), "Table 6")
    assert audit[0] == ["rep_note", "intent", "categorical", "1.000", "suspected leak, used"]
    assert audit[1][-1] == "ok"


def test_no_banner_without_a_kept_leak(page):
    m = copy.deepcopy(page["metrics"])
    assert "leakage" in m and m["leakage"]["kept"] == []  # evaluate read the real audit
    assert '<div class="leak-banner"' not in render_html(m, figures={})
    assert "WARNING" not in render_markdown(m, figures={})
    assert "Table 6. Leak audit" in render_markdown(m, figures={})


def test_split_words_follow_the_split_used(page):
    m = copy.deepcopy(page["metrics"])
    assert "most recent closed leads" in render_markdown(m, figures={})  # the default time split
    m["split"]["test_leads"] = split_words(SplitConfig(method="stratified"), ColumnsConfig())["test_leads"]
    md = render_markdown(m, figures={})
    assert "most recent" not in md and "drawn at random (stratified by outcome" in md


def test_bant_range_counts_the_real_criteria_and_the_ceiling_needs_an_oracle(page):
    m = copy.deepcopy(page["metrics"])
    assert "BANT criteria met (0-4)" in render_markdown(m, figures={})
    m["bant_rule"]["n_criteria"] = 3
    del m["test"]["oracle"]
    for name in ("intervals",):
        m["bootstrap"][name].pop("oracle", None)
    md, html = render_markdown(m, figures={}), render_html(m, figures={})
    assert "BANT criteria met (0-3)" in md and "(0-4)" not in md
    for text in (md, html):
        assert "ceiling" not in text.lower() and "The oracle is" not in text


def test_a_missing_axis_is_said_on_the_page(page):
    m = copy.deepcopy(page["metrics"])
    m["missing_axes"] = ["intent"]
    assert "No intent axis: features.intent has no columns" in render_markdown(m, figures={})


# -- issue 15: how fit and intent are combined, and what segment levels add --------------------------
def test_the_only_conversion_candidate_is_shown_as_such(page):
    m = page["metrics"]
    assert m["conversion_selection"] == {"chosen": "logistic", "folds": 0, "candidates": {}}  # the default
    md = render_markdown(m, figures={})
    (row,) = _table(_md_tables(md), "Table 8")
    assert row == ["logistic", "–", "–", "–", "yes"]
    assert "without cross-validation" in md and "Table 9" not in md
    assert "chosen among" not in md  # no headline line when nothing was compared


def _with_segments(metrics: dict) -> dict:
    m = copy.deepcopy(metrics)
    m["conversion_selection"] = {
        "chosen": "segment_spline",
        "folds": 5,
        "candidates": {
            "logistic": {"cv_log_loss": 0.34563, "cv_auc": 0.7853},
            "segment_spline": {"cv_log_loss": 0.34117, "cv_auc": 0.7937, "segments": ["seniority", "answer"]},
        },
        "segment_effects": {
            "seniority": {
                "student": {"offset": -0.2, "intent_slope": 0.0, "leads": 1200.0},
                "vp": {"offset": 0.31, "intent_slope": 0.44, "leads": 900.0},
            },
            "answer": {"career": {"offset": 1.79, "intent_slope": 0.0, "leads": 3100.0}},
        },
    }
    return m


def test_segment_adjustments_are_on_the_page_largest_first_and_big_offsets_stand_out(page):
    m = _with_segments(page["metrics"])
    md = render_markdown(m, figures={})
    tables = _md_tables(md)
    candidates = _table(tables, "Table 8")
    assert [r[0] for r in candidates] == ["logistic", "segment_spline"]
    assert _numbers(candidates[1][2]) == [0.34117] and candidates[1][-1] == "yes" and candidates[0][-1] == ""
    assert candidates[1][1] == "seniority, answer" and candidates[0][1] == "–"
    levels = _table(tables, "Table 9")
    assert [r[:2] for r in levels] == [["seniority", "vp"], ["seniority", "student"], ["answer", "career"]]
    assert levels[2][2:] == ["3,100", "+1.79", "5.99×", "0.00"]
    assert levels[0][3:] == ["+0.31", "1.36×", "0.44"]
    # Only the offset of 1 log-odds or more is bold (the markdown marks it with **).
    assert md.count("| **answer** |") == 1 and "| **seniority** |" not in md
    assert "adjusts for seniority, answer beyond the two scores (Table 9)" in md
    assert "Table 9. Segment adjustments" in render_html(m, figures={})
