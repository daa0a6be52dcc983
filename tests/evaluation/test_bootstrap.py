"""Vectorised bootstrap metrics agree with scikit-learn and are reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from leadscore.evaluation.bootstrap import bootstrap_metrics, percentile_interval, resample_counts, weighted_metrics
from leadscore.evaluation.metrics import binary_metrics


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    y = (rng.uniform(size=600) < 0.2).astype(int)
    p = np.clip(rng.beta(1, 4, 600) + 0.25 * y, 0, 1)
    return y, p


def test_unit_weights_reproduce_the_point_metrics(data):
    y, p = data
    got = {k: float(v[0]) for k, v in weighted_metrics(y, p, p, np.ones((1, len(y)))).items()}
    assert got == pytest.approx(binary_metrics(y, p), abs=1e-12)


def test_ties_count_like_scikit_learn(data):
    y, p = data
    levels = np.round(p * 4)  # a 0-4 rule: many ties
    got = weighted_metrics(y, levels, p, np.ones((1, len(y))))
    assert got["auc"][0] == pytest.approx(roc_auc_score(y, levels), abs=1e-12)
    assert got["pr_auc"][0] == pytest.approx(average_precision_score(y, levels), abs=1e-12)


def test_integer_weights_equal_metrics_on_the_resampled_rows(data):
    y, p = data
    W = resample_counts(len(y), n_resamples=1, seed=5)
    rows = np.repeat(np.arange(len(y)), W[0].astype(int))
    got = {k: float(v[0]) for k, v in weighted_metrics(y, p, p, W).items()}
    assert got == pytest.approx(binary_metrics(y[rows], p[rows]), abs=1e-10)


def test_resamples_are_reproducible_with_a_seed(data):
    y, p = data
    a = bootstrap_metrics(y, {"m": (p, p)}, n_resamples=20, seed=1)
    b = bootstrap_metrics(y, {"m": (p, p)}, n_resamples=20, seed=1)
    c = bootstrap_metrics(y, {"m": (p, p)}, n_resamples=20, seed=2)
    np.testing.assert_array_equal(a["m"]["auc"], b["m"]["auc"])
    assert not np.array_equal(a["m"]["auc"], c["m"]["auc"])
    assert resample_counts(50, n_resamples=4, seed=0).sum(axis=1).tolist() == [50] * 4


def test_percentile_interval():
    assert percentile_interval(np.arange(101.0), level=0.9) == pytest.approx({"low": 5.0, "high": 95.0})
