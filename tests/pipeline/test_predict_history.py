"""Stage ``predict`` with ``--as-of`` (and ``--history``): the open leads' scores stamped and kept."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from leadscore.errors import LeadscoreError
from leadscore.pipeline import predict
from leadscore.scoring.history import open_history


def _inputs(run) -> dict[str, str]:
    return {
        "raw": str(run.path("generate", "leads_out")),
        "features": str(run.path("featurize", "fit_out")),
        "scorer": str(run.path("calibrate", "scorer_out")),
    }


@pytest.mark.slow  # ~5 s: scores and explains every open lead of the small pipeline
def test_as_of_stamps_the_scores_and_appends_the_open_leads_to_the_history(small_pipeline, tmp_path):
    params, run = small_pipeline["params"], small_pipeline["run"]
    history = f"sqlite:///{tmp_path / 'history.db'}"
    scored = predict.run(params, **_inputs(run), out=[str(tmp_path / "s.parquet")], as_of="2026-03-01", history=history)
    assert (scored["as_of"] == pd.Timestamp("2026-03-01")).all()
    assert scored.attrs["history"].startswith(f"history: {len(scored):,} leads ->")
    stored = open_history(history).read([pd.Timestamp("2026-03-01")]).set_index("lead_id")
    assert set(stored.index) == set(scored["lead_id"])
    by_id = scored.set_index("lead_id")
    pd.testing.assert_series_equal(
        stored["conversion_probability"].sort_index(),
        by_id["conversion_probability"].sort_index(),
        check_names=False,
        check_index_type=False,  # the history reads ids as plain Python strings
    )
    assert (stored["quadrant"].sort_index() == by_id["quadrant"].sort_index()).all()
    top = params.history.top_contributions
    assert all(0 < len(json.loads(t)) <= top for t in stored["intent_contributions"])
    assert stored["model_version"].str.startswith("sha256:").all()


def test_history_without_as_of_is_refused_before_any_work(small_pipeline, tmp_path):
    params, run = small_pipeline["params"], small_pipeline["run"]
    out = tmp_path / "s.parquet"
    with pytest.raises(LeadscoreError, match="--history: needs --as-of DATE"):
        predict.run(params, **_inputs(run), out=[str(out)], history=str(tmp_path / "h"))
    assert not out.exists()
