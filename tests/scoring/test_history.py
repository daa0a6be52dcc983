"""Score history: rows with TreeSHAP contributions, atomic appends (Parquet directory, SQL), readers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore.atomic import MARKER
from leadscore.errors import LeadscoreError
from leadscore.models.explain import feature_sources, shap_contributions, source_contributions
from leadscore.monitoring.changes import changes_since
from leadscore.scoring.history import (
    HISTORY_COLUMNS,
    contribution_columns,
    open_history,
    open_history_writer,
    parse_as_of,
    snapshot_name,
    snapshot_rows,
    top_contributions_json,
)

D = pd.Timestamp


def test_as_of_dates():
    assert parse_as_of("2026-03-01") == D("2026-03-01")
    assert parse_as_of("2026-03-01T09:30:15.5") == D("2026-03-01 09:30:15")
    assert parse_as_of("2026-03-01T10:00+02:00") == D("2026-03-01 08:00")  # UTC, naive
    with pytest.raises(LeadscoreError, match=r"--as-of: expected an ISO date such as 2026-03-01 .*got 'March'"):
        parse_as_of("March")
    assert snapshot_name(D("2026-03-01 09:30")) == "snapshot-20260301T093000.parquet"


def test_top_contributions_are_the_strongest_by_magnitude_as_json():
    effects = pd.DataFrame({"a": [0.1, 0.0], "b": [-0.5, 0.2], "c": [0.3, 0.123456]})
    texts = top_contributions_json(effects, top=2)
    assert [json.loads(t) for t in texts] == [{"b": -0.5, "c": 0.3}, {"b": 0.2, "c": 0.1235}]
    assert list(json.loads(texts[0])) == ["b", "c"]  # biggest first
    assert list(top_contributions_json(effects.iloc[:, :0], top=3)) == ["{}", "{}"]


def test_contributions_are_the_explain_modules_treeshap_per_source_column(loaded_model, sample_leads):
    scorer, raw = loaded_model.scorer, sample_leads.iloc[:200]
    stored = contribution_columns(scorer, raw, top=50)
    X_fit, X_intent = scorer.featurizer.transform(raw)
    sources = feature_sources(scorer.featurizer)
    for group, model, X in (("fit", scorer.fit_model, X_fit), ("intent", scorer.intent_model, X_intent)):
        expected = source_contributions(shap_contributions(model, X.reset_index(drop=True)), sources)
        for i in (0, 57, 199):
            got = json.loads(stored[f"{group}_contributions"].iloc[i])
            assert got, f"no {group} contributions stored"
            for column, value in got.items():
                assert value == pytest.approx(expected.loc[i, column], abs=5e-5)
    few = contribution_columns(scorer, raw, top=2)
    assert all(len(json.loads(t)) <= 2 for t in few["intent_contributions"])


def _rows(as_of: str, p: list[float], *, ids=("L1", "L2", "L3"), model="sha256:aaa") -> pd.DataFrame:
    scored = pd.DataFrame(
        {
            "lead_id": list(ids),
            "fit_probability": 0.5,
            "intent_probability": 0.5,
            "conversion_probability": p,
            "quadrant": ["high_fit_high_intent" if v > 0.5 else "high_fit_low_intent" for v in p],
        }
    )
    contributions = pd.DataFrame(
        {
            "fit_contributions": ['{"employees": 0.2}'] * len(ids),
            "intent_contributions": [json.dumps({"web_visits_30d": round(v - 0.5, 4)}) for v in p],
        }
    )
    return snapshot_rows(
        scored, contributions, id_column="lead_id", as_of=D(as_of), model_name="lead_scorer", model_version=model
    )


def _append(location: str, as_of: str, rows: pd.DataFrame, table: str | None = None) -> None:
    with open_history_writer(location, as_of=D(as_of), table=table) as writer:
        writer.write(rows)


def _locations(tmp_path, db_url=None):
    return [str(tmp_path / "history"), db_url or f"sqlite:///{tmp_path / 'history.db'}"]


@pytest.mark.parametrize("store", ["parquet", "sqlite"])
def test_append_read_and_replace_the_same_as_of(tmp_path, store):
    location = _locations(tmp_path)[store == "sqlite"]
    _append(location, "2026-03-01", _rows("2026-03-01", [0.2, 0.4, 0.6]))
    _append(location, "2026-03-15", _rows("2026-03-15", [0.3, 0.4, 0.7]))
    _append(location, "2026-03-15", _rows("2026-03-15", [0.9, 0.4, 0.7]))  # again: replaces, no duplicates
    history = open_history(location)
    assert history.snapshots() == [D("2026-03-01"), D("2026-03-15")]
    latest = history.read([D("2026-03-15")]).sort_values("lead_id").reset_index(drop=True)
    assert list(latest.columns) == list(HISTORY_COLUMNS)
    assert list(latest["conversion_probability"]) == [0.9, 0.4, 0.7]
    assert list(latest["as_of"].unique()) == [D("2026-03-15")]
    both = history.read(history.snapshots(), columns=["lead_id", "as_of", "conversion_probability"])
    assert len(both) == 6 and list(both.columns) == ["lead_id", "as_of", "conversion_probability"]


def test_a_failed_append_leaves_the_history_as_it_was(tmp_path):
    for location in _locations(tmp_path):
        _append(location, "2026-03-01", _rows("2026-03-01", [0.2, 0.4, 0.6]))
        with pytest.raises(RuntimeError), open_history_writer(location, as_of=D("2026-03-01")) as writer:
            writer.write(_rows("2026-03-01", [0.9, 0.9, 0.9]))
            raise RuntimeError("scoring failed half way")
        kept = open_history(location).read([D("2026-03-01")]).sort_values("lead_id")
        assert list(kept["conversion_probability"]) == [0.2, 0.4, 0.6], location
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == [MARKER, "snapshot-20260301T000000.parquet"]


def test_a_failed_first_append_creates_no_history(tmp_path):
    location = str(tmp_path / "history")
    with pytest.raises(RuntimeError), open_history_writer(location, as_of=D("2026-03-01")) as writer:
        writer.write(_rows("2026-03-01", [0.2, 0.4, 0.6]))
        raise RuntimeError("interrupted")
    assert not (tmp_path / "history").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_lead_twice_in_one_sql_snapshot_is_refused(tmp_path):
    location = f"sqlite:///{tmp_path / 'h.db'}"
    with pytest.raises(LeadscoreError, match="a lead id appears twice in one snapshot"):
        _append(location, "2026-03-01", _rows("2026-03-01", [0.2, 0.4], ids=("L1", "L1")))


def test_history_on_postgresql(db_url):
    _append(db_url, "2026-03-01", _rows("2026-03-01", [0.2, 0.4, 0.6]), table="hist")
    _append(db_url, "2026-03-01", _rows("2026-03-01", [0.3, 0.4, 0.6]), table="hist")
    history = open_history(db_url, table="hist")
    assert history.snapshots() == [D("2026-03-01")]
    assert sorted(history.read([D("2026-03-01")])["conversion_probability"]) == [0.3, 0.4, 0.6]


def test_clear_errors(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(LeadscoreError, match="exists and is not a score history written by leadscore"):
        _append(str(foreign), "2026-03-01", _rows("2026-03-01", [0.2, 0.4, 0.6]))
    assert (foreign / "notes.txt").read_text() == "keep me"
    with pytest.raises(LeadscoreError, match=r"a score history is a directory .* not one file"):
        open_history_writer(str(tmp_path / "h.parquet"), as_of=D("2026-03-01"))
    with pytest.raises(LeadscoreError, match="no score history here"):
        open_history(str(tmp_path / "nothing"))
    with pytest.raises(LeadscoreError, match="not a score history"):
        open_history(str(foreign))
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = sa.create_engine(url)
    pd.DataFrame({"lead_id": ["L1"]}).to_sql("score_history", engine, index=False)
    engine.dispose()
    with pytest.raises(LeadscoreError, match=r"not a score history \(no column\(s\) as_of"):
        _append(url, "2026-03-01", _rows("2026-03-01", [0.2, 0.4, 0.6]))
    with pytest.raises(LeadscoreError, match="no score history table here"):
        open_history(url, table="nothing_here")
    with pytest.raises(LeadscoreError, match="--history-table needs a database URL"):
        open_history(str(tmp_path / "history"), table="t")


@pytest.mark.parametrize("store", ["parquet", "sqlite"])
def test_changes_since_reads_the_window_from_either_store(tmp_path, store):
    location = _locations(tmp_path)[store == "sqlite"]
    _append(location, "2026-03-01", _rows("2026-03-01", [0.2, 0.4, 0.6]))
    _append(location, "2026-03-08", _rows("2026-03-08", [0.3, 0.4, 0.5]))
    _append(location, "2026-03-15", _rows("2026-03-15", [0.7, 0.4, 0.4], model="sha256:bbb"))
    report = changes_since(open_history(location), since=D("2026-03-03"))
    assert report.window.baseline == D("2026-03-01")
    assert len(report.window.snapshots) == 3
    leads = report.leads.set_index("lead_id")
    assert list(report.leads["lead_id"]) == ["L1", "L3"]  # L1 changed quadrant; L2 did not move
    assert leads.loc["L1", "trend"] == "rising" and leads.loc["L3", "trend"] == "falling"
    assert leads.loc["L1", "snapshots"] == 3
    assert leads.loc["L1", "reasons"][0]["column"] == "web_visits_30d"
    assert np.isclose(leads.loc["L1", "reasons"][0]["delta"], 0.5)
    assert report.notes and "sha256:bbb" in report.notes[0]


def test_a_model_change_inside_the_window_is_said(tmp_path):
    location = str(tmp_path / "history")
    _append(location, "2026-03-01", _rows("2026-03-01", [0.2, 0.4, 0.6]))
    _append(location, "2026-03-08", _rows("2026-03-08", [0.3, 0.4, 0.5], model="sha256:bbb"))
    _append(location, "2026-03-15", _rows("2026-03-15", [0.7, 0.4, 0.4]))
    report = changes_since(open_history(location), since=D("2026-03-01"))
    assert report.notes == ("the trends span 2 models (sha256:aaa, sha256:bbb): part of them is the model's",)


def test_two_writers_creating_the_same_new_history_lose_no_snapshot(tmp_path):
    location = str(tmp_path / "history")
    with open_history_writer(location, as_of=D("2026-03-01")) as first:
        first.write(_rows("2026-03-01", [0.2, 0.4, 0.6]))
        # Meanwhile another run creates the history with its own snapshot.
        _append(location, "2026-03-08", _rows("2026-03-08", [0.3, 0.4, 0.5]))
    history = open_history(location)
    assert history.snapshots() == [D("2026-03-01"), D("2026-03-08")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history"]  # no temporaries left
