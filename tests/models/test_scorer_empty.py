"""An export with no open leads: predict returns an empty table with the usual columns."""

from __future__ import annotations

from leadscore.models.scorer import SCORE_COLUMNS


def test_scoring_zero_leads_returns_an_empty_table_with_the_usual_columns(trained_scorer):
    scorer, raw = trained_scorer
    empty = scorer.predict(raw.iloc[0:0])
    assert len(empty) == 0
    assert list(empty.columns) == [scorer.id_column, *SCORE_COLUMNS]
    one = scorer.predict(raw.iloc[:1])
    assert list(one.dtypes.astype(str)) == list(empty.dtypes.astype(str))
