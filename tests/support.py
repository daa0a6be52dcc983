"""Helpers the tests share (importable as ``support``: pytest puts tests/ on sys.path).

Fixtures live in conftest.py; plain functions and constants live here, so no test imports conftest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from filelock import FileLock

from leadscore.config import Params
from leadscore.pipeline.local import LocalRun, run_stages
from leadscore.pipeline.local import small_params as small_params  # the tests import it from here
from leadscore.pipeline.paths import stage_commands

if TYPE_CHECKING:
    import nbformat

REPO_ROOT = Path(__file__).resolve().parents[1]
DVC_YAML = REPO_ROOT / "dvc.yaml"
NOTEBOOKS = REPO_ROOT / "notebooks"
# Real public datasets live beside the repo (../shared/datasets), never inside it; an env var lets a
# checkout elsewhere (e.g. a git worktree) point at them.
SHARED_DATASETS = Path(os.environ.get("LEADSCORE_SHARED_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))
# The default size: the e2e quality floors are the ones promised for the default data.
N_LEADS = 100_000


def run_pipeline(
    params: Params,
    workdir: Path,
    *,
    through: str = "predict",
    skip: tuple[str, ...] = ("register",),
    start: str | None = None,
) -> LocalRun:
    """The stages of the repo's dvc.yaml, in-process, with every file under ``workdir`` (from ``start``).

    ``skip``: stages not to run (e.g. ``baselines`` when only the scorer is needed).
    """
    return run_stages(params, workdir=workdir, dvc_yaml=DVC_YAML, through=through, skip=skip, start=start)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """A directory ``build`` fills once per test session, even under pytest-xdist; returns it.

    Each xdist worker has its own session: the first worker to need ``name`` builds it in a directory
    all workers share (under a file lock), and the others wait and read the same files. What is built
    there is read-only to the tests (they write their own outputs under ``tmp_path``).
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        path = tmp_path_factory.mktemp(name)
        build(path)
        return path
    path = tmp_path_factory.getbasetemp().parent / f"shared-{name}"
    with FileLock(f"{path}.lock"):
        if not (path / ".complete").exists():
            shutil.rmtree(path, ignore_errors=True)  # what a failed attempt left
            path.mkdir()
            build(path)
            (path / ".complete").touch()
    return path


def run_pipeline_once(
    params: Params,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    through: str,
    skip: tuple[str, ...] = ("register",),
) -> LocalRun:
    """:func:`run_pipeline` for a session fixture: the stages run once per session (:func:`built_once`)."""

    def build(root: Path) -> None:
        run_pipeline(params, root, through=through, skip=skip)

    return local_run(built_once(tmp_path_factory, name, build), through=through)


def local_run(workdir: Path, *, through: str) -> LocalRun:
    """The :class:`LocalRun` of the repo's stages already run under ``workdir`` (up to ``through``)."""
    return LocalRun.through(workdir, dvc_yaml=DVC_YAML, through=through)


def pipeline_env(store: Path, src: Path | None = None) -> dict[str, str]:
    """Environment for subprocesses: the venv first on PATH, a private MLflow store, no telemetry.

    ``src``: run that copy's package (PYTHONPATH) rather than the installed one.
    """
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{store}"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DVC_NO_ANALYTICS"] = "1"
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def run_command(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``cmd``; fail the test with the tail of its output if it fails."""
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def project_path(root: Path, stage: str, option: str) -> Path:
    """A file of the project at ``root``, where its dvc.yaml says ``stage``'s ``--option`` is."""
    value = stage_commands(root / "dvc.yaml")[stage].options[option]
    return root / (value[0] if isinstance(value, list) else str(value))


def execute_notebook(name: str, parameters: str) -> nbformat.NotebookNode:
    """Run notebooks/``name`` top to bottom with its ``parameters`` cell replaced; return it with outputs."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{name} needs exactly one cell tagged 'parameters'"
    tagged[0].source = parameters
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb
