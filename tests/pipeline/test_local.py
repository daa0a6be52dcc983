"""Running dvc.yaml's stages in-process under a scratch directory (tests, benchmarks, notebooks)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leadscore.errors import ConfigError
from leadscore.pipeline.local import LocalRun, run_stages
from leadscore.pipeline.paths import stage_commands

TWO_STAGES = """
stages:
  generate:
    cmd: python -m leadscore.pipeline.generate --leads-out raw/leads.parquet --truth-out raw/truth.parquet
  generate_again:
    cmd: python -m leadscore.pipeline.generate --leads-out again/leads.parquet --truth-out again/truth.parquet
  predict:
    cmd: python -m leadscore.pipeline.predict --raw raw/leads.parquet --out a.parquet --out b.csv --explain
"""


@pytest.fixture
def dvc_yaml(tmp_path) -> Path:
    path = tmp_path / "project" / "dvc.yaml"
    path.parent.mkdir()
    path.write_text(TWO_STAGES)
    return path


@pytest.fixture
def tiny(params):
    synthetic = params.data.synthetic.model_copy(update={"n_leads": 50})
    return params.model_copy(update={"data": params.data.model_copy(update={"synthetic": synthetic})})


def test_run_stages_reroots_every_path_under_workdir(tiny, dvc_yaml, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a path left relative would land here
    workdir = tmp_path / "scratch"
    run = run_stages(tiny, workdir=workdir, dvc_yaml=dvc_yaml, through="generate_again")
    assert run.path("generate", "leads_out") == workdir / "raw" / "leads.parquet"
    assert len(pd.read_parquet(run.path("generate", "leads_out"))) == 50
    assert run.path("generate_again", "truth_out").is_file()
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet"))
    assert written == [
        "scratch/again/leads.parquet",
        "scratch/again/truth.parquet",
        "scratch/raw/leads.parquet",
        "scratch/raw/truth.parquet",
    ]
    assert list(run.commands) == ["generate", "generate_again"]  # only the stages that ran


def test_run_stages_skips_what_it_is_told_to(tiny, dvc_yaml, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = run_stages(tiny, workdir=tmp_path / "w", dvc_yaml=dvc_yaml, through="generate_again", skip=("generate",))
    assert run.path("generate_again", "leads_out").is_file()
    assert not run.path("generate", "leads_out").exists()


def test_unknown_through_is_a_config_error_listing_the_stages(tiny, dvc_yaml, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ConfigError, match=r"no stage 'evaluate' \(stages: \['generate', 'generate_again', 'predict'\]\)"
    ):
        run_stages(tiny, workdir=tmp_path / "w", dvc_yaml=dvc_yaml, through="evaluate")
    assert not (tmp_path / "w").exists()  # nothing ran


def test_local_run_paths_single_repeated_and_flags(dvc_yaml, tmp_path):
    run = LocalRun(workdir=tmp_path, commands=stage_commands(dvc_yaml))
    assert run.paths("predict", "out") == [tmp_path / "a.parquet", tmp_path / "b.csv"]
    assert run.paths("predict", "raw") == [tmp_path / "raw" / "leads.parquet"]
    with pytest.raises(ConfigError, match=r"stage 'predict' option 'out' is not a single path"):
        run.path("predict", "out")
    with pytest.raises(ConfigError, match=r"option 'explain' is not a single path"):
        run.path("predict", "explain")  # a flag is not a path


def test_small_params_shrinks_data_and_budget_and_nothing_else(params):
    from leadscore.pipeline.local import small_params

    small = small_params(params, n_leads=1234, n_estimators=40, learning_rate=0.2)
    assert small.data.synthetic.n_leads == 1234
    for group in (small.train.fit, small.train.intent):
        assert (group.n_estimators, group.learning_rate) == (40, 0.2)
    assert small.train.early_stopping_rounds == min(params.train.early_stopping_rounds, 20)
    assert small.train.fit.num_leaves == params.train.fit.num_leaves and small.features == params.features


def test_a_run_already_made_is_found_from_its_directory(dvc_yaml, tmp_path):
    """LocalRun.through: the stages up to ``through``, re-rooted, without running anything."""
    run = LocalRun.through(tmp_path, dvc_yaml=dvc_yaml, through="generate_again")
    assert list(run.commands) == ["generate", "generate_again"]
    assert run.path("generate", "leads_out").parent.parent == tmp_path
    with pytest.raises(ConfigError, match=r"no stage 'evaluate'"):
        LocalRun.through(tmp_path, dvc_yaml=dvc_yaml, through="evaluate")
