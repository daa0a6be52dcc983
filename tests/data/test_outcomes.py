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


def _dated(n: int = 20) -> pd.DataFrame:
    created = pd.date_range("2026-01-01", periods=n, freq="D")
    return pd.DataFrame(
        {
            "lead_id": range(n),
            "created_at": created,
            # Each outcome known 3 days after creation, except lead 5's, which took 60 days.
            "closed_at": created + pd.Timedelta(days=3),
            "status": ["won" if i % 3 == 0 else "lost" for i in range(n)],
        }
    ).assign(closed_at=lambda d: d["closed_at"].where(d["lead_id"] != 5, d["created_at"] + pd.Timedelta(days=60)))


def test_point_in_time_keeps_outcomes_known_after_the_training_cutoff_out_of_training():
    from leadscore.data.outcomes import CLOSED_AFTER_CUTOFF

    raw = _dated()
    columns = ColumnsConfig(closed_at="closed_at")
    split = SplitConfig(train=0.5, calibration=0.25, test=0.25, early_stopping=0.2)
    splits = assign_splits(raw, outcome_labels(raw, columns), split=split, columns=columns)
    # Training period: leads 0-9, cut-off = lead 9's creation (Jan 10). Leads 7-9 closed after it (3-day
    # cycle), and lead 5 (60 days); everything else in train/early stopping was known by then.
    assert splits[splits == CLOSED_AFTER_CUTOFF].index.tolist() == [5, 7, 8, 9]
    assert (splits.iloc[10:15] == "calibration").all() and (splits.iloc[15:] == "test").all()
    assert "point in time" in effective_split(split, columns)
    # Without closed_at the same leads train.
    plain = assign_splits(raw, outcome_labels(raw, ColumnsConfig()), split=split, columns=ColumnsConfig())
    assert CLOSED_AFTER_CUTOFF not in set(plain)


def test_a_missing_closed_at_column_is_named():
    raw = _dated().drop(columns="closed_at")
    columns = ColumnsConfig(closed_at="closed_at")
    split = SplitConfig(train=0.5, calibration=0.25, test=0.25)
    with pytest.raises(DataValidationError, match="closed_at"):
        assign_splits(raw, outcome_labels(raw, columns), split=split, columns=columns)


def test_outcomes_known_at_a_cutoff_reopen_later_closes():
    from leadscore.data.outcomes import outcomes_known_at

    raw = _dated()
    columns = ColumnsConfig(closed_at="closed_at")
    labels = outcome_labels(raw, columns)
    known = outcomes_known_at(raw, labels, columns, cutoff=pd.Timestamp("2026-01-08"))
    # Closed by Jan 8: leads created by Jan 5 (3-day cycle), but not lead 5 (60 days).
    assert known.notna().tolist() == [i <= 4 for i in range(20)]
    assert known.iloc[:5].tolist() == labels.iloc[:5].tolist()
    assert outcomes_known_at(raw, labels, ColumnsConfig(), cutoff=pd.Timestamp("2026-01-08")).equals(labels)


def test_calibration_window_takes_the_most_recent_calibration_leads():
    from leadscore.data.outcomes import calibration_window

    splits = pd.Series(["train"] * 4 + ["calibration"] * 6 + ["test"] * 2)
    order = pd.Series(np.arange(12, dtype=float))
    assert calibration_window(splits, order, method="split", value=None).tolist() == [4 <= i < 10 for i in range(12)]
    assert np.flatnonzero(calibration_window(splits, order, method="share", value=0.5)).tolist() == [7, 8, 9]
    dates = pd.Series(pd.date_range("2026-01-01", periods=12, freq="14D"))
    # Calibration leads: Jan 29 .. Apr 9, every 14 days; the last month: after Mar 10.
    assert np.flatnonzero(calibration_window(splits, dates, method="months", value=1)).tolist() == [7, 8, 9]
    with pytest.raises(DataValidationError, match=r"needs dates in columns\.created_at"):
        calibration_window(splits, order, method="months", value=2)


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
