"""Stage ``baselines``: the learned scorers the model is benchmarked against, scored on the test split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.errors import DataValidationError
from leadscore.pipeline import baselines


def test_learned_baselines_never_fit_on_test_labels(small_pipeline, tmp_path):
    """Scrambling (or flipping) the test split's labels leaves the baselines' test scores unchanged."""
    params, run = small_pipeline["params"], small_pipeline["run"]
    fit_path, intent_path = run.path("featurize", "fit_out"), run.path("featurize", "intent_out")
    fit = pd.read_parquet(fit_path)
    test = (fit["split"] == "test").to_numpy()

    def scores(labels: np.ndarray, name: str) -> pd.DataFrame:
        changed = fit.copy()
        changed.loc[test, "label"] = labels
        changed.to_parquet(tmp_path / f"{name}.parquet")
        out = tmp_path / f"{name}_scores.parquet"
        baselines.run(
            params,
            fit_features=str(tmp_path / f"{name}.parquet"),
            intent_features=str(intent_path),
            scores_out=str(out),
        )
        return pd.read_parquet(out)

    truth = fit.loc[test, "label"].to_numpy()
    before = scores(truth, "original")
    scrambled = scores(np.random.default_rng(0).permutation(truth), "scrambled")
    flipped = scores(1.0 - truth, "flipped")
    assert len(before) == test.sum()
    pd.testing.assert_frame_equal(before, scrambled)
    pd.testing.assert_frame_equal(before, flipped)


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
