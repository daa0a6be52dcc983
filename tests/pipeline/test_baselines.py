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


def test_snapshot_weights_reach_both_baselines(small_pipeline):
    """Activity snapshots weigh each lead one in total: the baselines must train and calibrate with the
    weights, as the fit and intent models do. Won leads repeated 4 times at weight 1/4 give the same
    calibrated level as the original table; without the weights both baselines overshoot."""
    import numpy as np

    from leadscore.data.outcomes import TEST, TRAINING_SPLITS
    from leadscore.pipeline.tables import rows_in

    params, run = small_pipeline["params"], small_pipeline["run"]
    fit, intent = (
        pd.read_parquet(run.path("featurize", "fit_out")),
        pd.read_parquet(run.path("featurize", "intent_out")),
    )
    won_before_test = fit["label"].eq(1) & fit["split"].isin([*TRAINING_SPLITS, "calibration"])
    reps = np.where(won_before_test, 4, 1)

    def repeated(table: pd.DataFrame, *, weighted: bool) -> pd.DataFrame:
        out = table.loc[table.index.repeat(reps)].reset_index(drop=True)
        return out.assign(weight=np.repeat(1.0 / reps, reps)) if weighted else out

    def mean_test_probability(fit_table: pd.DataFrame, intent_table: pd.DataFrame) -> dict[str, float]:
        models, X = baselines.train_baselines(params, fit_table=fit_table, intent_table=intent_table)
        test = rows_in(fit_table, TEST)
        return {name: float(m.predict_proba(X[test])[:, 1].mean()) for name, m in models.items()}

    original = mean_test_probability(fit, intent)
    weighted = mean_test_probability(repeated(fit, weighted=True), repeated(intent, weighted=True))
    unweighted = mean_test_probability(repeated(fit, weighted=False), repeated(intent, weighted=False))
    for name in ("lightgbm_all", "logistic"):
        assert abs(weighted[name] - original[name]) < 0.01, (name, weighted, original)
        assert unweighted[name] > original[name] + 0.05, (name, unweighted, original)
