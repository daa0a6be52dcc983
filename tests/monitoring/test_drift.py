import json
import math

import numpy as np
import pandas as pd
import pytest

from leadscore.config import DriftConfig
from leadscore.errors import DataValidationError
from leadscore.monitoring.drift import (
    SCORE_NAMES,
    DriftAccumulator,
    drift_png,
    psi,
    reference_distributions,
    status_of,
)


def _scores(n: int, rng: np.random.Generator, shift: float = 0.0) -> dict[str, np.ndarray]:
    return {name: np.clip(rng.beta(2, 8, n) + shift, 0, 1) for name in SCORE_NAMES}


def _frame(n: int, seed: int, *, visits_shift: float = 0.0, source_mix=(0.5, 0.3, 0.2)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "visits": rng.poisson(3 + visits_shift, n),
            "revenue": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(12, 1, n)),
            "source": rng.choice(["web", "event", "partner"], n, p=list(source_mix)),
            "demo": rng.random(n) < 0.2,
        }
    )


COLUMNS = ["visits", "revenue", "source", "demo"]


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(0)
    return reference_distributions(_frame(5_000, 1), _scores(5_000, rng), COLUMNS)


def test_psi_known_values():
    # (0.25-0.5) ln(0.5) + (0.75-0.5) ln(1.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    # An empty bin is floored at 1e-4, not infinite.
    assert psi([1.0, 0.0], [0.9, 0.1]) == pytest.approx(-0.1 * math.log(0.9) + (0.1 - 1e-4) * math.log(0.1 / 1e-4))


def test_psi_on_hand_made_frames():
    ref_raw = pd.DataFrame({"colour": ["red"] * 50 + ["blue"] * 50, "n": [1.0] * 50 + [2.0] * 50})
    scores = {name: np.linspace(0, 1, 100) for name in SCORE_NAMES}
    reference = reference_distributions(ref_raw, scores, ["colour", "n"], bins=2)
    assert reference["columns"]["colour"]["categories"] == ["blue", "red"]
    assert reference["columns"]["colour"]["shares"] == [0.5, 0.5, 0.0, 0.0]  # blue, red, other, missing
    assert reference["columns"]["n"]["edges"] == [1.5]
    batch = pd.DataFrame({"colour": ["red"] * 25 + ["blue"] * 75, "n": [1.0] * 25 + [2.0] * 75})
    report = DriftAccumulator(reference).update(batch, scores).report()
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert report["columns"]["colour"]["psi"] == pytest.approx(expected)
    assert report["columns"]["n"]["psi"] == pytest.approx(expected)
    assert report["columns"]["colour"]["status"] == "alert"  # 0.275 >= 0.25
    for name in SCORE_NAMES:
        assert report["scores"][name] == {
            "psi": 0.0,
            "status": "ok",
            "shares": report["scores"][name]["shares"],
            "reference_shares": report["scores"][name]["reference_shares"],
        }


def test_status_thresholds():
    assert status_of(0.05, warn=0.1, alert=0.25) == "ok"
    assert status_of(0.1, warn=0.1, alert=0.25) == "warn"
    assert status_of(0.3, warn=0.1, alert=0.25) == "alert"
    custom = DriftConfig(warn=0.01, alert=0.02)
    assert status_of(0.015, warn=custom.warn, alert=custom.alert) == "warn"


def test_reference_is_json_able_and_round_trips(reference):
    again = json.loads(json.dumps(reference))
    batch = _frame(1_000, 9)
    scores = _scores(1_000, np.random.default_rng(9))
    assert (
        DriftAccumulator(again).update(batch, scores).report()
        == DriftAccumulator(reference).update(batch, scores).report()
    )


@pytest.mark.parametrize("chunk_size", [1, 7, 1000])
def test_identical_at_any_chunk_size(reference, chunk_size):
    batch = _frame(300, 2, visits_shift=1.0)
    batch.loc[::13, "source"] = "webinar"  # unseen
    batch.loc[::17, "visits"] = np.nan
    scores = pd.DataFrame(_scores(300, np.random.default_rng(2), shift=0.05))
    whole = DriftAccumulator(reference).update(batch, scores).report()
    accumulator = DriftAccumulator(reference)
    for start in range(0, len(batch), chunk_size):
        accumulator.update(batch.iloc[start : start + chunk_size], scores.iloc[start : start + chunk_size])
    assert accumulator.report() == whole


def test_shifted_column_alerts_and_stable_ones_do_not(reference):
    batch = _frame(3_000, 3, visits_shift=4.0)
    report = DriftAccumulator(reference).update(batch, _scores(3_000, np.random.default_rng(3))).report()
    assert report["columns"]["visits"]["status"] == "alert"
    assert report["columns"]["visits"]["psi"] > 1.0
    for stable in ("revenue", "source", "demo"):
        assert report["columns"][stable]["status"] == "ok", (stable, report["columns"][stable]["psi"])
    assert report["summary"].startswith("drift alert (PSI): visits ")
    assert "revenue" not in report["summary"]


def test_score_shift_alerts(reference):
    batch = _frame(3_000, 4)
    report = DriftAccumulator(reference).update(batch, _scores(3_000, np.random.default_rng(4), shift=0.15)).report()
    assert all(report["scores"][n]["status"] == "alert" for n in SCORE_NAMES)
    assert "conversion_probability (score)" in report["summary"]


def test_unseen_categories_and_missing_rate_change(reference):
    batch = _frame(2_000, 5)
    batch.loc[:499, "source"] = "podcast"  # 25% never seen
    batch.loc[:, "revenue"] = np.where(np.arange(2_000) < 1_000, np.nan, batch["revenue"])  # 50% missing
    report = DriftAccumulator(reference).update(batch, _scores(2_000, np.random.default_rng(5))).report()
    source = report["columns"]["source"]
    assert source["unseen_share"] == pytest.approx(0.25)
    assert source["other_share"] == pytest.approx(0.25) and source["reference_other_share"] == 0.0
    assert source["status"] == "alert"
    revenue = report["columns"]["revenue"]
    assert revenue["reference_missing_rate"] == pytest.approx(0.1, abs=0.015)
    assert revenue["missing_rate"] == pytest.approx(0.55, abs=0.02)  # half, plus 10% of the other half
    assert revenue["missing_rate_change"] == pytest.approx(revenue["missing_rate"] - revenue["reference_missing_rate"])
    assert revenue["unseen_share"] is None
    assert report["columns"]["visits"]["missing_rate_change"] == 0.0


def test_text_is_trimmed_and_case_folded(reference):
    batch = _frame(1_000, 6)
    messy = batch.assign(source=" " + batch["source"].str.upper() + "  ")
    scores = _scores(1_000, np.random.default_rng(6))
    assert (
        DriftAccumulator(reference).update(messy, scores).report()["columns"]["source"]
        == DriftAccumulator(reference).update(batch, scores).report()["columns"]["source"]
    )


def test_booleans_as_objects_are_numeric():
    raw = pd.DataFrame({"crm": pd.Series([True, False, None, True] * 25, dtype=object)})
    scores = {n: np.linspace(0, 1, 100) for n in SCORE_NAMES}
    reference = reference_distributions(raw, scores, ["crm"])
    spec = reference["columns"]["crm"]
    assert spec["kind"] == "numeric" and spec["missing_share"] == 0.25
    report = DriftAccumulator(reference).update(raw, scores).report()
    assert report["columns"]["crm"]["psi"] == 0.0


def test_missing_column_names_it(reference):
    batch = _frame(10, 7).drop(columns="source")
    with pytest.raises(DataValidationError, match=r"leads.csv: missing column\(s\) source watched for drift"):
        DriftAccumulator(reference).update(batch, _scores(10, np.random.default_rng(7)), source="leads.csv")


def test_reference_needs_the_three_scores():
    with pytest.raises(DataValidationError, match="conversion_probability"):
        reference_distributions(_frame(10, 8), {"fit_probability": np.zeros(10)}, COLUMNS)


def test_empty_batch_reports_nothing_to_compare(reference):
    report = DriftAccumulator(reference).report()
    assert report["rows"] == 0 and report["columns"]["visits"]["psi"] is None
    assert report["summary"] == "drift: no rows scored, nothing to compare"


def test_chart_is_a_png(reference):
    batch = _frame(500, 10, visits_shift=3.0)
    report = DriftAccumulator(reference).update(batch, _scores(500, np.random.default_rng(10))).report()
    png = drift_png(report)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


def test_a_column_missing_in_the_reference_alerts_when_it_fills_in():
    scores = {n: np.linspace(0, 1, 100) for n in SCORE_NAMES}
    reference = reference_distributions(pd.DataFrame({"note": [None] * 100}), scores, ["note"])
    assert reference["columns"]["note"]["shares"] == [0.0, 1.0]  # other, missing
    batch = pd.DataFrame({"note": ["call back"] * 50 + [None] * 50})
    column = DriftAccumulator(reference).update(batch, scores).report()["columns"]["note"]
    assert column["unseen_share"] == 0.5 and column["missing_rate_change"] == -0.5 and column["status"] == "alert"


def test_infinite_values_fall_in_the_outer_bins():
    scores = {n: np.linspace(0, 1, 100) for n in SCORE_NAMES}
    values = np.r_[np.arange(97.0), np.inf, np.inf, -np.inf]
    spec = reference_distributions(pd.DataFrame({"x": values}), scores, ["x"])["columns"]["x"]
    assert all(np.isfinite(spec["edges"])) and len(spec["edges"]) == 9
    assert spec["missing_share"] == 0.0 and sum(spec["shares"]) == pytest.approx(1.0)


def test_merged_accumulators_give_the_whole_batchs_report(reference):
    batch = _frame(900, 11, visits_shift=1.0)
    batch.loc[::9, "source"] = "webinar"
    scores = pd.DataFrame(_scores(900, np.random.default_rng(11)))
    whole = DriftAccumulator(reference).update(batch, scores).report()
    parts = [DriftAccumulator(reference).update(batch.iloc[a:b], scores.iloc[a:b]) for a, b in ((0, 400), (400, 900))]
    assert parts[0].merge(parts[1]).report() == whole
    other = reference_distributions(_frame(500, 12), _scores(500, np.random.default_rng(12)), COLUMNS)
    with pytest.raises(DataValidationError, match="different references"):
        DriftAccumulator(reference).merge(DriftAccumulator(other))


def test_drift_outputs_are_recognised_and_nothing_else(reference, tmp_path):
    from leadscore.monitoring.drift import is_drift_output

    report = DriftAccumulator(reference).update(_frame(200, 13), _scores(200, np.random.default_rng(13))).report()
    (tmp_path / "d.json").write_text(json.dumps(report))
    (tmp_path / "d.png").write_bytes(drift_png(report))
    assert is_drift_output(tmp_path / "d.json") and is_drift_output(tmp_path / "d.png")
    (tmp_path / "other.json").write_text('{"columns": 1}')
    (tmp_path / "other.png").write_bytes(b"\x89PNG\r\n\x1a\n not ours")
    for name in ("other.json", "other.png", "missing.json"):
        assert not is_drift_output(tmp_path / name), name
