"""Outcome labels and the time split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import ColumnsConfig, SplitConfig
from leadscore.data.outcomes import assign_splits, effective_split, outcome_labels
from leadscore.errors import DataValidationError


def test_labels_map_won_lost_open(tiny_leads):
    labels = outcome_labels(tiny_leads, ColumnsConfig())
    assert labels.tolist()[:6] == [1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    assert labels.iloc[6:].isna().all()


def test_status_values_are_compared_without_case_or_space(tiny_leads):
    tiny_leads.loc[0, "status"] = " Won "
    assert outcome_labels(tiny_leads, ColumnsConfig()).iloc[0] == 1.0


def test_unknown_status_is_named(tiny_leads):
    tiny_leads.loc[2, "status"] = "pending"
    with pytest.raises(DataValidationError, match=r"'status' has values \['pending'\]"):
        outcome_labels(tiny_leads, ColumnsConfig())


def _history(n=100, seed=0):
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.permutation(n), unit="D")
    status = np.where(rng.random(n) < 0.3, "won", "lost")
    status[-5:] = "open"
    return pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "created_at": created, "status": status})


def test_time_split_puts_the_most_recent_closed_leads_in_test():
    raw = _history()
    labels = outcome_labels(raw, ColumnsConfig())
    splits = assign_splits(raw, labels, split=SplitConfig(), columns=ColumnsConfig())
    t = raw["created_at"]
    assert (splits == "open").sum() == 5
    assert t[splits == "train"].max() < t[splits == "early_stopping"].min()
    assert t[splits == "early_stopping"].max() < t[splits == "calibration"].min()
    assert t[splits == "calibration"].max() < t[splits == "test"].min()
    assert (splits == "test").sum() == round(0.2 * 95)


def test_stratified_split_is_seeded_and_keeps_the_class_mix():
    raw = _history(2000)
    labels = outcome_labels(raw, ColumnsConfig())
    cfg = SplitConfig(method="stratified", seed=3)
    a = assign_splits(raw, labels, split=cfg, columns=ColumnsConfig(created_at=None))
    b = assign_splits(raw, labels, split=cfg, columns=ColumnsConfig(created_at=None))
    pd.testing.assert_series_equal(a, b)
    rates = labels.groupby(a).mean()
    assert rates[["train", "calibration", "test"]].max() - rates[["train", "calibration", "test"]].min() < 0.02


def test_time_split_without_time_column_falls_back_to_stratified_and_says_so():
    raw = _history(500)
    labels = outcome_labels(raw, ColumnsConfig())
    no_time = ColumnsConfig(created_at=None)
    fallback = assign_splits(raw, labels, split=SplitConfig(seed=3), columns=no_time)
    stratified = assign_splits(raw, labels, split=SplitConfig(method="stratified", seed=3), columns=no_time)
    pd.testing.assert_series_equal(fallback, stratified)
    assert effective_split(SplitConfig(), no_time).startswith("stratified (no time column")


def test_a_numeric_created_at_is_read_as_an_order():
    """X Education has no dates: its sequential Lead Number orders leads; test = highest numbers."""
    raw = _history(200).drop(columns="created_at")
    raw["lead_number"] = np.random.default_rng(1).permutation(200) + 579_533
    cols = ColumnsConfig(created_at="lead_number")
    splits = assign_splits(raw, outcome_labels(raw, cols), split=SplitConfig(), columns=cols)
    n = raw["lead_number"]
    assert n[splits == "train"].max() < n[splits == "early_stopping"].min()
    assert n[splits == "calibration"].max() < n[splits == "test"].min()
    assert effective_split(SplitConfig(), cols) == "time (ordered by 'lead_number')"


def test_missing_order_numbers_are_named():
    raw = _history().drop(columns="created_at")
    raw["lead_number"] = np.arange(100, dtype=float)
    raw.loc[4, "lead_number"] = np.nan
    cols = ColumnsConfig(created_at="lead_number")
    with pytest.raises(DataValidationError, match=r"'lead_number' .* 1 missing values"):
        assign_splits(raw, outcome_labels(raw, cols), split=SplitConfig(), columns=cols)


def test_row_order_split_follows_the_exports_rows():
    raw = _history(300)
    cols = ColumnsConfig(created_at=None)
    splits = assign_splits(raw, outcome_labels(raw, cols), split=SplitConfig(method="row_order"), columns=cols)
    position = pd.Series(np.arange(300), index=raw.index)
    assert position[splits == "train"].max() < position[splits == "calibration"].min()
    assert position[splits == "calibration"].max() < position[splits == "test"].min()
    assert "row order" in effective_split(SplitConfig(method="row_order"), cols)


def test_unparseable_dates_are_named():
    raw = _history().astype({"created_at": object})
    raw.loc[3, "created_at"] = "last tuesday"
    with pytest.raises(DataValidationError, match=r"'created_at' should hold dates.*last tuesday"):
        assign_splits(raw, outcome_labels(raw, ColumnsConfig()), split=SplitConfig(), columns=ColumnsConfig())


def test_split_group_keeps_every_account_in_one_split():
    """Issue 12: account-level columns were memorised across train and test."""
    rng = np.random.default_rng(1)
    raw = _history(n=600, seed=2)
    raw["account_id"] = rng.integers(0, 60, len(raw)).astype(str)
    raw.loc[raw.index[:10], "account_id"] = None  # no account: a group of one
    labels = outcome_labels(raw, ColumnsConfig())
    for method in ("time", "row_order", "stratified"):
        splits = assign_splits(
            raw, labels, split=SplitConfig(method=method, group="account_id"), columns=ColumnsConfig()
        )
        closed = splits != "open"
        per_account = pd.DataFrame({"a": raw["account_id"], "s": splits})[closed & raw["account_id"].notna()]
        assert per_account.groupby("a")["s"].nunique().max() == 1, method
        assert set(splits[closed]) == {"train", "early_stopping", "calibration", "test"}
    assert "all rows of a 'account_id' in one split" in effective_split(
        SplitConfig(group="account_id"), ColumnsConfig()
    )


def test_split_group_that_leaves_a_split_empty_is_refused():
    raw = _history(n=100)
    raw["account_id"] = "one big account"
    with pytest.raises(DataValidationError, match=r"split\.group 'account_id'.*gets no closed leads"):
        assign_splits(
            raw, outcome_labels(raw, ColumnsConfig()), split=SplitConfig(group="account_id"), columns=ColumnsConfig()
        )


def test_split_group_column_must_exist():
    raw = _history(n=100)
    with pytest.raises(DataValidationError, match="account_id"):
        assign_splits(
            raw, outcome_labels(raw, ColumnsConfig()), split=SplitConfig(group="account_id"), columns=ColumnsConfig()
        )
