"""CalibratedBooster: the numbers of CalibratedClassifierCV(FrozenEstimator(LGBMClassifier)), as data."""

from __future__ import annotations

import json

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from leadscore.config import ThresholdConfig
from leadscore.models.calibration import (
    CONVERSION_KINDS,
    QUADRANTS,
    CalibratedBooster,
    ConversionModel,
    MonotoneGBMConversion,
    SegmentSplineConversion,
    SplineConversionModel,
    _auc,
    _log_loss,
    assign_quadrants,
    calibrate_booster,
    calibrate_classifier,
    conversion_inputs,
    conversion_model_from_dict,
    logit,
    new_conversion_model,
    score_threshold,
    select_conversion_model,
)
from leadscore.models.persistence import booster_from_text, booster_text


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n = 2400
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": pd.Categorical(rng.choice(["x", "y", "z"], n)),
            "c": rng.integers(0, 5, n).astype(float),
        }
    )
    X.loc[::9, "a"] = np.nan
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-(X["a"].fillna(0) + (X["b"] == "x"))))).astype(int))
    parts = {"train": slice(0, 1200), "stop": slice(1200, 1600), "cal": slice(1600, 2000), "test": slice(2000, n)}
    classifier = lgb.LGBMClassifier(n_estimators=200, verbose=-1, deterministic=True, force_row_wise=True).fit(
        X[parts["train"]],
        y[parts["train"]],
        eval_X=X[parts["stop"]],
        eval_y=y[parts["stop"]],
        callbacks=[lgb.early_stopping(10, verbose=False)],
    )
    assert classifier.best_iteration_ < 200  # early stopping kicked in: only the best trees are saved
    return X, y, parts, classifier


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_same_numbers_as_calibrated_classifier_cv(data, method):
    X, y, p, classifier = data
    reference = CalibratedClassifierCV(FrozenEstimator(classifier), method=method).fit(X[p["cal"]], y[p["cal"]])
    # Through the booster's text model, as the pipeline does (train writes it, calibrate reads it).
    booster = booster_from_text(booster_text(classifier))
    ours = calibrate_booster(booster, X[p["cal"]], y[p["cal"]], method=method)
    np.testing.assert_allclose(
        ours.predict_proba(X[p["test"]]), reference.predict_proba(X[p["test"]]), rtol=0, atol=1e-12
    )
    assert ours.best_iteration_ == classifier.best_iteration_


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_map_round_trips_through_json(data, method):
    X, y, p, classifier = data
    fitted = CalibratedBooster(booster_from_text(booster_text(classifier)), method=method).fit(X[p["cal"]], y[p["cal"]])
    mapping = json.loads(json.dumps(fitted.calibration_map()))
    again = CalibratedBooster.from_map(booster_from_text(booster_text(fitted.booster_)), method=method, mapping=mapping)
    np.testing.assert_array_equal(again.predict_proba(X[p["test"]]), fitted.predict_proba(X[p["test"]]))
    assert set(mapping) == ({"a", "b"} if method == "sigmoid" else {"x_thresholds", "y_thresholds", "x_min", "x_max"})


def test_unknown_method_is_refused(data):
    X, y, p, classifier = data
    with pytest.raises(ValueError, match="'sigmoid' or 'isotonic'"):
        CalibratedBooster(classifier.booster_, method="temperature").fit(X[p["cal"]], y[p["cal"]])


def test_conversion_model_round_trips_through_json():
    rng = np.random.default_rng(3)
    X = rng.uniform(0.01, 0.99, size=(500, 2))
    y = (rng.random(500) < X.mean(axis=1)).astype(int)
    model = ConversionModel().fit(X, y)
    again = ConversionModel.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


# -- from the mirrored unit tests ----------------------------------------------------------------
def _leads(n: int, *, intercept: float, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n)})
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-(intercept + 2 * X["x"])))).astype(int))
    return X, y


def test_calibration_learns_the_map_on_the_calibration_split_only():
    """A model trained where half the leads convert, calibrated where few do: the calibrated mean
    follows the calibration split, the trained model is left as it was, and the ranking is kept."""
    X_train, y_train = _leads(2000, intercept=0.0, seed=0)
    X_cal, y_cal = _leads(2000, intercept=-3.0, seed=1)
    model = LogisticRegression().fit(X_train, y_train)
    before = model.predict_proba(X_cal)[:, 1]
    calibrated = calibrate_classifier(model, X_cal, y_cal, method="sigmoid")
    after = calibrated.predict_proba(X_cal)[:, 1]
    assert before.mean() > 0.3  # the uncalibrated model believes the training base rate ...
    assert after.mean() == pytest.approx(y_cal.mean(), abs=0.02)  # ... the calibrated one the new one
    np.testing.assert_array_equal(model.predict_proba(X_cal)[:, 1], before)  # frozen: not refitted
    np.testing.assert_array_equal(np.argsort(after, kind="stable"), np.argsort(before, kind="stable"))


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_probabilities_are_probabilities(method):
    X_train, y_train = _leads(500, intercept=0.0, seed=2)
    X_cal, y_cal = _leads(500, intercept=-1.0, seed=3)
    calibrated = calibrate_classifier(LogisticRegression().fit(X_train, y_train), X_cal, y_cal, method=method)
    p = calibrated.predict_proba(X_cal)
    assert p.shape == (500, 2) and ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_logit_is_finite_at_zero_and_one():
    values = logit(np.array([0.0, 0.5, 1.0]))
    assert np.isfinite(values).all() and values[1] == 0.0 and values[0] < -9 and values[2] > 9


def _conversion_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p_fit, p_intent = rng.uniform(0.01, 0.99, n), rng.uniform(0.01, 0.99, n)
    z = -1.0 + 0.8 * logit(p_fit) + 0.6 * logit(p_intent) + 0.05 * logit(p_fit) * logit(p_intent)
    return np.column_stack([p_fit, p_intent]), (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)


def test_conversion_model_is_monotone_in_fit_and_in_intent_on_a_grid():
    X, y = _conversion_data(4000, 0)
    model = ConversionModel().fit(X, y)
    grid = np.linspace(0.02, 0.98, 25)
    pf, pi = np.meshgrid(grid, grid, indexing="ij")
    p = model.predict_proba(np.column_stack([pf.ravel(), pi.ravel()]))[:, 1].reshape(25, 25)
    assert (np.diff(p, axis=0) > 0).all()  # more fit, same intent: higher conversion
    assert (np.diff(p, axis=1) > 0).all()  # more intent, same fit: higher conversion
    assert list(model.classes_) == [0, 1] and model.coef_.shape == (1, 3)


def test_conversion_model_is_calibrated_on_its_own_data_and_must_be_fitted():
    X, y = _conversion_data(4000, 1)
    with pytest.raises(NotFittedError):
        ConversionModel().predict_proba(X)
    p = ConversionModel().fit(X, y).predict_proba(X)[:, 1]
    assert p.mean() == pytest.approx(y.mean(), abs=0.01)  # logistic regression with an intercept


def test_score_threshold_rules():
    scores = np.linspace(0.0, 1.0, 101)
    y = np.array([1] * 30 + [0] * 71)
    assert score_threshold(scores, y, ThresholdConfig(method="base_rate")) == pytest.approx(30 / 101)
    assert score_threshold(scores, y, ThresholdConfig(method="probability", value=0.42)) == 0.42
    cut = score_threshold(scores, y, ThresholdConfig(method="top_share", value=0.2))
    assert cut == pytest.approx(0.8)
    assert (scores > cut).mean() == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize("method", ["probability", "top_share"])
def test_threshold_rules_needing_a_value_say_so(method):
    with pytest.raises(ValidationError, match=f"method '{method}' needs a `value` between 0 and 1"):
        ThresholdConfig(method=method)


def test_assign_quadrants_high_means_strictly_above_the_threshold():
    p_fit = np.array([0.6, 0.6, 0.2, 0.2, 0.5, 0.5, 0.51])
    p_intent = np.array([0.4, 0.1, 0.4, 0.1, 0.3, 0.31, 0.3])
    out = assign_quadrants(p_fit, p_intent, 0.5, 0.3)
    assert out.tolist() == [
        "high_fit_high_intent",
        "high_fit_low_intent",
        "low_fit_high_intent",
        "low_fit_low_intent",
        "low_fit_low_intent",  # exactly at both thresholds: low
        "low_fit_high_intent",
        "high_fit_low_intent",
    ]
    assert set(out) <= set(QUADRANTS) and out.dtype == object
    assert assign_quadrants(np.array([]), np.array([]), 0.5, 0.5).tolist() == []


# -- conversion-model candidates (issue 15) -----------------------------------------------------------
def _threshold_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Intent counts fully only above some fit (a monotone interaction the product term cannot draw)."""
    rng = np.random.default_rng(seed)
    p_fit, p_intent = rng.beta(2, 8, n), rng.beta(2, 6, n)
    lf, li = logit(p_fit), logit(p_intent)
    z = -0.5 + 0.9 * lf + np.where(lf > -1.5, 1.2, 0.1) * li
    return np.column_stack([p_fit, p_intent]), (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)


def _surface(model, *, points: int = 41) -> np.ndarray:
    # The whole input square, extremes included (logits are clipped at 1e-4 / 1 - 1e-4).
    grid = np.concatenate([[0.0, 1e-6, 1e-4], np.linspace(0.001, 0.999, points), [1 - 1e-4, 1 - 1e-6, 1.0]])
    pf, pi = np.meshgrid(grid, grid, indexing="ij")
    return model.predict_proba(np.column_stack([pf.ravel(), pi.ravel()]))[:, 1].reshape(len(grid), len(grid))


@pytest.mark.parametrize("kind", CONVERSION_KINDS)
def test_every_candidate_never_lowers_conversion_when_fit_or_intent_rises(kind):
    X, y = _threshold_data(6000, 0)
    p = _surface(new_conversion_model(kind).fit(X, y))
    assert (np.diff(p, axis=0) >= 0).all()  # more fit, same intent: never lower
    assert (np.diff(p, axis=1) >= 0).all()  # more intent, same fit: never lower
    assert p[-1, -1] > p[0, 0] and ((p > 0) & (p < 1)).all()


@pytest.mark.parametrize("kind", CONVERSION_KINDS)
def test_every_candidate_round_trips_through_json_and_is_calibrated_in_the_large(kind):
    X, y = _threshold_data(6000, 1)
    model = new_conversion_model(kind).fit(X, y)
    data = json.loads(json.dumps(model.to_dict()))
    again = conversion_model_from_dict(data)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert type(again) is type(model)
    assert model.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=0.015)


def test_logistic_with_a_strong_interaction_is_refitted_monotone():
    """The plain fit's product term would make conversion fall at the extremes; the refit bounds it."""
    rng = np.random.default_rng(2)
    X = rng.uniform(0.01, 0.99, size=(6000, 2))
    lf, li = logit(X[:, 0]), logit(X[:, 1])
    z = -1.0 + 0.3 * lf + 0.3 * li + 0.15 * lf * li  # the product outweighs each score at the corners
    y = (rng.random(6000) < 1 / (1 + np.exp(-z))).astype(int)
    plain = LogisticRegression(max_iter=1000).fit(ConversionModel._design(X), y)
    c_fit, c_intent, c_product = plain.coef_[0]
    assert min(c_fit, c_intent) < 4.6 * abs(c_product)  # falls somewhere inside the data's own range
    model = ConversionModel().fit(X, y)
    assert model.is_monotone() and abs(model.coef_[0, 2]) < abs(c_product)
    p = _surface(model)
    assert (np.diff(p, axis=0) >= 0).all() and (np.diff(p, axis=1) >= 0).all()


def test_logistic_clips_its_product_term_to_the_fitted_range_and_old_files_do_not():
    X, y = _conversion_data(3000, 8)
    model = ConversionModel().fit(X, y)
    lf, li = logit(X[:, 0]), logit(X[:, 1])
    assert model.box_ == (lf.min(), lf.max(), li.min(), li.max())
    old = {k: v for k, v in model.to_dict().items() if k != "box"}  # a scorer saved before issue 15
    outside = np.array([[1e-6, 1 - 1e-6], [0.5, 0.5]])
    unclipped = ConversionModel.from_dict(old).predict_proba(outside)[:, 1]
    c = model.coef_[0]
    z = model.intercept_[0] + c[0] * logit(outside[:, 0]) + c[1] * logit(outside[:, 1])
    np.testing.assert_allclose(unclipped, 1 / (1 + np.exp(-(z + c[2] * logit(outside[:, 0]) * logit(outside[:, 1])))))
    assert model.predict_proba(outside)[1, 1] == pytest.approx(unclipped[1])  # inside the box: the same


def test_logistic_that_is_already_monotone_is_the_plain_logistic_regression():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.01, 0.99, size=(4000, 2))
    z = -1.0 + 0.8 * logit(X[:, 0]) + 0.6 * logit(X[:, 1])  # additive: no product term to bound
    y = (rng.random(4000) < 1 / (1 + np.exp(-z))).astype(int)
    model = ConversionModel().fit(X, y)
    plain = LogisticRegression(max_iter=1000).fit(ConversionModel._design(X), y)
    assert model.is_monotone()
    np.testing.assert_array_equal(model.coef_, plain.coef_)
    assert "kind" not in model.to_dict()  # unchanged scorer files for the default model


def test_old_conversion_dicts_load_and_unknown_kinds_are_refused():
    X, y = _conversion_data(2000, 3)
    old = ConversionModel().fit(X, y).to_dict()
    assert isinstance(conversion_model_from_dict(old), ConversionModel)
    with pytest.raises(ValueError, match="unknown conversion model kind 'forest'"):
        conversion_model_from_dict({**old, "kind": "forest"})
    with pytest.raises(ValueError, match="must be one of"):
        new_conversion_model("forest")
    with pytest.raises(ValueError, match=r"\(n, 2\) array"):
        SplineConversionModel().fit(X[:, :1], y)


def test_selection_is_out_of_fold_and_picks_a_flexible_form_only_when_it_predicts_better():
    X, y = _threshold_data(8000, 4)
    model, report = select_conversion_model(X, y, candidates=["logistic", "spline", "monotone_gbm"], folds=3)
    losses = {k: v["cv_log_loss"] for k, v in report["candidates"].items()}
    assert report["folds"] == 3 and set(losses) == {"logistic", "spline", "monotone_gbm"}
    assert report["chosen"] == min(losses, key=losses.get) != "logistic"
    assert losses["logistic"] > min(losses.values())
    assert all(0.5 < v["cv_auc"] < 1 for v in report["candidates"].values())
    # The chosen form is refitted on every row: the same model as fitting it directly.
    direct = new_conversion_model(report["chosen"]).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), direct.predict_proba(X))
    # Additive logits (what the four-parameter form draws): the logistic form is kept.
    X2, y2 = _conversion_data(4000, 5)
    _, report2 = select_conversion_model(X2, y2, candidates=["logistic", "spline"], folds=3)
    assert report2["candidates"]["logistic"]["cv_log_loss"] <= report2["candidates"]["spline"]["cv_log_loss"] + 2e-4


def test_a_single_candidate_is_fitted_without_cross_validation():
    X, y = _conversion_data(2000, 6)
    model, report = select_conversion_model(X, y, candidates=["logistic"])
    assert report == {"chosen": "logistic", "folds": 0, "candidates": {}}
    assert isinstance(model, ConversionModel)
    with pytest.raises(ValueError, match="no conversion model candidates"):
        select_conversion_model(X, y, candidates=[])


def test_monotone_gbm_holds_out_the_last_rows_and_needs_enough_of_them():
    X, y = _threshold_data(3000, 7)
    model = MonotoneGBMConversion(holdout=0.3).fit(X, y)
    assert model.a_ > 0 and model.booster_.num_trees() >= 1
    with pytest.raises(ValueError, match="too few"):
        MonotoneGBMConversion().fit(X[:120], y[:120])


# -- segment_spline: how much intent is worth depends on who the lead is --------------------------------
def _segment_data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Intent is worth a lot from role "signer", little from "student"; ``noise`` has nothing to do with it."""
    rng = np.random.default_rng(seed)
    p_fit, p_intent = rng.beta(2, 6, n), rng.beta(2, 6, n)
    role = rng.choice(["signer", "staff", "student"], n, p=[0.3, 0.4, 0.3])
    worth = np.select([role == "signer", role == "staff"], [1.6, 0.8], 0.1)
    z = -1.0 + 0.8 * logit(p_fit) + worth * (logit(p_intent) + 1.0)
    X = conversion_inputs(p_fit, p_intent)
    X["role"] = pd.Categorical(role)
    X["noise"] = pd.Categorical(rng.choice(list("abcd"), n))
    return X, (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)


def test_segment_spline_is_chosen_with_the_segment_that_changes_intent_and_not_the_noise():
    X, y = _segment_data(9000, 10)
    model, report = select_conversion_model(X, y, candidates=["logistic", "spline", "segment_spline"], folds=3)
    entry = report["candidates"]["segment_spline"]
    assert entry["segments"] == ["role"] and report["chosen"] == "segment_spline"
    assert entry["cv_log_loss"] < report["candidates"]["spline"]["cv_log_loss"] - 0.005
    slopes = {lv: e["intent_slope"] for lv, e in model.segment_effects()["role"].items()}
    assert slopes["signer"] > slopes["staff"] > slopes["student"] >= 0
    # On new leads from the same world it ranks and predicts better than the spline without segments.
    X_new, y_new = _segment_data(9000, 11)
    spline = new_conversion_model("spline").fit(X, y)
    p_seg, p_spline = model.predict_proba(X_new)[:, 1], spline.predict_proba(X_new)[:, 1]
    assert _auc(y_new, p_seg) > _auc(y_new, p_spline) + 0.01
    assert _log_loss(y_new, p_seg) < _log_loss(y_new, p_spline)


def test_segment_spline_without_a_segment_that_helps_keeps_none():
    X, y = _segment_data(6000, 12)
    X["role"] = pd.Categorical(np.random.default_rng(0).permutation(X["role"].to_numpy()))  # no longer matters
    _, report = select_conversion_model(X.drop(columns="noise"), y, candidates=["segment_spline"], folds=3)
    assert report["folds"] == 3 and report["candidates"]["segment_spline"]["segments"] == []


def test_segment_spline_is_monotone_for_every_level_and_unseen_levels_share_the_spline():
    X, y = _segment_data(6000, 13)
    model = SegmentSplineConversion(segments=("role",), min_leads=50).fit(X, y)
    grid = np.concatenate([[0.0, 1e-6], np.linspace(0.001, 0.999, 31), [1 - 1e-6, 1.0]])
    pf, pi = (a.ravel() for a in np.meshgrid(grid, grid, indexing="ij"))
    surfaces = {}
    for level in ["signer", "staff", "student", "never seen"]:
        frame = conversion_inputs(pf, pi).assign(role=level)
        p = model.predict_proba(frame)[:, 1].reshape(len(grid), len(grid))
        assert (np.diff(p, axis=0) >= 0).all() and (np.diff(p, axis=1) >= 0).all(), level
        surfaces[level] = p
    # An unseen level gets no term of its own: the intercept and the shared spline terms alone.
    frame = conversion_inputs(pf, pi).assign(role="never seen")
    shared = 1 / (1 + np.exp(-(model.intercept_ + model._design(frame) @ model.coef_)))
    np.testing.assert_allclose(surfaces["never seen"].ravel(), shared)
    assert not np.allclose(surfaces["never seen"], surfaces["signer"])
    # Levels rarer than min_leads (weighted rows) are not kept.
    assert SegmentSplineConversion(segments=("role",), min_leads=10_000).fit(X, y).levels_ == {"role": []}


def test_segment_spline_round_trips_through_json_and_names_a_missing_feature():
    X, y = _segment_data(4000, 14)
    model = SegmentSplineConversion(segments=("role", "noise")).fit(X, y, sample_weight=np.full(len(y), 0.5))
    again = conversion_model_from_dict(json.loads(json.dumps(model.to_dict())))
    assert isinstance(again, SegmentSplineConversion) and again.segments_ == ("role", "noise")
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert model.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=0.015)
    # Each row's segment terms are what the model adds to its shared spline (unseen levels: nothing).
    terms = model.segment_terms(X.assign(role=X["role"].astype(str).where(X.index % 7 > 0, "never seen")))
    unseen = np.asarray(X.index % 7 == 0)
    assert list(terms.columns) == ["role", "noise"] and (terms.loc[unseen, "role"] == 0).all()
    shared = model.intercept_ + model._design(X) @ model.coef_
    logit_p = np.log(model.predict_proba(X)[:, 1] / model.predict_proba(X)[:, 0])
    np.testing.assert_allclose(shared + model.segment_terms(X).sum(axis=1).to_numpy(), logit_p, atol=1e-9)
    # The effects, with each level's (weighted) leads when the rows are given: what the benchmark page shows.
    effects = model.segment_effects(X, sample_weight=np.full(len(y), 0.5))
    counts = X["role"].astype(str).value_counts()
    assert {lv: e["leads"] for lv, e in effects["role"].items()} == {lv: 0.5 * counts[lv] for lv in effects["role"]}
    assert {lv: {k: v for k, v in e.items() if k != "leads"} for lv, e in effects["role"].items()} == (
        again.segment_effects()["role"]
    )
    with pytest.raises(ValueError, match="no fit feature 'role'"):
        model.predict_proba(X.drop(columns="role"))
    with pytest.raises(ValueError, match="do not match the levels"):
        conversion_model_from_dict({**model.to_dict(), "segment_coef": [0.0]})
    with pytest.raises(ValueError, match="fit features do not have"):
        conversion_inputs([0.5], [0.5], pd.DataFrame({"x": [1]}), segments=["role"])
