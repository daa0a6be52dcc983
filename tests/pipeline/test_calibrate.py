"""Stage ``calibrate``: calibrated models, the conversion model and thresholds, packed into one scorer.

Inputs are the files of the session's small pipeline (tests/conftest.py ``small_pipeline``); every
output goes to the test's own directory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import ThresholdConfig
from leadscore.errors import LeadscoreError
from leadscore.models.persistence import load_scorer
from leadscore.models.scorer import LeadScorer
from leadscore.pipeline import calibrate


def _inputs(run, **overrides) -> dict[str, str]:
    paths = {
        "fit_features": run.path("featurize", "fit_out"),
        "intent_features": run.path("featurize", "intent_out"),
        "fit_model": run.path("train_fit", "model_out"),
        "intent_model": run.path("train_intent", "model_out"),
        "featurizer": run.path("featurize", "featurizer_out"),
    }
    return {name: str(path) for name, path in {**paths, **overrides}.items()}


def _calibrated(params, run, out, **overrides) -> LeadScorer:
    calibrate.run(params, **_inputs(run, **overrides), scorer_out=str(out))
    return load_scorer(out)


@pytest.fixture(scope="module")
def open_leads(small_pipeline):
    raw = pd.read_parquet(small_pipeline["run"].path("generate", "leads_out"))
    return raw[raw["status"] == "open"].head(200)


def test_the_scorer_carries_the_params_and_base_rate_thresholds(small_pipeline, tmp_path, open_leads):
    params, run = small_pipeline["params"], small_pipeline["run"]
    scorer = _calibrated(params, run, tmp_path / "scorer.json")
    table = pd.read_parquet(run.path("featurize", "fit_out"))
    base_rate = table.loc[table["split"] == "calibration", "label"].mean()
    assert scorer.fit_threshold == pytest.approx(base_rate) and scorer.intent_threshold == pytest.approx(base_rate)
    assert scorer.id_column == params.columns.id and scorer.explain_top_k == params.explain.top_k
    assert scorer.bant.criteria == params.bant.criteria and scorer.bant.min_criteria == params.bant.min_criteria
    # Display text is not part of the model: predict attaches it from params.
    saved = (tmp_path / "scorer.json").read_text()
    assert all(action not in saved for action in params.quadrants.actions.values())
    scored = scorer.predict(open_leads)
    assert len(scored) == len(open_leads) and scored["conversion_probability"].between(0, 1).all()


def test_threshold_rules_come_from_params(small_pipeline, tmp_path):
    params, run = small_pipeline["params"], small_pipeline["run"]
    quadrants = params.quadrants.model_copy(
        update={
            "fit": ThresholdConfig(method="probability", value=0.25),
            "intent": ThresholdConfig(method="top_share", value=0.1),
        }
    )
    scorer = _calibrated(params.model_copy(update={"quadrants": quadrants}), run, tmp_path / "scorer.json")
    assert scorer.fit_threshold == 0.25
    table = pd.read_parquet(run.path("featurize", "intent_out"))
    cal = table[table["split"] == "calibration"]
    p_intent = scorer.intent_model.predict_proba(cal.drop(columns=["lead_id", "split", "label"]))[:, 1]
    assert (p_intent > scorer.intent_threshold).mean() == pytest.approx(0.1, abs=0.01)


def test_only_calibration_labels_are_read(small_pipeline, tmp_path, open_leads):
    """Flipping the labels of every other split leaves the scorer's numbers unchanged."""
    params, run = small_pipeline["params"], small_pipeline["run"]
    flipped = {}
    for option in ("fit_features", "intent_features"):
        table = pd.read_parquet(_inputs(run)[option])
        others = (table["split"] != "calibration").to_numpy()
        table["label"] = np.where(others, 1 - table["label"], table["label"])
        flipped[option] = str(tmp_path / f"{option}.parquet")
        table.to_parquet(flipped[option], index=False)
    original = _calibrated(params, run, tmp_path / "a.json").predict(open_leads)
    changed = _calibrated(params, run, tmp_path / "b.json", **flipped).predict(open_leads)
    pd.testing.assert_frame_equal(original, changed)


def test_a_missing_model_file_is_named_and_no_scorer_written(small_pipeline, tmp_path):
    params, run = small_pipeline["params"], small_pipeline["run"]
    out = tmp_path / "scorer.json"
    with pytest.raises(LeadscoreError, match=r"no_fit_model\.txt"):
        calibrate.run(params, **_inputs(run, fit_model=tmp_path / "no_fit_model.txt"), scorer_out=str(out))
    assert not out.exists()


def test_conversion_candidates_are_chosen_on_the_calibration_split_and_saved(small_pipeline, tmp_path, open_leads):
    """Issue 15: every candidate's out-of-fold numbers travel with the scorer; the lowest log loss is kept."""
    params, run = small_pipeline["params"], small_pipeline["run"]
    candidates = ("logistic", "spline", "monotone_gbm")
    tuned = params.model_copy(
        update={"calibrate": params.calibrate.model_copy(update={"conversion_candidates": candidates})}
    )
    scorer = _calibrated(tuned, run, tmp_path / "scorer.json")
    selection = scorer.extras["conversion_selection"]
    losses = {k: v["cv_log_loss"] for k, v in selection["candidates"].items()}
    assert set(losses) == set(candidates) and selection["folds"] == params.calibrate.conversion_folds
    assert selection["chosen"] == min(losses, key=losses.get)
    scored = scorer.predict(open_leads)
    assert scored["conversion_probability"].between(0, 1).all()
    # The default (the logistic form alone) runs no cross-validation and says so.
    default = _calibrated(params, run, tmp_path / "default.json")
    assert default.extras["conversion_selection"] == {"chosen": "logistic", "folds": 0, "candidates": {}}


def test_without_explanations_the_scores_are_the_same(small_pipeline, open_leads):
    """build_scorer(explanations=False), as the backtest calls it: no |SHAP| summary, same probabilities."""
    from leadscore.models.persistence import load_booster, load_featurizer

    params, run = small_pipeline["params"], small_pipeline["run"]
    common = {
        "fit_table": pd.read_parquet(run.path("featurize", "fit_out")),
        "intent_table": pd.read_parquet(run.path("featurize", "intent_out")),
        "fit_model": load_booster(run.path("train_fit", "model_out")),
        "intent_model": load_booster(run.path("train_intent", "model_out")),
        "featurizer": load_featurizer(run.path("featurize", "featurizer_out")),
    }
    full = calibrate.build_scorer(params, **common)
    lean = calibrate.build_scorer(params, **common, explanations=False)
    assert "explain" in full.extras and "explain" not in lean.extras
    pd.testing.assert_frame_equal(lean.predict(open_leads), full.predict(open_leads))


def test_a_segment_conversion_model_scores_raw_leads_as_it_scored_the_feature_table(small_pipeline, tmp_path):
    """segment_spline reads fit features: their levels must mean the same in featurize's table (read back
    from parquet) and in the featurizer's output for raw leads, or the scores silently differ."""
    import dataclasses

    from leadscore.data.outcomes import CALIBRATION
    from leadscore.data.values import id_text
    from leadscore.models.calibration import SegmentSplineConversion, conversion_inputs
    from leadscore.pipeline.tables import feature_matrix, rows_in

    params, run = small_pipeline["params"], small_pipeline["run"]
    candidates = ("logistic", "segment_spline")
    tuned = params.model_copy(
        update={"calibrate": params.calibrate.model_copy(update={"conversion_candidates": candidates})}
    )
    scorer = _calibrated(tuned, run, tmp_path / "scorer.json")
    entry = scorer.extras["conversion_selection"]["candidates"]["segment_spline"]
    assert set(entry) == {"cv_log_loss", "cv_auc", "segments"}
    fit_table = pd.read_parquet(run.path("featurize", "fit_out"))
    intent_table = pd.read_parquet(run.path("featurize", "intent_out"))
    cal = rows_in(fit_table, CALIBRATION)
    id_col = params.columns.id
    X_fit, X_intent = feature_matrix(fit_table, id_col)[cal], feature_matrix(intent_table, id_col)[cal]
    p_fit = scorer.fit_model.predict_proba(X_fit)[:, 1]
    p_intent = scorer.intent_model.predict_proba(X_intent)[:, 1]
    segments = ("industry", "job_title_seniority")  # forced, whatever the small data's folds chose
    inputs = conversion_inputs(p_fit, p_intent, X_fit, segments=segments)
    model = SegmentSplineConversion(segments=segments, min_leads=20).fit(inputs, fit_table.loc[cal, "label"])
    assert all(len(model.levels_[c]) >= 3 for c in segments)
    forced = dataclasses.replace(scorer, conversion_model=model)
    raw = pd.read_parquet(run.path("generate", "leads_out"))
    raw = raw.set_index(id_text(raw[id_col])).loc[id_text(fit_table.loc[cal, id_col])].reset_index(drop=True)
    scored = forced.predict(raw)
    np.testing.assert_allclose(scored["conversion_probability"], model.predict_proba(inputs)[:, 1], rtol=1e-9)


@pytest.mark.slow  # the pipeline through calibrate on 40,000 leads of the second world
def test_in_the_second_world_segment_spline_finds_who_engagement_matters_for(tmp_path):
    """Known answer: the second world's intent weight is industry weight x seniority weight (and nothing
    else). Offered the categorical fit features, the calibration folds should keep seniority, and its
    extra intent slopes should rank decision makers above those who cannot sign."""
    from leadscore.pipeline.local import run_stages
    from leadscore.profiles import load_profile
    from tests.support import REPO_ROOT

    params = load_profile("synthetic_world2", root=REPO_ROOT)
    synthetic = params.data.synthetic.model_copy(update={"n_leads": 40_000})
    params = params.model_copy(update={"data": params.data.model_copy(update={"synthetic": synthetic})})
    assert "segment_spline" in params.calibrate.conversion_candidates
    run = run_stages(params, workdir=tmp_path, dvc_yaml=REPO_ROOT / "dvc.yaml", through="calibrate")
    scorer = load_scorer(run.path("calibrate", "scorer_out"))
    selection = scorer.extras["conversion_selection"]
    losses = {k: v["cv_log_loss"] for k, v in selection["candidates"].items()}
    assert selection["chosen"] == "segment_spline" and losses["segment_spline"] < losses["spline"] - 0.001
    assert selection["candidates"]["segment_spline"]["segments"][0] == "job_title_seniority"
    slopes = {k: v["intent_slope"] for k, v in scorer.conversion_model.segment_effects()["job_title_seniority"].items()}
    signers = np.mean([slopes["c_level"], slopes["vp"], slopes["director"]])
    assert signers > np.mean([slopes["individual_contributor"], slopes["student"]]) + 0.1, slopes
    # The page's segment table reads these: the model's effects plus each level's calibration leads.
    shown = selection["segment_effects"]["job_title_seniority"]
    assert {k: v["intent_slope"] for k, v in shown.items()} == slopes
    assert 0 < sum(v["leads"] for v in shown.values()) <= 0.2 * 40_000
