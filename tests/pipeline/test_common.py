"""What every stage command shares: a LeadscoreError becomes one line and exit code 2."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import pytest
import typer

from leadscore.errors import ConfigError, LeadscoreError
from leadscore.pipeline.common import friendly, load, status


def _stage(raw: str, *, fail: type[Exception] | None = None) -> str:
    """Read the raw table."""
    if fail is not None:
        raise fail(f"{raw}: missing column 'status'")
    return raw


def test_friendly_turns_a_leadscore_error_into_one_line_and_exit_code_2(capsys):
    command = friendly(_stage)
    with pytest.raises(typer.Exit) as exited:
        command("leads.csv", fail=ConfigError)
    assert exited.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["error: leads.csv: missing column 'status'"]


def test_a_long_error_stays_on_one_line(capsys):
    """Not wrapped at the console's width: a log (dvc repro, CI) shows the whole message on one line."""
    path = "/data/exports/" + "very_long_directory_name/" * 8 + "leads.csv"
    with pytest.raises(typer.Exit):
        friendly(_stage)(path, fail=ConfigError)
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {path}: missing column 'status'"]


def test_friendly_passes_results_through_and_keeps_the_signature():
    command = friendly(_stage)
    assert command("leads.csv") == "leads.csv"
    # Typer builds the command line from the signature: the wrapper must show the stage's own.
    assert inspect.signature(command) == inspect.signature(_stage)
    assert command.__name__ == "_stage" and command.__doc__ == "Read the raw table."


def test_friendly_lets_a_bug_raise_with_its_traceback():
    with pytest.raises(KeyError):
        friendly(_stage)("leads.csv", fail=KeyError)


def test_load_reads_params_and_names_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: parameters file not found"):
        load(tmp_path / "nope.yaml")
    assert issubclass(ConfigError, LeadscoreError)


def test_status_runs_the_block():
    ran = []
    with status("working"):
        ran.append(True)
    assert ran == [True]


def test_a_stage_run_as_a_program_prints_one_line_and_exits_2(tmp_path):
    """`python -m leadscore.pipeline.<stage>` (what dvc.yaml runs), with a params file that is not there."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "leadscore.pipeline.generate",
            "--leads-out",
            str(tmp_path / "leads.parquet"),
            "--truth-out",
            str(tmp_path / "truth.parquet"),
            "--params",
            str(tmp_path / "missing.yaml"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 2, result.stderr
    assert "missing.yaml: parameters file not found" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing written
