"""The commands for people: `leadscore explain LEAD_ID` (one lead's panel) and `leadscore summary`.

The stage commands are tested with their modules (tests/pipeline/), `leadscore score` in
tests/scoring/test_cli_score.py.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.models.persistence import save_display, save_scorer


@pytest.fixture(scope="module")
def files(trained_scorer, tmp_path_factory):
    scorer, raw = trained_scorer
    d = tmp_path_factory.mktemp("explain_cli")
    save_scorer(scorer, d / "lead_scorer.json")
    save_display(scorer.display, d / "display.json")
    raw.to_parquet(d / "leads.parquet")
    return d, raw


def test_explain_prints_the_panel(files, trained_scorer):
    d, raw = files
    scorer, _ = trained_scorer
    lead = raw[raw["status"] == "open"].iloc[0]
    result = CliRunner().invoke(
        app,
        ["explain", lead["lead_id"], "--scorer", str(d / "lead_scorer.json"), "--raw", str(d / "leads.parquet")],
        terminal_width=160,
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Lead {lead['lead_id']}" in out
    for text in ("conversion", "Reasons (effects in log-odds)", "BANT (", "budget", "timeline"):
        assert text in out
    # The panel shows this lead's own numbers: its conversion probability and its BANT count.
    scored = scorer.predict(raw[raw["lead_id"] == lead["lead_id"]], explain=True).iloc[0]
    assert f"{scored['conversion_probability']:.1%}" in out
    assert f"BANT ({scored['bant_criteria_met']} of 4 met" in out
    assert out.count("pass") + out.count("fail") == 4  # one verdict per criterion
    assert " fit " in out.lower() and ("thanks to" in out or "held back by" in out)


def test_explain_unknown_lead_is_one_clear_error(files):
    d, _ = files
    result = CliRunner().invoke(
        app, ["explain", "NO-SUCH-LEAD", "--scorer", str(d / "lead_scorer.json"), "--raw", str(d / "leads.parquet")]
    )
    assert result.exit_code == 2
    assert "NO-SUCH-LEAD" in result.output and "not found" in result.output
    assert "Traceback" not in result.output


def test_summary_prints_the_table_of_a_metrics_file(tmp_path):
    import json

    metric = {"auc": 0.8, "pr_auc": 0.5, "log_loss": 0.4, "brier": 0.1, "ece": 0.02}
    metrics = {
        "test": {"conversion": metric, "bant": {**metric, "auc": 0.6}},
        "capacity": {"bant_volume": 10, "bant_conversions": 3, "model_conversions_at_bant_volume": 5, "ratio": 5 / 3},
        "quadrants": {},
    }
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    result = CliRunner().invoke(app, ["summary", str(tmp_path / "metrics.json")], terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "Test split: model vs BANT" in result.output and "ratio 1.667" in result.output


def test_summary_of_a_missing_file_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["summary", str(tmp_path / "metrics.json")], terminal_width=200)
    assert result.exit_code == 2
    assert "metrics.json: not found (run `dvc repro` first)" in result.output
    assert "Traceback" not in result.output
