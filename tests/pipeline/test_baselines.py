"""Stage ``baselines``: the learned scorers the model is benchmarked against, scored on the test split."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.errors import DataValidationError
from leadscore.pipeline import baselines


def test_learned_baselines_never_fit_on_test_labels(small_pipeline, tmp_path):
    """Flipping every test label leaves the baselines' test scores exactly as the pipeline wrote them."""
    params, run = small_pipeline["params"], small_pipeline["run"]
    fit = pd.read_parquet(run.path("featurize", "fit_out"))
    test = (fit["split"] == "test").to_numpy()
    fit.loc[test, "label"] = 1.0 - fit.loc[test, "label"]
    flipped, out = tmp_path / "flipped.parquet", tmp_path / "scores.parquet"
    fit.to_parquet(flipped, index=False)
    baselines.run(
        params, fit_features=str(flipped), intent_features=str(run.path("featurize", "intent_out")), scores_out=str(out)
    )
    before = pd.read_parquet(run.path("baselines", "scores_out"))
    assert len(before) == test.sum() and list(before.columns) == [
        "lead_id",
        "lightgbm_all_probability",
        "logistic_probability",
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(out), before)


def test_baselines_refuse_feature_tables_of_different_leads(small_pipeline, tmp_path):
    params, run = small_pipeline["params"], small_pipeline["run"]
    intent = pd.read_parquet(run.path("featurize", "intent_out"))
    shuffled = tmp_path / "intent.parquet"
    intent.iloc[::-1].to_parquet(shuffled)
    out = tmp_path / "scores.parquet"
    with pytest.raises(DataValidationError, match=r"fit\.parquet and .*intent\.parquet list different leads"):
        baselines.run(
            params,
            fit_features=str(run.path("featurize", "fit_out")),
            intent_features=str(shuffled),
            scores_out=str(out),
        )
    assert not out.exists()
