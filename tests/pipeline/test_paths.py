"""The pipeline's paths, parsed from dvc.yaml's commands (the one place they are stated)."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from support import DVC_YAML

from leadscore.errors import ConfigError
from leadscore.pipeline.paths import stage_commands, stage_path

TINY = """
stages:
  predict:
    cmd: >-
      python -m leadscore.pipeline.predict --explain --raw data/raw.parquet
      --out a.parquet --out b.csv --out 'with space.csv'
  train_fit:
    cmd: python -m leadscore.pipeline.train --group fit --features-in f.parquet
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dvc.yaml"
    path.write_text(text)
    return path


def test_stage_commands_parse_options_lists_and_flags_in_file_order(tmp_path):
    commands = stage_commands(_write(tmp_path, TINY))
    assert list(commands) == ["predict", "train_fit"]
    predict = commands["predict"]
    assert predict.stage == "predict" and predict.module == "leadscore.pipeline.predict"
    assert predict.options == {
        "explain": True,  # a flag: followed by another option
        "raw": "data/raw.parquet",
        "out": ["a.parquet", "b.csv", "with space.csv"],  # repeated: a list, quoting respected
    }
    assert commands["train_fit"].options == {"group": "fit", "features_in": "f.parquet"}  # dashes -> underscores


def test_a_trailing_flag_is_true(tmp_path):
    path = _write(tmp_path, "stages:\n  p:\n    cmd: python -m leadscore.pipeline.predict --explain\n")
    commands = stage_commands(path)
    assert commands["p"].options == {"explain": True}


@pytest.mark.parametrize(
    ("cmd", "message"),
    [
        ("dvc repro", r"stage 'bad': cmd must start with 'python -m leadscore\.pipeline\.<stage>'"),
        ("python -m other.module --x y", r"stage 'bad': cmd must start with"),
        ("python -m leadscore.pipeline.predict stray --x y", r"stage 'bad': unexpected word 'stray' in cmd"),
    ],
)
def test_a_bad_cmd_is_a_config_error_naming_the_file_and_stage(tmp_path, cmd, message):
    path = _write(tmp_path, f"stages:\n  ok:\n    cmd: python -m leadscore.pipeline.generate\n  bad:\n    cmd: {cmd}\n")
    with pytest.raises(ConfigError, match=f"^{path}: {message}"):
        stage_commands(path)


def test_missing_or_empty_dvc_yaml(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: not found"):
        stage_commands(tmp_path / "nope.yaml")
    assert stage_commands(_write(tmp_path, "")) == {}


def test_stage_path_returns_one_path_or_names_what_is_wrong(tmp_path):
    path = _write(tmp_path, TINY)
    assert stage_path("predict", "raw", dvc_yaml=path) == Path("data/raw.parquet")
    with pytest.raises(ConfigError, match=r"no option --model-out in stage 'predict'"):
        stage_path("predict", "model_out", dvc_yaml=path)
    with pytest.raises(ConfigError, match=r"no option --raw in stage 'evaluate'"):
        stage_path("evaluate", "raw", dvc_yaml=path)
    with pytest.raises(ConfigError, match=r"stage 'predict' option 'out' is not a single path"):
        stage_path("predict", "out", dvc_yaml=path)


def test_every_stage_of_the_repos_dvc_yaml_runs_a_module_whose_run_takes_its_options():
    commands = stage_commands(DVC_YAML)
    assert {"generate", "featurize", "calibrate", "evaluate", "predict"} <= set(commands)
    for stage, command in commands.items():
        run = importlib.import_module(command.module).run
        unknown = set(command.options) - set(inspect.signature(run).parameters)
        assert not unknown, f"dvc.yaml stage {stage!r} passes {unknown}, which {command.module}.run does not take"
