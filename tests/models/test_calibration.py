"""CalibratedBooster: the numbers of CalibratedClassifierCV(FrozenEstimator(LGBMClassifier)), as data."""

from __future__ import annotations

import json

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator

from leadscore.models.calibration import CalibratedBooster, ConversionModel, calibrate_booster
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
