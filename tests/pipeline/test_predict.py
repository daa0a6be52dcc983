"""Stage ``predict``: the open leads scored, ranked, written to every output named.

Inputs are the files of the session's small pipeline (tests/conftest.py ``small_pipeline``).
"""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from leadscore.errors import LeadscoreError
from leadscore.models.explain import REASON_COLUMNS
from leadscore.models.scorer import SCORE_COLUMNS
from leadscore.pipeline import predict


def _inputs(run) -> dict[str, str]:
    return {
        "raw": str(run.path("generate", "leads_out")),
        "features": str(run.path("featurize", "fit_out")),
        "scorer": str(run.path("calibrate", "scorer_out")),
    }


def test_open_leads_are_scored_ranked_and_written_to_every_output(small_pipeline, tmp_path):
    params, run = small_pipeline["params"], small_pipeline["run"]
    outs = [tmp_path / "scored.parquet", tmp_path / "deeper" / "scored.csv"]
    scored = predict.run(params, **_inputs(run), out=[str(p) for p in outs])
    table = pd.read_parquet(run.path("featurize", "fit_out"))
    open_ids = set(table.loc[table["split"] == "open", "lead_id"])
    assert set(scored["lead_id"]) == open_ids and len(scored) == len(open_ids) > 0
    assert scored["rank"].tolist() == list(range(1, len(scored) + 1))  # sorted best first
    assert scored["conversion_probability"].is_monotonic_decreasing
    assert list(scored.columns) == ["lead_id", *SCORE_COLUMNS]  # no reasons unless asked
    pd.testing.assert_frame_equal(pd.read_parquet(outs[0]), scored)
    csv = pd.read_csv(outs[1])
    assert csv["lead_id"].tolist() == scored["lead_id"].tolist()
    pd.testing.assert_series_equal(csv["conversion_probability"], scored["conversion_probability"], rtol=1e-12)


def test_explain_adds_the_reason_columns(small_pipeline, tmp_path):
    params, run = small_pipeline["params"], small_pipeline["run"]
    scored = predict.run(params, **_inputs(run), out=[str(tmp_path / "s.parquet")], explain=True)
    assert list(scored.columns) == ["lead_id", *SCORE_COLUMNS, *REASON_COLUMNS]
    assert scored["fit_reasons_for"].str.len().gt(0).any()


def test_no_open_leads_writes_an_empty_table_and_warns(small_pipeline, tmp_path, caplog):
    params, run = small_pipeline["params"], small_pipeline["run"]
    table = pd.read_parquet(run.path("featurize", "fit_out"))
    closed = tmp_path / "closed_only.parquet"
    table.assign(split=table["split"].replace({"open": "test"})).to_parquet(closed, index=False)
    out = tmp_path / "scored.parquet"
    with caplog.at_level(logging.WARNING):
        scored = predict.run(params, **{**_inputs(run), "features": str(closed)}, out=[str(out)])
    assert len(scored) == 0 and list(pd.read_parquet(out).columns) == ["lead_id", *SCORE_COLUMNS]
    assert "no open leads to score" in caplog.text


def test_a_missing_scorer_is_named_and_nothing_written(small_pipeline, tmp_path):
    params, run = small_pipeline["params"], small_pipeline["run"]
    out = tmp_path / "scored.parquet"
    with pytest.raises(LeadscoreError, match=r"no_scorer\.json"):
        predict.run(params, **{**_inputs(run), "scorer": str(tmp_path / "no_scorer.json")}, out=[str(out)])
    assert not out.exists()


def test_as_of_only_stamps_the_date_on_a_lead_table_model(small_pipeline, tmp_path):
    # The lead table's snapshot columns hold one moment: the as-of date labels the scores, nothing more
    # (a model trained on an activity log scores as of the date: tests/pipeline/test_activity.py).
    params, run = small_pipeline["params"], small_pipeline["run"]
    plain = predict.run(params, **_inputs(run), out=[str(tmp_path / "plain.parquet")])
    stamped = predict.run(params, **_inputs(run), out=[str(tmp_path / "scored.parquet")], as_of="2026-06-01")
    assert (stamped["as_of"] == pd.Timestamp("2026-06-01")).all() and "age_days" not in stamped.columns
    pd.testing.assert_frame_equal(stamped.drop(columns="as_of"), plain)
