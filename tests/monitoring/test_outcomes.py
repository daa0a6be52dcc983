"""Outcome monitoring: verdicts on constructed worlds, and the join of scores with outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import MonitorConfig
from leadscore.errors import DataValidationError
from leadscore.monitoring.outcomes import join_outcomes, monitor_outcomes, outcome_labels, reliability_png


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _world(n=5_000, *, seed=0, outcome_shift=0.0, model_noise=0.0, bant_noise=1.5):
    """Scored leads whose outcomes follow the model's log-odds plus ``outcome_shift`` (a moved base rate);
    ``model_noise`` blurs what the model saw of the truth (a decayed ranking)."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(-1.9, 1.2, n)
    p = _sigmoid(truth + rng.normal(0, model_noise, n)) if model_noise else _sigmoid(truth)
    y = (rng.random(n) < _sigmoid(truth + outcome_shift)).astype(int)
    met = np.digitize(truth + rng.normal(0, bant_noise, n), np.quantile(truth, [0.3, 0.55, 0.75, 0.9]))
    scored_at = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) % 90, unit="D")
    return pd.DataFrame({"conversion_probability": p, "label": y, "bant_criteria_met": met, "scored_at": scored_at})


def test_fine_when_calibrated_and_ranking():
    result = monitor_outcomes(_world(seed=1), reference_auc=0.77)
    assert result["verdict"] == "fine", result["reason"]
    assert result["ece"] < 0.02 and abs(result["calibration_gap"]) < 0.01
    assert result["auc"] > result["bant_auc"]
    assert len(result["deciles"]) == 10 and [p["period"] for p in result["by_period"]] == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]


def test_recalibrate_when_the_base_rate_moved():
    world = _world(seed=2, outcome_shift=0.9)
    result = monitor_outcomes(world, reference_auc=0.77, reference_base_rate=0.17)
    assert result["verdict"] == "recalibrate", result["reason"]
    assert result["calibration_gap"] < -0.05  # predicted below observed
    assert result["base_rate_shift"] == pytest.approx(world["label"].mean() - 0.17)
    assert result["reason"].startswith("recalibrate: the ranking holds but probabilities are off (ECE ")
    # Observed above predicted in the top decile.
    assert result["deciles"]["1"]["rate"] > result["deciles"]["1"]["mean_predicted"]


def test_retrain_when_the_auc_dropped():
    result = monitor_outcomes(_world(seed=3, model_noise=1.5), reference_auc=0.77)
    assert result["verdict"] == "retrain", result["reason"]
    assert result["auc_change"] < -0.03
    assert "AUC dropped by" in result["reason"] and "(reference 0.770)" in result["reason"]


def test_retrain_when_no_better_than_bant():
    world = _world(seed=4, model_noise=3.0, bant_noise=0.3)
    result = monitor_outcomes(world)  # no reference AUC: BANT is the yardstick
    assert result["verdict"] == "retrain"
    assert "no better than BANT" in result["reason"] and result["auc"] <= result["bant_auc"]


def test_too_few_outcomes():
    result = monitor_outcomes(_world(n=150, seed=5))
    assert result["verdict"] == "too_few_outcomes"
    assert "150 closed leads" in result["reason"] and "at least 200" in result["reason"]


def test_thresholds_come_from_config():
    world = _world(seed=2, outcome_shift=0.9)
    lax = MonitorConfig(max_ece=0.5, max_calibration_gap=0.5)
    assert monitor_outcomes(world, config=lax)["verdict"] == "fine"


def test_join_matches_ids_as_text_and_keeps_the_latest_score():
    scores = pd.DataFrame(
        {
            "lead_id": [1, 2, 3, 2],
            "conversion_probability": [0.1, 0.2, 0.3, 0.9],
            "scored_at": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-01", "2026-02-01"], utc=True),
        }
    )
    outcomes = pd.DataFrame({"lead_id": ["1", " 2", "3", "4"], "status": ["Won", "lost", "open", "won"]})
    joined, counts = join_outcomes(scores, outcomes)
    assert joined.set_index("lead_id")["label"].to_dict() == {1: 1, 2: 0}
    assert joined.set_index("lead_id")["conversion_probability"].to_dict() == {1: 0.1, 2: 0.9}
    assert counts == {
        "score_rows": 4,
        "scored_leads": 3,
        "outcome_rows": 4,
        "outcomes_not_closed": 1,
        "closed_outcomes": 3,
        "matched": 2,
        "closed_without_score": 1,
    }


def test_join_float_ids_from_csv_match_integers():
    scores = pd.DataFrame({"lead_id": [1.0, 2.0, np.nan], "conversion_probability": [0.1, 0.2, 0.3]})
    outcomes = pd.DataFrame({"lead_id": [1, 2], "status": [1, 0]})
    joined, _ = join_outcomes(scores, outcomes)
    assert joined["label"].tolist() == [1, 0]


def test_outcome_labels_read_text_and_flags():
    assert outcome_labels(pd.Series(["WON ", "Lost", None, "open"])).tolist() == [1, 0, pd.NA, pd.NA]
    assert outcome_labels(pd.Series([True, False])).tolist() == [1, 0]
    assert outcome_labels(
        pd.Series(["closed_won", "closed_lost"]), won_values=["closed_won"], lost_values=["closed_lost"]
    ).tolist() == [1, 0]


def test_join_errors_name_the_file_and_column():
    scores = pd.DataFrame({"lead_id": [1], "conversion_probability": [0.5]})
    with pytest.raises(DataValidationError, match=r"outcomes.csv: missing column\(s\) status"):
        join_outcomes(scores, pd.DataFrame({"lead_id": [1], "won": [1]}), outcomes_source="outcomes.csv")
    with pytest.raises(DataValidationError, match=r"outcomes.csv: column 'lead_id' repeats id '1'"):
        join_outcomes(
            scores, pd.DataFrame({"lead_id": [1, 1], "status": ["won", "lost"]}), outcomes_source="outcomes.csv"
        )
    with pytest.raises(DataValidationError, match=r"scores.parquet: column 'conversion_probability' .* got 1.5"):
        join_outcomes(
            pd.DataFrame({"lead_id": [1], "conversion_probability": [1.5]}),
            pd.DataFrame({"lead_id": [1], "status": ["won"]}),
            scores_source="scores.parquet",
        )


def test_reliability_chart_is_a_png():
    png = reliability_png(monitor_outcomes(_world(seed=6, outcome_shift=0.5)))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
