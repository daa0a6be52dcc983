"""BANT rules: membership, numeric ranges, missing never passes."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from leadscore.config import BantConfig, CriterionConfig
from leadscore.errors import DataValidationError
from leadscore.models.bant import bant_criteria, bant_score


@pytest.fixture
def rules() -> BantConfig:
    return BantConfig(
        min_criteria=2,
        criteria={
            "budget": CriterionConfig(column="bant_budget", **{"in": ["yes"]}),
            "timeline": CriterionConfig(column="bant_timeline", **{"in": ["<1 month", "1-3 months"]}),
            "need": CriterionConfig(column="emails_opened", min=3),
        },
    )


def test_criteria_and_score(tiny_leads, rules):
    passed = bant_criteria(tiny_leads, rules)
    assert passed["budget"].tolist() == [True, False, False, True, False, True, False, True]
    assert passed["need"].tolist() == [True, False, False, True, False, True, True, False]
    met, qualified = bant_score(tiny_leads, rules)
    assert met.tolist() == [3, 0, 1, 2, 0, 3, 1, 2]
    assert qualified.tolist() == [m >= 2 for m in met]


def test_missing_and_unknown_never_pass(tiny_leads, rules):
    passed = bant_criteria(tiny_leads, rules)
    assert not passed.loc[4, "budget"]  # None
    assert not passed.loc[6, "timeline"]  # None


def test_not_in_and_max():
    df = pd.DataFrame({"a": ["x", "y", None], "n": [1, 5, 9]})
    cfg = BantConfig(
        min_criteria=1,
        criteria={"a": CriterionConfig(column="a", not_in=["x"]), "n": CriterionConfig(column="n", min=2, max=6)},
    )
    passed = bant_criteria(df, cfg)
    assert passed["a"].tolist() == [False, True, False]
    assert passed["n"].tolist() == [False, True, False]


def test_missing_bant_column_is_named(tiny_leads, rules):
    with pytest.raises(DataValidationError, match=re.escape("'bant_budget' required by params bant.criteria")):
        bant_criteria(tiny_leads.drop(columns="bant_budget"), rules)


def test_numeric_rule_on_text_column_is_named(tiny_leads):
    cfg = BantConfig(min_criteria=1, criteria={"budget": CriterionConfig(column="bant_budget", min=1)})
    with pytest.raises(DataValidationError, match="'budget' compares column 'bant_budget' with a number"):
        bant_criteria(tiny_leads, cfg)


def test_present_tests_filled_in_or_blank_including_missing_value_markers():
    """Issue 12: "is filled in" / "is blank" could not be said (missing never passed any criterion)."""
    raw = pd.DataFrame({"budget_note": ["50k", None, "  ", "Select", "n/a", float("nan")]})
    filled = BantConfig(min_criteria=1, criteria={"b": CriterionConfig(column="budget_note", present=True)})
    blank = BantConfig(min_criteria=1, criteria={"b": CriterionConfig(column="budget_note", present=False)})
    assert bant_criteria(raw, filled, missing_values=("Select",))["b"].tolist() == [
        True,
        False,
        False,
        False,
        True,
        False,
    ]
    assert bant_criteria(raw, blank, missing_values=("Select",))["b"].tolist() == [
        False,
        True,
        True,
        True,
        False,
        True,
    ]
    met, qualified = bant_score(raw, filled)
    assert met.tolist() == [1, 0, 0, 1, 1, 0] and qualified.tolist() == [True, False, False, True, True, False]
