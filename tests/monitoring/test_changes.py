"""What changed since a date: window choice, trends, reasons that changed, ranking, clear errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from leadscore.errors import LeadscoreError
from leadscore.monitoring.changes import (
    changes_json,
    changes_table,
    compare_snapshots,
    lead_trends,
    pick_window,
    reason_changes,
    reasons_text,
)

D = pd.Timestamp


def _rows(as_of: str, leads: dict[str, tuple[float, str, dict, dict]], *, model: str = "sha256:aaa") -> pd.DataFrame:
    """History rows: lead -> (p_conversion, quadrant, fit contributions, intent contributions)."""
    return pd.DataFrame(
        {
            "lead_id": list(leads),
            "as_of": D(as_of),
            "model_name": "lead_scorer",
            "model_version": model,
            "fit_probability": 0.5,
            "intent_probability": 0.5,
            "conversion_probability": [v[0] for v in leads.values()],
            "quadrant": [v[1] for v in leads.values()],
            "fit_contributions": [json.dumps(v[2]) for v in leads.values()],
            "intent_contributions": [json.dumps(v[3]) for v in leads.values()],
        }
    )


SNAPSHOTS = [D("2026-03-01"), D("2026-03-08"), D("2026-03-15")]


def test_the_baseline_is_the_latest_snapshot_at_or_before_the_date():
    window = pick_window(SNAPSHOTS, D("2026-03-10"))
    assert (window.baseline, window.latest) == (D("2026-03-08"), D("2026-03-15"))
    assert window.snapshots == (D("2026-03-08"), D("2026-03-15"))
    assert pick_window(SNAPSHOTS, D("2026-03-01")).snapshots == tuple(SNAPSHOTS)


@pytest.mark.parametrize(
    ("available", "since", "message"),
    [
        ([], "2026-03-01", "holds no snapshot yet"),
        (SNAPSHOTS, "2026-02-28", "before the first snapshot in h (2026-03-01)"),
        (SNAPSHOTS, "2026-03-15", "nothing newer to compare with; give a date before 2026-03-15, e.g. 2026-03-08"),
        (SNAPSHOTS, "2026-04-01", "the latest snapshot in h is 2026-03-15"),
    ],
)
def test_window_errors_are_one_clear_line(available, since, message):
    with pytest.raises(LeadscoreError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        pick_window(available, D(since), source="h")
    assert "\n" not in str(err.value)


def test_trend_is_the_fitted_change_over_the_window():
    points = pd.DataFrame(
        {
            "lead_id": ["up"] * 3 + ["down"] * 3 + ["flat"] * 3 + ["zigzag"] * 3 + ["once"],
            "as_of": SNAPSHOTS * 4 + [SNAPSHOTS[0]],
            "conversion_probability": [0.1, 0.2, 0.3, 0.5, 0.4, 0.3, 0.2, 0.2, 0.21, 0.2, 0.5, 0.2, 0.4],
        }
    )
    trends = lead_trends(points, tolerance=0.02)
    assert trends.loc["up", "trend"] == "rising"
    assert trends.loc["up", "fitted_change"] == pytest.approx(0.2)
    assert trends.loc["down", "trend"] == "falling"
    assert trends.loc["flat", "trend"] == "steady"  # +0.01 is within the tolerance
    assert trends.loc["zigzag", "trend"] == "steady"  # up then down: no slope
    assert trends.loc["once", "trend"] == "steady" and trends.loc["once", "snapshots"] == 1
    assert lead_trends(points, tolerance=0.25).loc["up", "trend"] == "steady"


def test_reasons_that_changed_biggest_first_with_labels():
    before = {"fit": json.dumps({"employees": 0.3}), "intent": json.dumps({"web_visits_30d": -0.2, "demo": 0.1})}
    after = {"fit": json.dumps({"employees": 0.32}), "intent": json.dumps({"web_visits_30d": 0.6, "demo": 0.4})}
    reasons = reason_changes(before, after, labels={"web_visits_30d": "Web visits (30 days)"}, min_delta=0.05)
    assert [(r["column"], r["delta"]) for r in reasons] == [("web_visits_30d", 0.8), ("demo", 0.3)]
    assert reasons[0]["label"] == "Web visits (30 days)" and reasons[1]["label"] == "Demo"
    assert reasons_text(reasons[:1]) == "Web visits (30 days) (intent): -0.20 -> +0.60 (+0.80)"
    assert len(reason_changes(before, after, limit=1)) == 1


def test_a_reason_stored_on_one_side_only_is_a_lower_bound():
    # After, "trial" is not among the stored contributions, so it is at most 0.25 strong there.
    before = {"intent": json.dumps({"trial": 0.9, "demo": 0.5})}
    after = {"intent": json.dumps({"demo": 0.5, "visits": 0.25})}
    reasons = {r["column"]: r for r in reason_changes(before, after)}
    assert reasons["trial"]["delta"] is None
    assert reasons["trial"]["change"] == pytest.approx(-0.65)  # fell by at least 0.9 - 0.25
    assert "visits" not in reasons  # 0.25 after, and before it was weaker than 0.5: it may not have moved
    assert "demo" not in reasons  # unchanged
    assert "(at least -0.65)" in reasons_text([reasons["trial"]])


def _two_snapshots(model_after: str = "sha256:aaa"):
    before = _rows(
        "2026-03-01",
        {
            "A": (0.30, "high_fit_low_intent", {}, {"visits": -0.3}),
            "B": (0.20, "high_fit_low_intent", {}, {"visits": 0.1}),
            "C": (0.50, "high_fit_high_intent", {}, {"visits": 0.4}),
            "D": (0.10, "low_fit_low_intent", {}, {}),
            "gone": (0.10, "low_fit_low_intent", {}, {}),
        },
    )
    after = _rows(
        "2026-03-15",
        {
            "A": (0.35, "high_fit_high_intent", {}, {"visits": 0.5}),  # small move, but changed quadrant
            "B": (0.60, "high_fit_low_intent", {}, {"visits": 0.9}),  # big move, same quadrant
            "C": (0.40, "high_fit_high_intent", {}, {"visits": 0.2}),
            "D": (0.10, "low_fit_low_intent", {}, {}),  # did not move
            "new": (0.10, "low_fit_low_intent", {}, {}),
        },
        model=model_after,
    )
    window = pick_window([D("2026-03-01"), D("2026-03-15")], D("2026-03-01"))
    points = pd.concat([before, after])[["lead_id", "as_of", "conversion_probability"]]
    return before, after, lead_trends(points, tolerance=0.02), window


def test_quadrant_changes_first_then_the_biggest_moves():
    before, after, trends, window = _two_snapshots()
    report = compare_snapshots(before, after, trends, window=window, top=10)
    assert list(report.leads["lead_id"]) == ["A", "B", "C"]  # D did not move
    assert report.leads.set_index("lead_id").loc["A", "quadrant_changed"]
    assert list(report.leads["trend"]) == ["rising", "rising", "falling"]
    assert report.leads.set_index("lead_id").loc["B", "p_change"] == pytest.approx(0.4)
    assert report.leads.loc[0, "reasons"][0]["column"] == "visits"
    assert (report.compared, report.moved_quadrant, report.new_leads, report.gone_leads) == (4, 1, 1, 1)
    assert report.notes == ()
    assert list(compare_snapshots(before, after, trends, window=window, top=1).leads["lead_id"]) == ["A"]


def test_only_the_leads_asked_for_and_unknown_ids_are_named():
    before, after, trends, window = _two_snapshots()
    report = compare_snapshots(before, after, trends, window=window, leads=["D", "C"])
    assert sorted(report.leads["lead_id"]) == ["C", "D"]  # D shown although it did not move
    assert report.compared == 4  # counts are over every lead, not only those asked for
    with pytest.raises(LeadscoreError, match=r"--lead: 2 id\(s\) not in both .*'new', 'nope'"):
        compare_snapshots(before, after, trends, window=window, leads=["A", "new", "nope"])


def test_a_different_model_is_said():
    before, after, trends, window = _two_snapshots(model_after="sha256:bbb")
    report = compare_snapshots(before, after, trends, window=window)
    assert len(report.notes) == 1 and "sha256:aaa" in report.notes[0] and "sha256:bbb" in report.notes[0]
    assert report.models == {"baseline": ["sha256:aaa"], "latest": ["sha256:bbb"]}


def test_json_and_table_forms():
    before, after, trends, window = _two_snapshots()
    report = compare_snapshots(before, after, trends, window=window)
    data = json.loads(json.dumps(changes_json(report)))
    assert data["baseline"] == "2026-03-01T00:00:00" and data["latest"] == "2026-03-15T00:00:00"
    assert [lead["lead_id"] for lead in data["leads"]] == ["A", "B", "C"]
    assert data["leads"][1]["reasons"][0] == {
        "group": "intent",
        "column": "visits",
        "label": "Visits",
        "before": 0.1,
        "after": 0.9,
        "delta": 0.8,
        "change": 0.8,
    }
    table = changes_table(report)
    assert table.loc[1, "reasons"] == "Visits (intent): +0.10 -> +0.90 (+0.80)"
    assert {"baseline", "latest", "quadrant_before", "quadrant_after", "trend"} <= set(table.columns)


def test_top_must_be_positive():
    before, after, trends, window = _two_snapshots()
    with pytest.raises(LeadscoreError, match="--top: expected a positive number"):
        compare_snapshots(before, after, trends, window=window, top=0)
