"""Stages ``train_fit`` / ``train_intent``: one LightGBM model per group, fitted on the train split only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.errors import DataValidationError, LeadscoreError
from leadscore.models.persistence import load_booster
from leadscore.pipeline import train

SPLITS = ["train"] * 300 + ["early_stopping"] * 100 + ["calibration"] * 100 + ["test"] * 100 + ["open"] * 50


def _feature_table(seed: int = 0) -> pd.DataFrame:
    """A feature table as featurize writes it: id, split, label (NaN for open leads), features."""
    rng = np.random.default_rng(seed)
    n = len(SPLITS)
    visits = rng.poisson(3, n).astype(float)
    label = (rng.random(n) < 1 / (1 + np.exp(-(visits - 3)))).astype(float)
    split = np.array(SPLITS)
    label[split == "open"] = np.nan
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "split": split,
            "label": label,
            "visits": visits,
            "noise": rng.normal(size=n),
        }
    )


@pytest.fixture
def tiny(params):
    budget = {"n_estimators": 60, "learning_rate": 0.2, "num_leaves": 4, "min_child_samples": 10}
    t = params.train
    return params.model_copy(
        update={
            "train": t.model_copy(
                update={
                    "early_stopping_rounds": 10,
                    "fit": t.fit.model_copy(update=budget),
                    "intent": t.intent.model_copy(update=budget),
                }
            )
        }
    )


def _write(table: pd.DataFrame, path) -> str:
    table.to_parquet(path, index=False)
    return str(path)


def test_the_model_is_written_and_learns_from_the_train_split(tiny, tmp_path):
    out = tmp_path / "fit_model.txt"
    train.run(tiny, group="fit", features=_write(_feature_table(), tmp_path / "fit.parquet"), model_out=str(out))
    model = load_booster(out)  # LightGBM's text format: data, not a pickle
    p = model.predict(pd.DataFrame({"visits": [0.0, 9.0], "noise": [0.0, 0.0]}))
    assert p[1] > p[0]


def test_labels_outside_the_training_splits_are_never_read(tiny, tmp_path):
    table = _feature_table()
    later = table["split"].isin(["calibration", "test"]).to_numpy()
    flipped = table.assign(label=np.where(later, 1 - table["label"], table["label"]))
    models = []
    for name, t in (("original", table), ("flipped", flipped)):
        out = tmp_path / f"{name}.txt"
        train.run(tiny, group="fit", features=_write(t, tmp_path / f"{name}.parquet"), model_out=str(out))
        models.append(load_booster(out))
    X = table[["visits", "noise"]]
    np.testing.assert_array_equal(models[0].predict(X), models[1].predict(X))


def test_an_unknown_group_is_refused(tiny, tmp_path):
    with pytest.raises(LeadscoreError, match=r"--group must be 'fit' or 'intent', got 'activity'"):
        train.run(tiny, group="activity", features=str(tmp_path / "x.parquet"), model_out=str(tmp_path / "m.txt"))


def test_a_monotone_feature_missing_from_the_table_is_named(tiny, tmp_path):
    """params train.intent.monotone_increasing lists the synthetic CRM's engagement columns."""
    out = tmp_path / "intent_model.txt"
    alone = tiny.model_copy(update={"train": tiny.train.model_copy(update={"intent_given_fit": False})})
    with pytest.raises(DataValidationError, match=r"monotone_increasing lists \[.*'web_visits_30d'.*not features"):
        train.run(
            alone, group="intent", features=_write(_feature_table(), tmp_path / "intent.parquet"), model_out=str(out)
        )
    assert not out.exists()


def test_intent_given_fit_needs_the_fit_model(tiny, tmp_path):
    out = tmp_path / "intent_model.txt"
    with pytest.raises(LeadscoreError, match="intent_given_fit is true: the intent model needs --fit-model"):
        train.run(tiny, group="intent", features=_write(_feature_table(), tmp_path / "i.parquet"), model_out=str(out))
    assert not out.exists()


def _fit_and_proxy_tables(n: int = 4000, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outcomes driven by fit alone; the intent column is a noisy copy of fit (better-fit leads engage more)."""
    rng = np.random.default_rng(seed)
    size = rng.normal(size=n)
    engagement = size + rng.normal(scale=0.5, size=n)
    label = (rng.random(n) < 1 / (1 + np.exp(-(2 * size - 1)))).astype(float)
    split = np.array(["train"] * (n * 6 // 10) + ["early_stopping"] * (n // 10) + ["calibration"] * (n * 3 // 10))
    ids = [f"L{i}" for i in range(n)]
    fit = pd.DataFrame({"lead_id": ids, "split": split, "label": label, "size": size})
    intent = pd.DataFrame({"lead_id": ids, "split": split, "label": label, "engagement": engagement})
    return fit, intent


def test_the_intent_model_given_fit_does_not_relearn_fit(tiny, tmp_path):
    """Model behaviour: engagement that only mirrors fit is worth a lot alone and next to nothing given fit."""
    fit, intent = _fit_and_proxy_tables()
    params = tiny.model_copy(update={"train": tiny.train.model_copy(update={"intent": tiny.train.fit.model_copy()})})
    fit_path, intent_path = _write(fit, tmp_path / "fit.parquet"), _write(intent, tmp_path / "intent.parquet")
    train.run(params, group="fit", features=fit_path, model_out=str(tmp_path / "fit.txt"))
    spread = {}
    for given_fit in (False, True):
        p = params.model_copy(update={"train": params.train.model_copy(update={"intent_given_fit": given_fit})})
        out = tmp_path / f"intent_{given_fit}.txt"
        train.run(
            p,
            group="intent",
            features=intent_path,
            model_out=str(out),
            fit_model=str(tmp_path / "fit.txt"),
            fit_features=fit_path,
        )
        margin = load_booster(out).predict(intent[["engagement"]], raw_score=True)
        spread[given_fit] = float(np.std(margin))
    assert spread[False] > 0.8  # alone, engagement stands in for fit
    assert spread[True] < 0.25 * spread[False]


def test_fit_offset_follows_the_lead_id_and_refuses_an_unknown_lead(tiny):
    fit, intent = _fit_and_proxy_tables(n=200)

    class Margin:  # a fitted model's raw score: here the size column itself
        def predict(self, X, raw_score):
            assert raw_score
            return X["size"].to_numpy()

    snapshots = pd.concat([intent.iloc[[5, 5, 7]], intent.iloc[[2]]])  # activity snapshots repeat a lead
    offset = train.fit_offset(Margin(), fit_table=fit, table=snapshots, id_column="lead_id")
    np.testing.assert_array_equal(offset, fit["size"].to_numpy()[[5, 5, 7, 2]])
    # Only the training period is trained on: a calibration lead gets no offset.
    with_calibration = pd.concat([snapshots, intent.iloc[[150]]])
    assert with_calibration["split"].iloc[-1] == "calibration"
    offset = train.fit_offset(Margin(), fit_table=fit, table=with_calibration, id_column="lead_id")
    assert np.isnan(offset[-1]) and not np.isnan(offset[:-1]).any()
    with pytest.raises(DataValidationError, match="1 rows of the intent table have no 'lead_id' in the fit table"):
        train.fit_offset(
            Margin(), fit_table=fit, table=snapshots.assign(lead_id=["L5", "L5", "L7", "X"]), id_column="lead_id"
        )


def test_a_training_split_without_wins_is_refused_and_nothing_written(tiny, tmp_path):
    table = _feature_table()
    no_wins = table.assign(label=np.where(table["split"] == "train", 0.0, table["label"]))
    out = tmp_path / "fit_model.txt"
    with pytest.raises(DataValidationError, match="the training split has only one outcome class"):
        train.run(tiny, group="fit", features=_write(no_wins, tmp_path / "fit.parquet"), model_out=str(out))
    assert not out.exists()


def _tuned(params, **tune):
    t = params.train
    return params.model_copy(
        update={"train": t.model_copy(update={"tune": t.tune.model_copy(update={"enabled": True, **tune})})}
    )


def _raw(table: pd.DataFrame, path) -> str:
    """Raw leads as generate writes them: ids in the feature table's order, created in that order."""
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(len(table)), unit="h")
    return _write(pd.DataFrame({"lead_id": table["lead_id"], "created_at": created}), path)


def test_tuning_off_writes_the_configured_params_and_reads_no_raw_leads(tiny, tmp_path):
    import json

    report = tmp_path / "tuning_fit.json"
    features = _write(_feature_table(), tmp_path / "fit.parquet")
    train.run(
        tiny,
        group="fit",
        features=features,
        model_out=str(tmp_path / "m.txt"),
        raw=str(tmp_path / "absent.parquet"),
        tuning_out=str(report),
    )
    written = json.loads(report.read_text())
    assert written["enabled"] is False
    assert written["params"]["num_leaves"] == tiny.train.fit.num_leaves


def test_tuning_on_trains_the_final_model_with_the_best_trials_params(tiny, tmp_path):
    import json

    params = _tuned(tiny, n_trials=3, n_folds=2, seed=3)
    table = _feature_table()
    report = tmp_path / "tuning_fit.json"
    out = tmp_path / "fit_model.txt"
    messages: list[str] = []
    train.run(
        params,
        group="fit",
        features=_write(table, tmp_path / "fit.parquet"),
        model_out=str(out),
        raw=_raw(table, tmp_path / "leads.parquet"),
        tuning_out=str(report),
        progress=messages.append,
    )
    written = json.loads(report.read_text())
    assert written["group"] == "fit" and written["enabled"] is True
    assert written["n_trials_completed"] == 3
    assert messages[-1].startswith("tuning the fit model: trial 3/3")
    # The folds hold the 400 train + early-stopping leads only (150 of them validated on, 2 blocks).
    assert sum(f["validation"] for f in written["folds"]) == 200
    assert written["folds"][-1]["train"] + written["folds"][-1]["early_stopping"] == 300
    best = written["best_params"]
    model = load_booster(out)
    assert f"[num_leaves: {best['num_leaves']}]" in model.model_to_string()
    assert f"[min_data_in_leaf: {best['min_child_samples']}]" in model.model_to_string()


def test_tuning_without_raw_leads_is_refused(tiny, tmp_path):
    params = _tuned(tiny, n_trials=1)
    with pytest.raises(LeadscoreError, match=r"train.tune is enabled: the train stage needs --raw"):
        train.run(
            params,
            group="fit",
            features=_write(_feature_table(), tmp_path / "fit.parquet"),
            model_out=str(tmp_path / "m.txt"),
        )


def test_tuning_refuses_raw_leads_of_another_run(tiny, tmp_path):
    params = _tuned(tiny, n_trials=1)
    table = _feature_table()
    other = table.assign(lead_id=table["lead_id"].iloc[::-1].to_numpy())
    with pytest.raises(DataValidationError, match=r"feature table's 'lead_id' does not match the raw leads'"):
        train.run(
            params,
            group="fit",
            features=_write(table, tmp_path / "fit.parquet"),
            model_out=str(tmp_path / "m.txt"),
            raw=_raw(other, tmp_path / "leads.parquet"),
        )


def test_intent_tuning_folds_boost_from_fit_models_that_never_saw_their_validation_outcomes(tiny):
    """Each tuning fold's fit offset comes from a fit model trained on that fold's training leads only:
    flipping the outcomes of its validation block leaves the fold's offsets exactly as they were, while
    flipping those of its training leads changes them (the final fit model saw every fold's outcomes)."""
    from leadscore.models.tuning import time_folds

    fit, intent = _fit_and_proxy_tables(n=2000)
    period = intent["split"].isin(["train", "early_stopping"])
    order = pd.Series(np.arange(len(intent), dtype=float), index=intent.index)[period]
    folds = time_folds(order, n_folds=2, early_stopping_share=0.1)
    for fold in folds:
        before = train.fold_fit_offsets(tiny, fit_table=fit, table=intent)(fold)
        assert not np.isnan(before[period.to_numpy()]).any()

        def flipped(rows: pd.Index) -> pd.DataFrame:
            ids = set(intent.loc[rows, "lead_id"])
            return fit.assign(label=np.where(fit["lead_id"].isin(ids), 1.0 - fit["label"], fit["label"]))

        same = train.fold_fit_offsets(tiny, fit_table=flipped(fold.valid), table=intent)(fold)
        np.testing.assert_array_equal(same, before)
        moved = train.fold_fit_offsets(tiny, fit_table=flipped(fold.fit), table=intent)(fold)
        assert np.nanmax(np.abs(moved - before)) > 0.1


def test_tuning_the_intent_model_given_fit_runs_with_fold_offsets_and_says_so(tiny, tmp_path):
    import json

    fit, intent = _fit_and_proxy_tables(n=2000)
    plain = tiny.model_copy(update={"train": tiny.train.model_copy(update={"intent": tiny.train.fit.model_copy()})})
    params = _tuned(plain, n_trials=2, n_folds=2, seed=3)
    fit_path, intent_path = _write(fit, tmp_path / "fit.parquet"), _write(intent, tmp_path / "intent.parquet")
    raw = _raw(intent, tmp_path / "leads.parquet")
    train.run(params, group="fit", features=fit_path, model_out=str(tmp_path / "fit.txt"), raw=raw)
    report = tmp_path / "tuning_intent.json"
    train.run(
        params,
        group="intent",
        features=intent_path,
        model_out=str(tmp_path / "intent.txt"),
        raw=raw,
        tuning_out=str(report),
        fit_model=str(tmp_path / "fit.txt"),
        fit_features=fit_path,
    )
    written = json.loads(report.read_text())
    assert written["enabled"] is True and written["n_trials_completed"] == 2
    assert "never on its validation block's outcomes" in written["fold_offsets"]
    assert all(np.isfinite(t["log_loss"]) for t in written["trials"])
