"""Bad-input corpus: tiny files through the real `leadscore score` / `leadscore featurize` CLI.

Every case asserts the exit code, that the message names the column and the problem, and, where
the input is refused, that the previous output is byte for byte what it was.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.models.persistence import save_scorer

REPO_ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


# -- helpers ----------------------------------------------------------------------------------------
def run(*args) -> tuple[int, str]:
    result = runner.invoke(app, [*map(str, args)])
    # Rich wraps long lines at the terminal width: compare text with whitespace collapsed.
    return result.exit_code, " ".join(result.output.split())


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def snapshot(path: Path) -> dict[str, bytes]:
    """Every byte under ``path`` (a file, a directory, or a SQLite database file)."""
    if path.is_dir():
        return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    return {path.name: path.read_bytes()}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, trained_scorer) -> Path:
    scorer, _ = trained_scorer
    d = tmp_path_factory.mktemp("models")
    save_scorer(scorer, d / "lead_scorer.json")
    return d


def model_with(tmp_path: Path, trained_scorer, **policy) -> Path:
    """A copy of the scorer whose contract has other policies (params `contract` at training time)."""
    scorer = copy.deepcopy(trained_scorer[0])
    scorer.extras["contract"]["policy"].update(policy)
    path = tmp_path / "policy_scorer.json"
    save_scorer(scorer, path)
    return path


@pytest.fixture(scope="module")
def leads(trained_scorer) -> pd.DataFrame:
    """40 real raw leads (all raw columns), ids L..."""
    _, raw = trained_scorer
    return raw.iloc[100:140].reset_index(drop=True)


@pytest.fixture
def previous(tmp_path, model_dir, leads):
    """A previous output (from a good run) at each kind of target; returns {kind: (target, bytes)}."""
    good = write(leads, tmp_path / "good.parquet")

    def make(name: str) -> tuple[Path, dict[str, bytes]]:
        target = tmp_path / name
        code, output = run("score", "--no-progress", "--model", model_dir, "--input", good, "--output", target)
        assert code == 0, output
        return target, snapshot(target)

    return make


def score_refused(model, bad: Path, target: Path, before: dict[str, bytes], *extra) -> str:
    code, output = run("score", "--no-progress", "--model", model, "--input", bad, "--output", target, *extra)
    assert code == 2, output
    assert "input refused, nothing written" in output
    assert "Traceback" not in output
    assert snapshot(target) == before
    leftovers = [p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}")]
    assert leftovers == []
    return output


def score_ok(model, inp: Path, target: Path, *extra) -> str:
    code, output = run("score", "--no-progress", "--model", model, "--input", inp, "--output", target, *extra)
    assert code == 0, output
    return output


# -- type errors: refused, whatever the chunk size ---------------------------------------------------
@pytest.mark.parametrize("chunk_size", [1, 7, 1000, 100_000])
def test_stray_text_in_a_numeric_column_is_refused_at_any_chunk_size(tmp_path, model_dir, leads, previous, chunk_size):
    target, before = previous("scores.parquet")
    bad = leads.astype({"employees": object})
    bad.loc[33, "employees"] = "about 40"  # 1 value of 40 (2.5%): used to become missing at the default
    out = score_refused(model_dir, write(bad, tmp_path / "bad.csv"), target, before, "--chunk-size", chunk_size)
    assert "column 'employees' held numbers in training, but 1 value here is not a finite number" in out
    assert "'about 40' at row 34" in out


def test_numbers_in_a_text_column_are_refused(tmp_path, model_dir, leads, previous):
    target, before = previous("scores.parquet")
    bad = leads.assign(industry=np.arange(len(leads)))
    out = score_refused(model_dir, write(bad, tmp_path / "bad.parquet"), target, before)
    assert "column 'industry' held text in training, but 40 values here are numbers (e.g. 0 at row 1)" in out


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_numbers_are_refused(tmp_path, model_dir, leads, previous, value):
    target, before = previous("scores.parquet")
    bad = leads.astype({"annual_revenue": float})
    bad.loc[5, "annual_revenue"] = value
    out = score_refused(model_dir, write(bad, tmp_path / "bad.parquet"), target, before)
    assert (
        f"column 'annual_revenue' held numbers in training, but 1 value here is not a finite number (e.g. {value}"
        in out
    )


def test_infinity_written_as_text_in_a_csv_is_refused(tmp_path, model_dir, leads, previous):
    target, before = previous("scores.parquet")
    bad = leads.astype({"web_visits_30d": object})
    bad.loc[2, "web_visits_30d"] = "-Infinity"
    out = score_refused(model_dir, write(bad, tmp_path / "bad.csv"), target, before)
    assert "'web_visits_30d'" in out and "not a finite number" in out


def test_text_in_a_boolean_column_is_refused(tmp_path, model_dir, leads, previous):
    target, before = previous("scores.parquet")
    bad = leads.astype({"demo_requested": object})
    bad["demo_requested"] = np.where(bad["demo_requested"].astype(bool), "Y", "N")
    out = score_refused(model_dir, write(bad, tmp_path / "bad.csv"), target, before)
    assert "column 'demo_requested' held true/false in training, but 40 values here are not true/false/0/1" in out


def test_a_missing_column_is_refused(tmp_path, model_dir, leads, previous):
    target, before = previous("scores.parquet")
    code, out = run(
        "score", "--no-progress", "--model", model_dir,
        "--input", write(leads.drop(columns="bant_need"), tmp_path / "bad.parquet"), "--output", target,
    )  # fmt: skip
    assert code == 2 and "missing column(s) bant_need" in out
    assert snapshot(target) == before


# -- ids ----------------------------------------------------------------------------------------------
def test_a_null_id_is_refused(tmp_path, model_dir, leads, previous):
    target, before = previous("scores.parquet")
    bad = leads.copy()
    bad.loc[12, "lead_id"] = None
    out = score_refused(model_dir, write(bad, tmp_path / "bad.parquet"), target, before)
    assert "column 'lead_id' (the lead id): 1 missing id (first at row 13)" in out


def test_an_empty_id_in_a_csv_is_refused(tmp_path, model_dir, leads, previous):
    target, before = previous("scores.csv")
    bad = leads.copy()
    bad.loc[0, "lead_id"] = ""
    out = score_refused(model_dir, write(bad, tmp_path / "bad.csv"), target, before)
    assert "'lead_id' (the lead id): 1 missing id (first at row 1)" in out


def test_duplicate_ids_in_different_chunks_are_refused(tmp_path, model_dir, leads, previous):
    target, before = previous("scores.parquet")
    bad = leads.copy()
    bad.loc[35, "lead_id"] = bad.loc[3, "lead_id"]
    dup = bad.loc[3, "lead_id"]
    out = score_refused(model_dir, write(bad, tmp_path / "bad.parquet"), target, before, "--chunk-size", 10)
    assert f"'lead_id' (the lead id) must be unique across the whole input: 1 repeated id (e.g. '{dup}')" in out


def test_duplicate_ids_in_one_chunk_are_refused(tmp_path, model_dir, leads, previous):
    target, before = previous("scores.parquet")
    bad = pd.concat([leads, leads.iloc[[7, 8]]], ignore_index=True)
    out = score_refused(model_dir, write(bad, tmp_path / "bad.parquet"), target, before)
    assert "2 repeated ids" in out


def test_zero_padded_ids_stay_text(tmp_path, model_dir, leads):
    inp = leads.assign(lead_id=[f"{i:07d}" for i in range(42, 82)])
    out = tmp_path / "scores.csv"
    score_ok(model_dir, write(inp, tmp_path / "leads.csv"), out)
    ids = pd.read_csv(out, dtype={"lead_id": str})["lead_id"]
    assert ids.iloc[0] == "0000042" and ids.tolist() == inp["lead_id"].tolist()
    assert out.read_text().splitlines()[1].startswith("0000042,")


def test_integer_ids_come_out_as_text(tmp_path, model_dir, leads):
    inp = leads.assign(lead_id=np.arange(1, 41))
    out = tmp_path / "scores.parquet"
    score_ok(model_dir, write(inp, tmp_path / "leads.parquet"), out)
    assert pd.read_parquet(out)["lead_id"].tolist() == [str(i) for i in range(1, 41)]


def test_a_scorer_without_a_contract_still_refuses_duplicate_ids_across_chunks(tmp_path, trained_scorer, leads):
    scorer = copy.deepcopy(trained_scorer[0])
    scorer.extras.pop("contract")
    save_scorer(scorer, tmp_path / "old.json")
    bad = leads.copy()
    bad.loc[30, "lead_id"] = bad.loc[0, "lead_id"]
    target = tmp_path / "scores.parquet"
    target.write_bytes(b"previous")
    out = score_refused(
        tmp_path / "old.json",
        write(bad, tmp_path / "bad.parquet"),
        target,
        {target.name: b"previous"},
        "--chunk-size",
        10,
    )
    assert "must be unique across the whole input" in out


# -- warnings: scored, one line per problem with counts and an example ------------------------------------
def test_huge_numbers_are_warned(tmp_path, model_dir, leads):
    inp = leads.astype({"annual_revenue": float})
    inp.loc[4, "annual_revenue"] = 1e308
    out = score_ok(model_dir, write(inp, tmp_path / "leads.parquet"), tmp_path / "scores.parquet")
    assert "column 'annual_revenue': 1 value far outside the training range" in out
    assert "1e+308 at row 5" in out and "(params contract.out_of_range: warn)" in out


def test_negative_counts_are_warned(tmp_path, model_dir, leads):
    inp = leads.copy()
    inp.loc[[1, 2], "web_visits_30d"] = -4
    out = score_ok(model_dir, write(inp, tmp_path / "leads.parquet"), tmp_path / "scores.parquet")
    assert "column 'web_visits_30d': 2 values far outside the training range" in out and "never negative" in out


def test_booleans_other_than_0_1_are_warned(tmp_path, model_dir, leads):
    inp = leads.astype({"trial_started": int})
    inp.loc[6, "trial_started"] = 2
    out = score_ok(model_dir, write(inp, tmp_path / "leads.parquet"), tmp_path / "scores.parquet")
    assert "column 'trial_started' (true/false in training): 1 number other than 0/1" in out


def test_unseen_categories_are_warned_with_counts(tmp_path, model_dir, leads):
    inp = leads.copy()
    inp.loc[[3, 9, 20], "lead_source"] = ["tiktok", "TikTok ", "podcast"]
    out = score_ok(model_dir, write(inp, tmp_path / "leads.parquet"), tmp_path / "scores.parquet", "--chunk-size", 5)
    assert "column 'lead_source': 3 values in 2 categories never seen in training (e.g. 'tiktok' at row 4)" in out


def test_bant_recorded_as_y_n_is_warned_by_name(tmp_path, model_dir, leads):
    inp = leads.copy()
    inp["bant_budget"] = inp["bant_budget"].map({"yes": "Y", "no": "N"})
    out = score_ok(model_dir, write(inp, tmp_path / "leads.parquet"), tmp_path / "scores.parquet")
    assert "BANT criterion 'budget' (column 'bant_budget', in ['yes']) passed for" in out
    assert "but for none of these 40" in out and "'Y'/'N'" in out
    assert not pd.read_parquet(tmp_path / "scores.parquet")["bant_qualified"].isna().any()


def test_an_empty_column_is_warned(tmp_path, model_dir, leads):
    inp = leads.assign(pages_per_visit=np.nan)
    out = score_ok(model_dir, write(inp, tmp_path / "leads.parquet"), tmp_path / "scores.parquet")
    assert "column 'pages_per_visit' is empty in the whole input; scored as missing" in out


# -- policies (params `contract`, stored with the scorer) ----------------------------------------------
def test_type_error_warn_scores_the_value_as_missing(tmp_path, trained_scorer, leads):
    model = model_with(tmp_path, trained_scorer, type_error="warn")
    inp = leads.astype({"employees": object})
    inp.loc[0, "employees"] = "lots"
    target = tmp_path / "scores.parquet"
    out = score_ok(model, write(inp, tmp_path / "leads.csv"), target)
    assert "'employees'" in out and "(params contract.type_error: warn)" in out
    missing = leads.assign(employees=leads["employees"].astype(float))
    missing.loc[0, "employees"] = np.nan
    expected = trained_scorer[0].predict(missing.iloc[[0]])["fit_probability"].iloc[0]
    assert pd.read_parquet(target)["fit_probability"].iloc[0] == pytest.approx(expected)


def test_out_of_range_refuse(tmp_path, trained_scorer, leads):
    model = model_with(tmp_path, trained_scorer, out_of_range="refuse")
    target = tmp_path / "scores.parquet"
    target.write_bytes(b"previous")
    inp = leads.copy()
    inp.loc[5, "employees"] = -1
    out = score_refused(model, write(inp, tmp_path / "leads.parquet"), target, {target.name: b"previous"})
    assert "'employees'" in out and "(params contract.out_of_range: refuse)" in out


def test_unseen_category_refuse(tmp_path, trained_scorer, leads):
    model = model_with(tmp_path, trained_scorer, unseen_category="refuse")
    target = tmp_path / "scores.parquet"
    target.write_bytes(b"previous")
    inp = leads.assign(country="Atlantis")
    out = score_refused(model, write(inp, tmp_path / "leads.parquet"), target, {target.name: b"previous"})
    assert "column 'country': 40 values in 1 category never seen in training" in out


def test_ignore_is_silent(tmp_path, trained_scorer, leads):
    model = model_with(tmp_path, trained_scorer, unseen_category="ignore", bant_never_passes="ignore")
    inp = leads.copy()
    inp["bant_budget"] = "Y"
    # The contract says nothing; the drift report (which would rightly name the column) is not asked for.
    out = score_ok(model, write(inp, tmp_path / "leads.parquet"), tmp_path / "scores.parquet", "--no-drift")
    assert "bant_budget" not in out and "BANT" not in out


# -- every kind of output is left alone on a refusal ----------------------------------------------------
@pytest.mark.parametrize("name", ["scores.csv", "scores_dir"])
def test_csv_and_directory_outputs_are_untouched_on_refusal(tmp_path, model_dir, leads, previous, name):
    target, before = previous(name)
    bad = leads.astype({"employees": object})
    bad.loc[39, "employees"] = "many"
    out = score_refused(model_dir, write(bad, tmp_path / "bad.csv"), target, before, "--chunk-size", 10)
    assert "'employees'" in out


def test_sqlite_input_and_output_table_untouched_on_refusal(tmp_path, model_dir, leads):
    db = tmp_path / "crm.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    leads.to_sql("leads", engine, index=False)
    bad = leads.astype({"emails_opened": object})
    bad.loc[17, "emails_opened"] = "seven"
    bad.to_sql("bad_leads", engine, index=False)
    engine.dispose()
    url = f"sqlite:///{db}"
    code, out = run("score", "--no-progress", "--model", model_dir, "--input", url, "--table", "leads",
                    "--output", url, "--output-table", "scores")  # fmt: skip
    assert code == 0, out
    before = pd.read_sql("SELECT * FROM scores", sa.create_engine(url))
    code, out = run("score", "--no-progress", "--model", model_dir, "--input", url, "--table", "bad_leads",
                    "--output", url, "--output-table", "scores", "--chunk-size", 5)  # fmt: skip
    out = out
    assert (
        code == 2 and "column 'emails_opened' held numbers in training, but 1 value here is not a finite number" in out
    )
    pd.testing.assert_frame_equal(pd.read_sql("SELECT * FROM scores", sa.create_engine(url)), before)


@pytest.mark.slow  # starts a Dask cluster
def test_dask_refuses_duplicates_across_partitions_before_writing(tmp_path, model_dir, leads):
    pytest.importorskip("dask.distributed", reason="Dask is an optional extra: pip install 'leadscore[dask]'")
    parts = tmp_path / "leads"
    parts.mkdir()
    write(leads.iloc[:20], parts / "part-0.parquet")
    write(leads.iloc[[5]].assign(lead_id=leads.loc[5, "lead_id"]), parts / "part-1.parquet")
    target = tmp_path / "scores_dir"
    code, out = run("score", "--no-progress", "--model", model_dir, "--input", parts, "--output", target,
                    "--engine", "dask")  # fmt: skip
    assert code == 2, out
    assert f"must be unique across the whole input: 1 repeated id (e.g. '{leads.loc[5, 'lead_id']}')" in out
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".scores_dir")] == []


def test_serving_path_applies_the_same_contract(trained_scorer, leads):
    """LeadScorer.predict (what the MLflow model and serving call) refuses what batch scoring refuses."""
    from leadscore.errors import DataValidationError

    scorer = trained_scorer[0]
    with pytest.raises(DataValidationError, match=r"'lead_id'.*1 missing id"):
        scorer.predict(leads.assign(lead_id=[None, *leads["lead_id"].iloc[1:]]))
    with pytest.raises(DataValidationError, match="'industry' held text in training"):
        scorer.predict(leads.assign(industry=7))


# -- training side: `leadscore featurize` -------------------------------------------------------------
@pytest.fixture
def training(tmp_path):
    """A tiny raw export, params with low guards, and a previous good featurize output."""
    from leadscore.data.synthetic import generate_leads

    raw, _ = generate_leads(400, seed=3)
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["guards"] = {"min_closed": 10, "min_wins": 2, "warn_closed": 10, "warn_wins": 2}
    params["features"]["min_category_count"] = 5
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = tmp_path / "out"
    args = ["--fit-out", out / "fit.parquet", "--intent-out", out / "intent.parquet",
            "--featurizer-out", out / "featurizer.json"]  # fmt: skip

    def featurize(frame: pd.DataFrame, params_path: Path = tmp_path / "params.yaml") -> tuple[int, str]:
        return run("featurize", "--raw", write(frame, tmp_path / "raw.parquet"), *args, "--params", params_path)

    code, output = featurize(raw)
    assert code == 0, output
    return {"raw": raw, "params": params, "featurize": featurize, "out": out, "before": snapshot(out), "dir": tmp_path}


def _day_month(raw: pd.DataFrame, *, max_day: int) -> pd.DataFrame:
    created = raw["created_at"]
    day = np.minimum(created.dt.day, max_day)
    text = [f"{d:02d}/{m:02d}/{y}" for d, m, y in zip(day, created.dt.month, created.dt.year, strict=True)]
    return raw.assign(created_at=text)


def test_ambiguous_day_month_dates_are_refused(training):
    code, out = training["featurize"](_day_month(training["raw"], max_day=12))
    assert code == 2, out
    assert "column 'created_at' has dates that read both day-first and month-first" in out
    assert "columns.date_format" in out
    assert snapshot(training["out"]) == training["before"]


def test_date_format_resolves_the_ambiguity(training):
    params = copy.deepcopy(training["params"])
    params["columns"]["date_format"] = "%d/%m/%Y"
    path = training["dir"] / "params_dmy.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    code, out = training["featurize"](_day_month(training["raw"], max_day=12), path)
    assert code == 0, out


def test_day_first_dates_with_days_above_12_are_read_day_first(training):
    raw = training["raw"]
    code, out = training["featurize"](_day_month(raw, max_day=31))
    assert code == 0, out
    split_iso = pd.read_parquet(training["out"] / "fit.parquet")["split"]
    code, _ = training["featurize"](raw)
    assert (pd.read_parquet(training["out"] / "fit.parquet")["split"] == split_iso).all()


def test_mixed_day_and_month_first_dates_are_refused(training):
    raw = _day_month(training["raw"], max_day=31)
    raw.loc[0, "created_at"] = "03/25/2025"
    raw.loc[1, "created_at"] = "25/03/2025"
    code, out = training["featurize"](raw)
    assert code == 2 and "'created_at' mixes day-first and month-first dates" in out
    assert snapshot(training["out"]) == training["before"]


def test_future_dates_are_warned(training):
    raw = training["raw"].copy()
    raw.loc[raw["status"] != "open", "created_at"] = raw["created_at"] + pd.DateOffset(years=20)
    code, out = training["featurize"](raw)
    assert code == 0, out
    assert "column 'created_at' has" in out and "dates later than now" in out


def test_identical_dates_are_warned(training):
    code, out = training["featurize"](training["raw"].assign(created_at=pd.Timestamp("2025-01-01")))
    assert code == 0, out
    assert "column 'created_at' holds the same value" in out and "order them by id" in out


def test_duplicated_yaml_key_is_refused(training):
    text = (training["dir"] / "params.yaml").read_text()
    path = training["dir"] / "params_dup.yaml"
    path.write_text(text + "\nsplit:\n  method: stratified\n")
    code, out = training["featurize"](training["raw"], path)
    assert code == 2 and "duplicated key 'split'" in out and "the last one would silently win" in out
    assert snapshot(training["out"]) == training["before"]
    shutil.rmtree(training["out"])
