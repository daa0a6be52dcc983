"""score_checked: the one path batch scoring, Dask and serving share (id checks, then predict)."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.errors import DataValidationError
from leadscore.scoring.checks import score_checked


@pytest.fixture(scope="module")
def scorer_and_leads(trained_scorer):
    scorer, raw = trained_scorer
    return scorer, raw[raw["status"] == "open"].head(20).reset_index(drop=True)


def test_scores_exactly_what_predict_scores(scorer_and_leads):
    scorer, leads = scorer_and_leads
    pd.testing.assert_frame_equal(score_checked(scorer, leads), scorer.predict(leads))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.assign(lead_id=[None, *d["lead_id"][1:]]), "missing"),
        (lambda d: d.assign(lead_id=[d["lead_id"][1], *d["lead_id"][1:]]), "duplicate"),
        (lambda d: d.drop(columns=["lead_id"]), "lead_id"),
    ],
    ids=["null id", "repeated id", "no id column"],
)
def test_bad_ids_are_refused_with_the_column_named(scorer_and_leads, change, words):
    scorer, leads = scorer_and_leads
    with pytest.raises(DataValidationError, match=words) as err:
        score_checked(scorer, change(leads), source="request")
    assert "lead_id" in str(err.value) and "\n" not in str(err.value)
