"""Model behaviour tests on a scorer trained by the real stages (see conftest.trained_scorer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.errors import DataValidationError
from leadscore.models.scorer import SCORE_COLUMNS


@pytest.fixture
def open_leads(trained_scorer):
    _, raw = trained_scorer
    return raw[raw["status"] == "open"].head(300).reset_index(drop=True)


@pytest.mark.parametrize("column", ["pricing_page_views", "web_visits_30d", "trial_active_days", "content_downloads"])
def test_more_engagement_never_lowers_intent(trained_scorer, open_leads, column):
    scorer, _ = trained_scorer
    base = scorer.predict(open_leads)
    more = scorer.predict(open_leads.assign(**{column: open_leads[column] + 5}))
    assert (more["intent_probability"].to_numpy() >= base["intent_probability"].to_numpy() - 1e-12).all()
    assert (more["intent_probability"] > base["intent_probability"]).any()


def test_demo_request_never_lowers_intent(trained_scorer, open_leads):
    scorer, _ = trained_scorer
    no = scorer.predict(open_leads.assign(demo_requested=False))
    yes = scorer.predict(open_leads.assign(demo_requested=True))
    assert (yes["intent_probability"].to_numpy() >= no["intent_probability"].to_numpy() - 1e-12).all()


def test_lead_id_does_not_change_the_score(trained_scorer, open_leads):
    scorer, _ = trained_scorer
    a = scorer.predict(open_leads)
    b = scorer.predict(open_leads.assign(lead_id=[f"X{i:06d}" for i in range(len(open_leads))]))
    pd.testing.assert_frame_equal(a.drop(columns="lead_id"), b.drop(columns="lead_id"))


def test_row_order_does_not_change_a_lead_score(trained_scorer, open_leads):
    scorer, _ = trained_scorer
    a = scorer.predict(open_leads).set_index("lead_id")
    b = scorer.predict(open_leads.iloc[::-1]).set_index("lead_id").loc[a.index]
    np.testing.assert_allclose(a["conversion_probability"], b["conversion_probability"])


def test_output_columns_and_ranges(trained_scorer, open_leads):
    scorer, _ = trained_scorer
    out = scorer.predict(open_leads)
    assert list(out.columns) == ["lead_id", *SCORE_COLUMNS]
    for col in ("fit_probability", "intent_probability", "conversion_probability"):
        assert out[col].between(0, 1).all()
    assert sorted(out["rank"]) == list(range(1, len(out) + 1))
    assert out["bant_criteria_met"].between(0, 4).all()


def test_missing_input_column_is_named(trained_scorer, open_leads):
    scorer, _ = trained_scorer
    with pytest.raises(DataValidationError, match="'pricing_page_views'"):
        scorer.predict(open_leads.drop(columns="pricing_page_views"))


def test_truth_file_never_reaches_features(trained_scorer):
    scorer, raw = trained_scorer
    assert "true_p" not in raw.columns
    assert "true_p" not in scorer.input_columns
    names = scorer.featurizer.fit_features_ + scorer.featurizer.intent_features_
    assert not any("true" in n for n in names)
