"""Benchmark tables on tiny hand-made frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.evaluation.benchmark import (
    add_rule_probabilities,
    evaluate_test_split,
    lift_by_decile,
    quadrant_bant_table,
    rule_operating_points,
    volume_comparison,
)
from leadscore.evaluation.metrics import expected_cumulative_conversions, gains_points


def test_tied_scores_are_worked_in_random_order_in_expectation():
    y = np.array([1, 0, 1, 0, 0, 1])
    scores = np.array([2, 2, 1, 1, 1, 0])  # blocks: {1,0} rate 1/2, {1,0,0} rate 1/3, {1}
    cum = expected_cumulative_conversions(y, scores)
    assert cum.tolist() == pytest.approx([0, 0.5, 1.0, 1 + 1 / 3, 1 + 2 / 3, 2.0, 3.0])


def test_gains_of_a_tied_rule_are_straight_within_a_level():
    g = gains_points(np.array([1, 0, 0, 1]), np.array([1, 1, 1, 1]), points=4)
    assert g["share_of_conversions"].tolist() == pytest.approx([0.25, 0.5, 0.75, 1.0])


def test_volume_comparison_and_fewer_calls():
    # 10 leads, 4 conversions. "rule" qualifies the first 5 (2 conversions); "model" ranks both of them first.
    y = np.array([1, 0, 1, 0, 0, 1, 1, 0, 0, 0])
    rule = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    model = np.array([9, 1, 8, 2, 3, 7, 6, 4, 5, 0])
    rows = volume_comparison(y, {"rule": rule, "model": model}, volume=5, target_conversions=2)
    assert rows["rule"] == {
        "conversions": 2.0,
        "precision": 0.4,
        "recall": 0.5,
        "leads_to_match": 5,
        "fewer_calls": 0.0,
    }
    assert rows["model"]["conversions"] == 4.0 and rows["model"]["precision"] == 0.8
    assert rows["model"]["leads_to_match"] == 2  # same wins with 60% fewer calls
    assert rows["model"]["fewer_calls"] == pytest.approx(0.6)


def test_rule_operating_points_compare_the_model_at_the_rules_own_volume():
    y = np.array([1, 0, 1, 0, 0, 1])
    out = rule_operating_points(y, {"strict": np.array([1, 1, 0, 0, 0, 0], bool)}, np.array([6, 0, 5, 1, 2, 4]))
    assert out["strict"]["volume"] == 2 and out["strict"]["conversions"] == 1.0
    assert out["strict"]["model_conversions"] == 2.0
    assert out["strict"]["model_leads_to_match"] == 1 and out["strict"]["fewer_calls"] == pytest.approx(0.5)


def test_lift_by_decile_on_twenty_leads():
    p = np.linspace(0.95, 0.0, 20)
    y = np.array([1, 1, 1, 0] + [0] * 16)
    table = lift_by_decile(y, p, groups=10)
    assert list(table) == [str(i) for i in range(1, 11)]
    assert table["1"] == pytest.approx(
        {
            "leads": 2,
            "conversions": 2,
            "rate": 1.0,
            "mean_predicted": (0.95 + 0.95 * 18 / 19) / 2,
            "lift": 1.0 / 0.15,
            "cumulative_share": 2 / 3,
        }
    )
    assert table["2"]["conversions"] == 1 and table["2"]["cumulative_share"] == pytest.approx(1.0)
    assert sum(r["leads"] for r in table.values()) == 20


def test_quadrant_bant_crosstab_counts_every_lead_once():
    test = pd.DataFrame(
        {
            "quadrant": ["high_fit_high_intent"] * 3 + ["low_fit_low_intent"] * 3,
            "bant_qualified": [True, False, False, True, False, False],
            "label": [1, 1, 0, 0, 0, 1],
            "conversion_probability": [0.8, 0.6, 0.4, 0.1, 0.05, 0.15],
        }
    )
    table = quadrant_bant_table(test)
    hh = table["high_fit_high_intent"]["bant_not_qualified"]
    assert hh == pytest.approx({"n": 2, "conversions": 1, "observed_rate": 0.5, "mean_predicted": 0.5})
    assert table["high_fit_low_intent"]["bant_qualified"] == {
        "n": 0,
        "conversions": 0,
        "observed_rate": None,
        "mean_predicted": None,
    }
    assert sum(c["n"] for q in table.values() for c in q.values()) == len(test)


def _scored(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = rng.beta(1, 5, n)
    met = rng.integers(0, 5, n)
    return pd.DataFrame(
        {
            "fit_probability": np.clip(p + rng.normal(0, 0.05, n), 0.01, 0.99),
            "intent_probability": np.clip(p + rng.normal(0, 0.05, n), 0.01, 0.99),
            "conversion_probability": p,
            "quadrant": rng.choice(
                ["high_fit_high_intent", "high_fit_low_intent", "low_fit_high_intent", "low_fit_low_intent"], n
            ),
            "bant_criteria_met": met,
            "bant_qualified": met >= 3,
            "bant_points": met * 25.0,
            "random_score": rng.uniform(size=n),
            "label": (rng.uniform(size=n) < p).astype(int),
            "true_p": p,
        }
    )


def test_rules_read_as_probabilities_from_the_calibration_split_only():
    cal, test = _scored(400, 1), _scored(300, 2)
    out = add_rule_probabilities(test, cal, bant_variants=(2, 4))
    shuffled = add_rule_probabilities(
        test.assign(label=np.random.default_rng(0).permutation(test["label"])), cal, bant_variants=(2, 4)
    )
    for column in (
        "bant_probability",
        "bant_2of4_probability",
        "bant_4of4_probability",
        "bant_points_probability",
        "random_probability",
    ):
        np.testing.assert_array_equal(out[column], shuffled[column])
    assert set(out["bant_2of4"]) <= {0, 1}


def test_benchmark_bootstrap_is_reproducible_with_its_seed():
    cal, test = _scored(400, 1), _scored(500, 2)
    test = add_rule_probabilities(test, cal, bant_variants=(2, 4))
    kw = {"bant_variants": (2, 4), "bootstrap_n": 30, "capacity_reps": 2, "capacity_leads_per_rep": 50}
    a = evaluate_test_split(test, bootstrap_seed=7, **kw)
    b = evaluate_test_split(test, bootstrap_seed=7, **kw)
    c = evaluate_test_split(test, bootstrap_seed=8, **kw)
    assert a == b
    assert a["bootstrap"]["intervals"] != c["bootstrap"]["intervals"]
    assert a["test"] == c["test"]  # point estimates do not depend on the resamples
    ci = a["bootstrap"]["intervals"]["conversion"]["auc"]
    assert ci["low"] <= a["test"]["conversion"]["auc"] <= ci["high"]
    assert set(a["test"]) == {
        "conversion",
        "fit",
        "intent",
        "bant",
        "bant_qualified",
        "bant_2of4",
        "bant_4of4",
        "bant_points",
        "random",
        "oracle",
    }
    assert a["capacity_plan"]["leads"] == 100
