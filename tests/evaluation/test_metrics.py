"""Metric helpers on inputs with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from leadscore.evaluation.metrics import (
    binary_metrics,
    capacity_at_volume,
    expected_calibration_error,
    gains_points,
    rate_by_level,
)


def test_ece_is_zero_for_perfectly_calibrated_bins_and_known_otherwise():
    y = np.array([0, 1, 0, 1, 1, 1, 1, 0])
    p = np.array([0.5, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75])
    assert expected_calibration_error(y, p) == pytest.approx(0.0)
    # Everyone predicted 0.9, half convert: ECE = 0.4.
    assert expected_calibration_error(np.array([0, 1, 0, 1]), np.full(4, 0.9)) == pytest.approx(0.4)


def test_binary_metrics_of_a_perfect_ranker():
    y = np.array([0, 0, 1, 1])
    m = binary_metrics(y, np.array([0.1, 0.2, 0.8, 0.9]))
    assert m["auc"] == 1.0 and m["pr_auc"] == 1.0
    assert m["brier"] == pytest.approx((0.01 + 0.04 + 0.04 + 0.01) / 4)


def test_capacity_counts_wins_among_the_top_k():
    y = np.array([1, 0, 1, 0, 1])
    assert capacity_at_volume(y, np.array([0.9, 0.8, 0.1, 0.7, 0.2]), 2) == 1
    assert capacity_at_volume(y, np.array([0.9, 0.1, 0.8, 0.2, 0.7]), 3) == 3


def test_rate_by_level_reads_a_rule_as_smoothed_rates():
    levels = np.array([0, 0, 0, 0, 1, 1])
    y = np.array([0, 0, 0, 1, 1, 1])
    rates = rate_by_level(levels, y, np.array([0, 1, 7]), prior_weight=0.0)
    assert rates.tolist() == [0.25, 1.0, 0.5]  # unseen level -> overall rate


def test_gains_end_at_all_conversions():
    y = np.array([0, 1, 0, 1])
    g = gains_points(y, np.array([0.1, 0.9, 0.2, 0.8]), points=4)
    assert g["share_of_conversions"].tolist() == [0.5, 1.0, 1.0, 1.0]
