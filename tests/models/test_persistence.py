"""Model files are data: JSON and LightGBM text round trips, determinism, and one line for every bad file."""

from __future__ import annotations

import json
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.errors import ModelFileError
from leadscore.models.persistence import (
    FORMAT_VERSION,
    booster_text,
    load_booster,
    load_display,
    load_featurizer,
    load_scorer,
    save_booster,
    save_display,
    save_featurizer,
    save_scorer,
    scorer_json,
)
from leadscore.models.scorer import Display


@pytest.fixture(scope="module")
def scorer(trained_scorer):
    return trained_scorer[0]


@pytest.fixture(scope="module")
def leads(trained_scorer):
    raw = trained_scorer[1]
    return raw.iloc[:400].reset_index(drop=True)


@pytest.fixture(scope="module")
def scorer_file(scorer, tmp_path_factory):
    path = tmp_path_factory.mktemp("scorer") / "lead_scorer.json"
    save_scorer(scorer, path)
    return path


# -- round trips -----------------------------------------------------------------------------------
def test_scorer_round_trip_gives_identical_scores_and_explanations(scorer, scorer_file, leads):
    loaded = load_scorer(scorer_file).with_display(scorer.display)
    before = scorer.predict(leads, explain=True)
    after = loaded.predict(leads, explain=True)
    pd.testing.assert_frame_equal(after, before, check_exact=True)
    assert loaded.fit_threshold == scorer.fit_threshold and loaded.bant == scorer.bant
    assert loaded.input_columns == scorer.input_columns


def test_display_text_is_not_in_the_model(scorer, scorer_file, leads):
    text = scorer_file.read_text()
    for label in scorer.display.labels.values():
        assert json.dumps(label) not in text, label
    for action in scorer.display.actions.values():
        assert json.dumps(action) not in text, action
    # Without a display: default actions and humanised names; scores unchanged.
    plain = load_scorer(scorer_file)
    assert plain.display == Display()
    with_params = scorer.predict(leads.head(50), explain=True)
    bare = plain.predict(leads.head(50), explain=True)
    pd.testing.assert_series_equal(bare["conversion_probability"], with_params["conversion_probability"])
    assert set(bare["recommended_action"]).isdisjoint(scorer.display.actions.values())
    # A different display changes words only, and leaves the saved model's bytes alone.
    relabelled = scorer.with_display(Display(labels={"employees": "Headcount"}, actions={}))
    assert scorer_json(relabelled) == scorer_json(scorer)
    assert "Headcount" in " ".join(relabelled.predict(leads.head(200), explain=True)["fit_reasons_for"])


def test_save_is_byte_deterministic(scorer, scorer_file, tmp_path):
    again = tmp_path / "again.json"
    save_scorer(scorer, again)
    assert again.read_bytes() == scorer_file.read_bytes()
    # ... and stable through a load: the loaded scorer saves to the same bytes.
    reloaded = tmp_path / "reloaded.json"
    save_scorer(load_scorer(scorer_file), reloaded)
    assert reloaded.read_bytes() == scorer_file.read_bytes()


def test_scorer_file_is_readable_json_with_format_and_parts(scorer_file):
    data = json.loads(scorer_file.read_text())
    assert data["format"] == "leadscore.lead_scorer" and data["format_version"] == FORMAT_VERSION
    for key in ("id_column", "thresholds", "bant", "explain_top_k", "conversion_model", "featurizer", "extras"):
        assert key in data
    for group in ("fit_model", "intent_model"):
        assert data[group]["booster"].startswith("tree\n")
        assert data[group]["calibration"]["method"] in ("sigmoid", "isotonic")
    assert list(data)[-2:] == ["fit_model", "intent_model"]


def test_extras_travel_as_is_and_must_be_json(scorer, tmp_path, leads):
    extras = {"contract": {"columns": {"employees": {"kind": "numeric", "min": 0}}}, "drift_reference": [1, 2.5]}
    with_extras = scorer.__class__(**{**vars(scorer), "extras": extras})
    save_scorer(with_extras, tmp_path / "s.json")
    assert load_scorer(tmp_path / "s.json").extras == extras
    bad = scorer.__class__(**{**vars(scorer), "extras": {"drift_reference": {"employees": float("nan")}}})
    with pytest.raises(ModelFileError, match="extras"):
        save_scorer(bad, tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()


def test_featurizer_and_booster_round_trips(scorer, leads, tmp_path):
    save_featurizer(scorer.featurizer, tmp_path / "featurizer.json")
    featurizer = load_featurizer(tmp_path / "featurizer.json")
    for got, expected in zip(featurizer.transform(leads), scorer.featurizer.transform(leads), strict=True):
        pd.testing.assert_frame_equal(got, expected)
    X_fit, _ = scorer.featurizer.transform(leads)
    save_booster(scorer.fit_model.booster_, tmp_path / "fit_model.txt")
    booster = load_booster(tmp_path / "fit_model.txt")
    assert (tmp_path / "fit_model.txt").read_text() == booster_text(scorer.fit_model.booster_)
    np.testing.assert_array_equal(booster.predict(X_fit), scorer.fit_model.booster_.predict(X_fit))


def test_display_round_trip(tmp_path):
    display = Display(labels={"employees": "Employees"}, actions={"high_fit_high_intent": "Call now"})
    save_display(display, tmp_path / "display.json")
    assert load_display(tmp_path / "display.json") == display


# -- bad files: one line naming the file -------------------------------------------------------------
def _bad_files(scorer_file, tmp_path) -> dict:
    text = scorer_file.read_text()
    data = json.loads(text)
    files = {
        "missing": (tmp_path / "nope.json", "not found"),
        "empty": (tmp_path / "empty.json", "empty"),
        "truncated": (tmp_path / "truncated.json", "truncated or corrupt"),
        "garbage": (tmp_path / "garbage.json", "binary data"),
        "other_format": (tmp_path / "featurizer.json", "expected a leadscore model file"),
        "wrong_version": (tmp_path / "v99.json", "format version 99"),
        "no_format": (tmp_path / "list.json", "without a 'format' field"),
        "missing_field": (tmp_path / "nofield.json", "missing field 'thresholds'"),
        "truncated_trees": (tmp_path / "trees.json", "truncated or corrupt"),
        "directory": (tmp_path, "is a directory"),
    }
    files["empty"][0].write_bytes(b"")
    files["truncated"][0].write_text(text[: len(text) // 2])
    files["garbage"][0].write_bytes(bytes(range(256)) * 4)
    files["other_format"][0].write_text(json.dumps(data["featurizer"]))
    files["wrong_version"][0].write_text(json.dumps({**data, "format_version": 99}))
    files["no_format"][0].write_text("[1, 2, 3]")
    files["missing_field"][0].write_text(json.dumps({k: v for k, v in data.items() if k != "thresholds"}))
    booster = data["fit_model"]["booster"]
    cut = {**data, "fit_model": {**data["fit_model"], "booster": booster[: len(booster) // 2]}}
    files["truncated_trees"][0].write_text(json.dumps(cut))
    return files


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "truncated",
        "garbage",
        "other_format",
        "wrong_version",
        "no_format",
        "missing_field",
        "truncated_trees",
        "directory",
    ],
)
def test_bad_scorer_file_is_one_line_naming_it(scorer_file, tmp_path, case):
    path, expected = _bad_files(scorer_file, tmp_path)[case]
    with pytest.raises(ModelFileError) as err:
        load_scorer(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path)), message
    assert expected in message, message


def test_bad_scorer_file_is_one_line_from_the_cli(scorer_file, tmp_path, leads):
    path, _ = _bad_files(scorer_file, tmp_path)["truncated"]
    leads.to_parquet(tmp_path / "leads.parquet")
    result = CliRunner().invoke(
        app, ["score", "--no-progress", "--model", str(path), "--input", str(tmp_path / "leads.parquet"), "--output",
              str(tmp_path / "out.parquet")]
    )  # fmt: skip
    assert result.exit_code == 2 and "truncated or corrupt" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out.parquet").exists()


def test_bad_booster_and_display_files(tmp_path):
    (tmp_path / "fit_model.txt").write_text("tree\nversion=v4\n")
    with pytest.raises(ModelFileError, match=r"fit_model\.txt: not a valid LightGBM model file"):
        load_booster(tmp_path / "fit_model.txt")
    (tmp_path / "display.json").write_text(json.dumps({"format": "leadscore.display", "format_version": 1}))
    with pytest.raises(ModelFileError, match=r"display\.json: not a valid display file"):
        load_display(tmp_path / "display.json")


# -- pickles: refused unless trusted, and refusing runs no code ---------------------------------------
class _CreatesAFile:
    """A hostile pickle: unpickling it creates ``path`` (any code could run instead)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("name", ["lead_scorer.joblib", "lead_scorer.json"])  # by suffix and by content
def test_pickle_is_refused_without_running_code(tmp_path, name):
    marker = tmp_path / "pwned"
    path = tmp_path / name
    path.write_bytes(pickle.dumps(_CreatesAFile(marker)))
    with pytest.raises(ModelFileError, match=r"is a pickle, refused.*--trust-pickle"):
        load_scorer(path)
    with pytest.raises(ModelFileError, match="is a pickle, refused"):
        load_featurizer(path)
    with pytest.raises(ModelFileError, match="is a pickle, refused"):
        load_booster(path)
    assert not marker.exists()
    # Trusting it runs its code (that is what the flag means), and it is still not a scorer.
    with pytest.raises(ModelFileError, match="not a leadscore scorer"):
        load_scorer(path, trust_pickle=True)
    assert marker.exists()


def test_pickle_is_refused_by_the_cli_unless_trusted(tmp_path, scorer, leads):
    marker = tmp_path / "pwned"
    path = tmp_path / "lead_scorer.joblib"
    path.write_bytes(pickle.dumps(_CreatesAFile(marker)))
    leads.to_parquet(tmp_path / "leads.parquet")
    result = CliRunner().invoke(app, ["explain", "L1", "--scorer", str(path), "--raw", str(tmp_path / "leads.parquet")])
    assert result.exit_code == 2 and "--trust-pickle" in result.output and "Traceback" not in result.output
    assert not marker.exists()


def test_trusted_legacy_joblib_scorer_is_converted(scorer, leads, tmp_path):
    """A scorer as leadscore pickled it before: CalibratedClassifierCV(FrozenEstimator(LGBMClassifier)),
    labels and actions as fields. With trust_pickle it loads as the current objects, same numbers."""
    import lightgbm as lgb
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    X_fit, X_intent = scorer.featurizer.transform(leads)
    y = (np.arange(len(leads)) % 3 == 0).astype(int)
    legacy_models = {}
    for name, X, method in (("fit_model", X_fit, "sigmoid"), ("intent_model", X_intent, "isotonic")):
        classifier = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
        legacy_models[name] = CalibratedClassifierCV(FrozenEstimator(classifier), method=method).fit(X, y)
    legacy = scorer.__class__(**{**vars(scorer), **legacy_models})
    state = vars(legacy)
    del state["display"]
    state["labels"], state["actions"] = {"employees": "Headcount"}, {"low_fit_low_intent": "Drop"}
    joblib.dump(legacy, tmp_path / "lead_scorer.joblib")

    with pytest.raises(ModelFileError, match="pickle, refused"):
        load_scorer(tmp_path / "lead_scorer.joblib")
    converted = load_scorer(tmp_path / "lead_scorer.joblib", trust_pickle=True)
    assert converted.display == Display(labels={"employees": "Headcount"}, actions={"low_fit_low_intent": "Drop"})
    np.testing.assert_array_equal(
        converted.fit_model.predict_proba(X_fit), legacy_models["fit_model"].predict_proba(X_fit)
    )
    np.testing.assert_array_equal(
        converted.intent_model.predict_proba(X_intent), legacy_models["intent_model"].predict_proba(X_intent)
    )
    # ... and can be saved as JSON, which loads back to the same scores.
    save_scorer(converted, tmp_path / "lead_scorer.json")
    again = load_scorer(tmp_path / "lead_scorer.json")
    pd.testing.assert_series_equal(
        again.predict(leads)["conversion_probability"], converted.predict(leads)["conversion_probability"]
    )
