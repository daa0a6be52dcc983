"""Leakage guard: single-column AUCs on tiny frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.features.leakage import audit_columns, categorical_auc, numeric_auc

RNG = np.random.default_rng(0)
Y = RNG.integers(0, 2, 2000)


def test_a_numeric_column_that_is_the_outcome_has_auc_one_either_way_round():
    assert numeric_auc(pd.Series(Y * 10.0), Y) == pytest.approx(1.0)
    assert numeric_auc(pd.Series(-Y * 10.0), Y) == pytest.approx(1.0)


def test_noise_scores_about_one_half():
    assert numeric_auc(pd.Series(RNG.normal(size=len(Y))), Y) < 0.56
    assert categorical_auc(pd.Series(RNG.choice(list("abcde"), len(Y))), Y) < 0.56


def test_missingness_that_reveals_the_outcome_is_caught():
    """A field filled in only for won leads (e.g. by sales after the deal) leaks through its gaps."""
    values = pd.Series(np.where(Y == 1, RNG.normal(size=len(Y)), np.nan))
    assert numeric_auc(values, Y) == pytest.approx(1.0)


def test_categorical_leak_is_measured_out_of_fold():
    status_note = pd.Series(np.where(Y == 1, "closed by rep", "lost to competitor"))
    assert categorical_auc(status_note, Y) == pytest.approx(1.0)
    # A unique id per lead predicts nothing out of fold (in-fold it would look perfect).
    ids = pd.Series([f"L{i}" for i in range(len(Y))])
    assert categorical_auc(ids, Y) < 0.56


def test_audit_flags_above_threshold_and_lists_every_column():
    frame = pd.DataFrame(
        {
            "tags": np.where(RNG.random(len(Y)) < 0.95, np.where(Y == 1, "won-ish", "lost-ish"), "other"),
            "visits": Y * 2 + RNG.normal(scale=2.0, size=len(Y)),
            "country": RNG.choice(["de", "fr"], len(Y)),
        }
    )
    table = audit_columns(frame, pd.Series(Y), threshold=0.85)
    assert table["column"].tolist()[0] == "tags" and set(table["column"]) == {"tags", "visits", "country"}
    assert table.set_index("column")["suspected_leak"].to_dict() == {"tags": True, "visits": False, "country": False}
    assert table.set_index("column")["kind"].to_dict() == {
        "tags": "categorical",
        "visits": "numeric",
        "country": "categorical",
    }


def test_single_class_outcome_is_refused():
    with pytest.raises(ValueError, match="single class"):
        audit_columns(pd.DataFrame({"a": [1, 2, 3]}), pd.Series([1, 1, 1]), threshold=0.85)
