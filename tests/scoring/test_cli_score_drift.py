"""`leadscore score` writes the batch's drift report (issue 11): through the real CLI, real files."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.models.persistence import save_scorer

runner = CliRunner()


@pytest.fixture
def leads(tmp_path, sample_leads):
    path = tmp_path / "leads.parquet"
    sample_leads.iloc[:300].to_parquet(path, index=False)
    return path


def score(*args):
    return runner.invoke(app, ["score", "--no-progress", *map(str, args)])


def flat(text: str) -> str:
    """Output without whitespace: Rich wraps long lines (and paths) at the terminal width."""
    return "".join(text.split())


def test_report_and_chart_beside_the_output_with_a_summary_line(tmp_path, models_dir, leads):
    out = tmp_path / "scores.parquet"
    result = score("--model", models_dir, "--input", leads, "--output", out)
    assert result.exit_code == 0, result.output
    report_path, chart = tmp_path / "scores.parquet.drift.json", tmp_path / "scores.parquet.drift.png"
    report = json.loads(report_path.read_text())
    assert report["rows"] == 300 and report["input"] == str(leads) and report["output"] == str(out)
    assert report["model"]["name"] == "lead_scorer" and report["model"]["version"].startswith("sha256:")
    assert set(report["scores"]) == {"fit_probability", "intent_probability", "conversion_probability"}
    assert {"job_title", "pricing_page_views"} <= set(report["columns"])
    assert all({"psi", "status"} <= e.keys() for e in [*report["columns"].values(), *report["scores"].values()])
    # Leads of the model's own world: nothing alerts.
    assert all(e["status"] != "alert" for e in report["columns"].values())
    assert chart.read_bytes()[:4] == b"\x89PNG"
    assert flat(f"{report['summary']} -> {report_path}, {chart}") in flat(result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["models", "leads.parquet", "scores.parquet", report_path.name, chart.name]
    ), "nothing else is written (no temporaries left)"
    # A rerun replaces its own report and chart.
    assert score("--model", models_dir, "--input", leads, "--output", out).exit_code == 0


# One-row chunks cost ~0.25 s each (scoring + binning ~26 columns per call): ~15 s for 40 rows.
@pytest.mark.slow
def test_the_same_report_at_any_chunk_size(tmp_path, models_dir, sample_leads):
    leads = tmp_path / "leads.csv"
    shifted = sample_leads.iloc[:40].copy()
    shifted["pricing_page_views"] = shifted["pricing_page_views"] + 5  # something to report
    shifted.to_csv(leads, index=False)
    texts = []
    for chunk in (1, 7, 100_000):
        out = tmp_path / "scores.csv"
        drift = tmp_path / "drift.json"
        result = score(
            "--model", models_dir, "--input", leads, "--output", out, "--chunk-size", chunk, "--drift-out", drift
        )
        assert result.exit_code == 0, result.output
        texts.append(drift.read_text())
    assert texts[0] == texts[1] == texts[2]
    report = json.loads(texts[0])
    assert report["columns"]["pricing_page_views"]["status"] == "alert"
    assert (tmp_path / "drift.png").read_bytes()[:4] == b"\x89PNG", "the chart goes beside a named report"


def test_a_default_path_never_replaces_a_strangers_file(tmp_path, models_dir, leads):
    out = tmp_path / "scores.parquet"
    stranger = tmp_path / "scores.parquet.drift.json"
    stranger.write_text('{"mine": true}\n')
    result = score("--model", models_dir, "--input", leads, "--output", out)
    assert result.exit_code == 2
    assert flat(f"{stranger}: exists and was not written by leadscore as a drift report") in flat(result.output)
    assert not out.exists(), "refused before any work"
    assert stranger.read_text() == '{"mine": true}\n'
    # Named explicitly, the user means it: it is replaced. --no-drift writes no report at all.
    result = score("--model", models_dir, "--input", leads, "--output", out, "--drift-out", stranger)
    assert result.exit_code == 0, result.output
    assert "summary" in json.loads(stranger.read_text())
    other = tmp_path / "other.parquet"
    result = score("--model", models_dir, "--input", leads, "--output", other, "--no-drift")
    assert result.exit_code == 0 and not (tmp_path / "other.parquet.drift.json").exists()
    result = score("--model", models_dir, "--input", leads, "--output", other, "--no-drift", "--drift-out", "x.json")
    assert result.exit_code == 2 and "--no-drift: cannot be combined" in result.output


def test_drift_paths_may_not_be_the_input_or_output(tmp_path, models_dir, leads):
    out = tmp_path / "scores.parquet"
    result = score("--model", models_dir, "--input", leads, "--output", out, "--drift-out", leads)
    assert result.exit_code == 2 and flat(f"{leads}: is the --input itself") in flat(result.output)
    result = score("--model", models_dir, "--input", leads, "--output", out, "--drift-chart", out)
    assert result.exit_code == 2 and flat(f"{out}: is the --output itself") in flat(result.output)
    assert not out.exists()


def test_database_output_reports_only_when_asked(tmp_path, models_dir, leads):
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    common = ("--model", models_dir, "--input", leads, "--output", url, "--output-table", "lead_scores")
    result = score(*common)
    assert result.exit_code == 0, result.output
    assert flat("no drift report for a database output: give --drift-out PATH") in flat(result.output)
    drift = tmp_path / "reports" / "drift.json"
    result = score(*common, "--drift-out", drift)
    assert result.exit_code == 0, result.output
    assert json.loads(drift.read_text())["rows"] == 300 and (tmp_path / "reports" / "drift.png").exists()


def test_a_model_without_a_reference(tmp_path, loaded_model, leads):
    path = tmp_path / "old.json"
    scorer = loaded_model.scorer
    save_scorer(
        dataclasses.replace(scorer, extras={k: v for k, v in scorer.extras.items() if k != "drift_reference"}), path
    )
    out = tmp_path / "scores.parquet"
    result = score("--model", path, "--input", leads, "--output", out)
    assert result.exit_code == 0, result.output
    assert flat("no drift report: old sha256:") in flat(result.output) and "hasnodriftreference" in flat(result.output)
    assert out.exists() and not (tmp_path / "scores.parquet.drift.json").exists()
    out.unlink()
    result = score("--model", path, "--input", leads, "--output", out, "--drift-out", tmp_path / "d.json")
    assert result.exit_code == 2 and "themodelhasnodriftreference" in flat(result.output)
    assert not out.exists() and not (tmp_path / "d.json").exists()


def test_a_failed_run_writes_no_report(tmp_path, models_dir, sample_leads):
    leads = tmp_path / "leads.parquet"
    bad = sample_leads.iloc[:50].copy()
    bad["lead_id"] = bad["lead_id"].iloc[0]  # duplicate ids: refused over the whole input
    bad.to_parquet(leads, index=False)
    out = tmp_path / "scores.parquet"
    result = score("--model", models_dir, "--input", leads, "--output", out, "--chunk-size", 10)
    assert result.exit_code == 2, result.output
    assert not out.exists() and not (tmp_path / "scores.parquet.drift.json").exists()
    assert np.all([p.name in ("models", "leads.parquet") for p in tmp_path.iterdir()])


# Starts a 2-worker Dask LocalCluster: tens of seconds on a loaded machine.
@pytest.mark.slow
def test_dask_engine_gives_the_single_engines_report(tmp_path, models_dir, sample_leads):
    pytest.importorskip("dask.distributed", reason="Dask is an optional extra: pip install 'leadscore[dask]'")
    leads_dir = tmp_path / "leads"
    leads_dir.mkdir()
    for i, part in enumerate((sample_leads.iloc[:500], sample_leads.iloc[500:700], sample_leads.iloc[700:1000])):
        part.to_parquet(leads_dir / f"part-{i}.parquet", index=False)
    single = tmp_path / "single.parquet"
    assert score("--model", models_dir, "--input", leads_dir, "--output", single, "--chunk-size", 333).exit_code == 0
    out = tmp_path / "dask_scores"
    result = score("--model", models_dir, "--input", leads_dir, "--output", out, "--engine", "dask")
    assert result.exit_code == 0, result.output
    got = json.loads((tmp_path / "dask_scores.drift.json").read_text())
    expected = json.loads((tmp_path / "single.parquet.drift.json").read_text())
    assert got["rows"] == 1000 and got["output"] == str(out)
    for key in ("columns", "scores", "summary"):
        assert got[key] == expected[key]
    assert (tmp_path / "dask_scores.drift.png").read_bytes()[:4] == b"\x89PNG"
