"""`leadscore score --as-of --history` then `leadscore changes`, end to end through the real CLI.

A small batch of open leads is scored at two as-of dates; between them a few leads' intent columns
change (more activity for some, none for others). `changes` must name exactly those leads, in the
right direction, with intent reasons that changed.
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.models.persistence import save_display, save_scorer

runner = CliRunner()
UP, DOWN = ("U1", "U2", "U3"), ("D1", "D2")


@pytest.fixture(scope="module")
def batches(tmp_path_factory, loaded_model, sample_leads):
    """models/ (scorer + display.json) and two batches of 200 leads: as scored on 1 and on 15 March."""
    root = tmp_path_factory.mktemp("history_cli")
    models = root / "models"
    models.mkdir()
    save_scorer(loaded_model.scorer, models / "lead_scorer.json")
    save_display(loaded_model.scorer.display, models / "display.json")
    first = sample_leads.iloc[:200].copy()
    first["lead_id"] = [*UP, *DOWN, *(f"L{i}" for i in range(195))]
    # The rising leads start quiet, the falling ones busy.
    quiet = {"web_visits_30d": 0, "pricing_page_views": 0, "demo_requested": False, "trial_started": False}
    busy = {"web_visits_30d": 40, "pricing_page_views": 15, "demo_requested": True, "trial_started": True}
    for ids, values, days in ((UP, quiet, 150), (DOWN, busy, 0)):
        rows = first["lead_id"].isin(ids)
        for column, value in values.items():
            first.loc[rows, column] = value
        first.loc[rows, "days_since_last_activity"] = days
    second = first.copy()
    for ids, values, days in ((UP, busy, 0), (DOWN, quiet, 150)):
        rows = second["lead_id"].isin(ids)
        for column, value in values.items():
            second.loc[rows, column] = value
        second.loc[rows, "days_since_last_activity"] = days
    paths = {"models": models, "first": root / "first.parquet", "second": root / "second.parquet", "root": root}
    first.to_parquet(paths["first"], index=False)
    second.to_parquet(paths["second"], index=False)
    return paths


def _score(batches, batch: str, as_of: str, history: str, *extra) -> None:
    out = batches["root"] / f"scores-{as_of}.parquet"
    args = ["score", "--no-progress", "--model", str(batches["models"]), "--input", str(batches[batch])]
    result = runner.invoke(app, [*args, "--output", str(out), "--as-of", as_of, "--history", history, *extra])
    assert result.exit_code == 0, result.output
    assert "history: 200 leads ->" in result.output
    scores = pd.read_parquet(out)
    assert (scores["as_of"] == pd.Timestamp(as_of)).all()  # the lead table's scores, stamped with the date


def _changes(*args):
    return runner.invoke(app, ["changes", *map(str, args)], env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def histories(batches):
    """The two batches scored into a Parquet-directory history and a SQLite one (rerun of 15 March included)."""
    root = batches["root"]
    stores = {"parquet": str(root / "history"), "sqlite": f"sqlite:///{root / 'history.db'}"}
    for history in stores.values():
        _score(batches, "first", "2026-03-01", history)
        _score(batches, "second", "2026-03-15", history)
    _score(batches, "second", "2026-03-15", stores["parquet"])  # a rerun of the same day replaces it
    return stores


@pytest.mark.parametrize("store", ["parquet", "sqlite"])
def test_changes_names_the_leads_whose_intent_moved(batches, histories, tmp_path, store):
    history = histories[store]
    out = tmp_path / "changes.json"
    display = batches["models"] / "display.json"
    result = _changes("--history", history, "--since", "2026-03-05", "--out", out, "--display", display)
    assert result.exit_code == 0, result.output
    assert "Changes from 2026-03-01 to 2026-03-15 (2 snapshots): 200 leads in both" in result.output
    report = json.loads(out.read_text())
    moved = {lead["lead_id"]: lead for lead in report["leads"]}
    assert set(moved) == {*UP, *DOWN}  # nobody else changed
    for lead_id in UP:
        lead = moved[lead_id]
        assert lead["p_change"] > 0 and lead["trend"] == "rising", lead
        assert lead["reasons"] and all(r["group"] == "intent" for r in lead["reasons"])
        assert lead["reasons"][0]["change"] > 0
        assert lead_id in result.output
    for lead_id in DOWN:
        lead = moved[lead_id]
        assert lead["p_change"] < 0 and lead["trend"] == "falling", lead
        assert lead["reasons"] and lead["reasons"][0]["change"] < 0
    # Reasons are ranked by how much they moved.
    changes = [abs(r["change"]) for r in moved["U1"]["reasons"]]
    assert changes == sorted(changes, reverse=True)
    assert report["notes"] == [] and report["compared"] == 200


def test_changes_to_csv_one_lead(histories, tmp_path):
    out = tmp_path / "u1.csv"
    result = _changes("--history", histories["parquet"], "--since", "2026-03-01", "--lead", "U1", "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert table["lead_id"].tolist() == ["U1"]
    assert table.loc[0, "trend"] == "rising" and "(intent)" in table.loc[0, "reasons"]


def test_changes_errors_are_one_line(histories, tmp_path):
    result = _changes("--history", tmp_path / "nothing", "--since", "2026-03-01")
    assert result.exit_code == 2 and "no score history here" in result.output
    cases = {
        ("--since", "2026-02-01"): "before the first snapshot",
        ("--since", "2026-03-20"): "nothing newer to compare with",
        ("--since", "yesterday"): "expected an ISO date",
        ("--since", "2026-03-01", "--lead", "nobody"): "'nobody'",
        ("--since", "2026-03-01", "--out", str(tmp_path / "x.txt")): "expected a .csv or .json file",
        ("--since", "2026-03-01", "--top", "0"): "--top: expected a positive number",
    }
    for args, message in cases.items():
        result = _changes("--history", histories["sqlite"], *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output, (args, result.output)
    assert not (tmp_path / "x.txt").exists()


def test_score_history_options_are_checked(batches, tmp_path):
    base = ["score", "--no-progress", "--model", str(batches["models"]), "--input", str(batches["first"])]
    out = str(tmp_path / "s.parquet")
    result = runner.invoke(app, [*base, "--output", out, "--history", str(tmp_path / "h")])
    assert result.exit_code == 2 and "--history: needs --as-of DATE" in result.output
    result = runner.invoke(app, [*base, "--output", out, "--as-of", "1 March"])
    assert result.exit_code == 2 and "--as-of: expected an ISO date" in result.output
    assert not (tmp_path / "h").exists() and not (tmp_path / "s.parquet").exists()


def test_a_history_written_by_another_model_says_so(batches, histories, tmp_path, loaded_model):
    history = tmp_path / "history"
    shutil.copytree(histories["parquet"], history)
    other = tmp_path / "other_models"
    other.mkdir()
    # The same scorer with another threshold: another model file, another fingerprint.
    scorer = loaded_model.scorer
    save_scorer(dataclasses.replace(scorer, fit_threshold=scorer.fit_threshold + 0.01), other / "lead_scorer.json")
    _score({**batches, "models": other}, "second", "2026-03-22", str(history))
    result = _changes("--history", history, "--since", "2026-03-15")
    assert result.exit_code == 0, result.output
    assert "different models" in result.output and "part of each change is the model's" in result.output
